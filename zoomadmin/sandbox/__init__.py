"""The sandbox: an emulator of Zoom's OAuth server and SCIM2 API (docs/sandbox.md)."""

# The WSGI environ key holding when the server handed a request over (epoch microseconds), set by
# zoomadmin.wsgi. The sandbox counts a request against Zoom's per-second limits at that moment, as
# Zoom's edge does, not once Django's middleware has run: on a busy machine that can be tens of
# milliseconds later, past the end of the second the client sent it in.
ARRIVED_US = "zoomadmin.arrived_us"
