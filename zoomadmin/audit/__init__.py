"""The audit log: one event for every change made through the dashboard (DESIGN invariant 5)."""
