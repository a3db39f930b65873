"""Forms of the bulk-change pages."""

from __future__ import annotations

from django import forms


class StartForm(forms.Form):
    """Start a job; when the safeguard applies, the admin types the number of users it removes."""

    typed_count = forms.IntegerField(
        required=False,
        min_value=0,
        label="Number of users to deactivate or delete",
        help_text="Type the number shown above to confirm.",
    )
