"""Forms of the sign-in and connection pages."""

from __future__ import annotations

from django import forms


class SwitchForm(forms.Form):
    connection = forms.IntegerField(min_value=1)


class AccountNameForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True, label="Account name")
