"""Forms of the sign-in, connection and account settings pages."""

from __future__ import annotations

from django import forms

from zoomadmin.accounts.models import ZoomPlan


class SwitchForm(forms.Form):
    connection = forms.IntegerField(min_value=1)


class AccountSettingsForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        strip=True,
        label="Account name",
        help_text="Zoom's API does not say what the account is called; every admin of it sees this name.",
    )
    plan = forms.ChoiceField(
        choices=ZoomPlan.choices,
        label="Zoom plan",
        help_text="Picks the rate limits zoomadmin keeps to for this account. Zoom's API does not report it.",
    )
