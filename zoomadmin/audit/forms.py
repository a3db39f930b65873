"""The audit log's filter form: every field optional, every bad value dropped with a sentence."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.audit.models import AuditAction, AuditResult
from zoomadmin.audit.services import AuditFilters, audit_people

# Dates outside this range are typos (year 20250) or probes, not audit questions.
EARLIEST = date(2000, 1, 1)
LATEST = date(9998, 12, 31)


class AuditFilterForm(forms.Form):
    """The filters of the audit log page and its CSV export, read from the query string."""

    person = forms.ChoiceField(required=False, label="Who")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditAction.choices], label="Action")
    target = forms.CharField(
        required=False,
        max_length=200,
        strip=True,
        label="Target",
        help_text="Part of an email, a group name or a Zoom id.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    result = forms.ChoiceField(required=False, choices=[("", "Any result"), *AuditResult.choices], label="Result")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, account: ZoomAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Anyone"), *audit_people(account)]  # type: ignore[attr-defined]

    def clean_since(self) -> date | None:
        return self._plausible(self.cleaned_data.get("since"))

    def clean_until(self) -> date | None:
        return self._plausible(self.cleaned_data.get("until"))

    @staticmethod
    def _plausible(day: date | None) -> date | None:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(f"Pick a date between {EARLIEST:%Y} and {LATEST:%Y}.")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            # Keep the range the admin meant rather than showing nothing.
            cleaned["since"], cleaned["until"] = until, since
        return cleaned

    def problems(self) -> list[str]:
        """One sentence per filter that was ignored because its value made no sense."""
        sentences = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else name
            sentences.append(f"Ignored the “{label}” filter: {' '.join(str(error) for error in errors)}")
        return sentences

    def filters(self) -> AuditFilters:
        """The valid filters as keywords of `audit_events` (invalid ones are left out, so they narrow nothing)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        valid = {name: value for name, value in self.cleaned_data.items() if name not in self.errors and value}
        return cast(AuditFilters, valid)
