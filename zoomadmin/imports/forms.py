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


class UploadForm(forms.Form):
    """A CSV file to plan; the size limit is checked by the view (it comes from settings)."""

    file = forms.FileField(
        label="CSV file",
        help_text="Columns such as Email, First Name, Last Name, Department, Job Title, User Type, Groups, Action.",
    )
    create_missing_groups = forms.BooleanField(
        required=False,
        label="Create missing groups",
        help_text="Groups the file names that do not exist yet are created; otherwise such rows are errors.",
    )


class SelectionForm(forms.Form):
    """A bulk action on users picked in the users list (ticked ids, or every user matching its filters)."""

    ACTIONS = (
        ("deactivate", "Deactivate"),
        ("reactivate", "Reactivate"),
        ("delete", "Delete"),
        ("add_to_group", "Add to group"),
        ("remove_from_group", "Remove from group"),
    )

    action = forms.ChoiceField(choices=ACTIONS, label="Action")
    # Not "group": the users list's filters (carried along) already use that name.
    target_group = forms.ChoiceField(required=False, label="Group", help_text="For adding to or removing from a group.")

    def __init__(self, *args: object, groups: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["target_group"].choices = [("", "—"), *groups]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("action") in ("add_to_group", "remove_from_group") and not cleaned.get("target_group"):
            self.add_error("target_group", "Choose the group.")
        return cleaned
