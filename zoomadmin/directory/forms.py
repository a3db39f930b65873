"""The directory pages' forms: the users list's filters (read from a hand-editable URL) and the edit forms.

The filter form never refuses a URL: a value that makes no sense is dropped with a sentence
(`problems()`) and the list falls back to its default for it, so a bookmark with a stale group or
a page size of a million still opens.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email

from zoomadmin.accounts.models import ZoomAccount
from zoomadmin.directory.models import DirectoryGroup, UserRole, UserStatus
from zoomadmin.directory.search import DEFAULT_SORT, LICENSES, SORTS, UserFilters

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 25
MAX_SEARCH_CHARS = 200
# Zoom ids are ~22 characters; a selection is at most one page of rows.
MAX_SELECTED = max(PAGE_SIZES)
# Old links and people say "deactivated"; the mirror says "inactive".
STATUS_ALIASES = {"deactivated": UserStatus.INACTIVE.value, "disabled": UserStatus.INACTIVE.value}
USER_TYPES = ("Basic", "Licensed", "On-Prem")
# Sort keys as the column headers send them: `name`, or `-name` for the reverse order.
SORT_CHOICES = [(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS]


class UserFilterForm(forms.Form):
    """The users list's search, filters, sort and page size, as the query string carries them."""

    q = forms.CharField(
        required=False,
        strip=True,
        label="Search",
        help_text=(
            "Part of a name, email, department, job title or employee number (one or two letters: the start "
            "of a name or email). Press / to jump here."
        ),
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false", "data-search-shortcut": ""}
        ),
    )
    status = forms.ChoiceField(required=False, label="Status", choices=[("", "Any status"), *UserStatus.choices])
    user_type = forms.CharField(required=False, max_length=32, label="User type")
    license = forms.ChoiceField(
        required=False, label="License", choices=[("", "Any license"), *sorted(LICENSES.items(), key=lambda i: i[1])]
    )
    department = forms.CharField(required=False, max_length=200, label="Department")
    group = forms.CharField(required=False, max_length=64, label="Group")
    role = forms.ChoiceField(required=False, label="Role", choices=[("", "Any role"), *UserRole.choices])
    sort = forms.ChoiceField(required=False, label="Sort by", choices=SORT_CHOICES, widget=forms.HiddenInput)
    per_page = forms.TypedChoiceField(
        required=False,
        label="Per page",
        coerce=int,
        choices=[(str(size), str(size)) for size in PAGE_SIZES],
    )

    def __init__(self, *args: Any, account: ZoomAccount, facets: dict[str, list[Any]] | None = None, **kwargs: Any):
        data = args[0] if args else kwargs.get("data")
        if data is not None:
            # Accept the words people use for a status; keep the rest of the query string as it is.
            data = data.copy()
            status = str(data.get("status", "")).strip().lower()
            data["status"] = STATUS_ALIASES.get(status, status)
            # So the page-size menu shows the size in use when the URL does not name one.
            data.setdefault("per_page", str(DEFAULT_PAGE_SIZE))
            if args:
                args = (data, *args[1:])
            else:
                kwargs["data"] = data
        super().__init__(*args, **kwargs)
        self.account = account
        self._group: DirectoryGroup | None = None
        facets = facets or {}
        # The menus offer what the mirror holds, plus the value in the URL (so it stays visible).
        self._menu("user_type", "Any type", facets.get("user_types") or list(USER_TYPES))
        self._menu("department", "Any department", facets.get("departments", []))
        group_choices = [("", "Any group"), *facets.get("groups", [])]
        self.fields["group"].widget = forms.Select(choices=group_choices)

    def _menu(self, name: str, empty: str, values: list[str]) -> None:
        current = self.data.get(name, "") if self.is_bound else ""
        options = list(values)
        if current and current not in options:
            options.append(current)
        self.fields[name].widget = forms.Select(choices=[("", empty), *((value, value) for value in options)])

    def clean_q(self) -> str:
        text: str = self.cleaned_data.get("q") or ""
        # A pasted paragraph is not a search; searching its first part is kinder than refusing it.
        return text[:MAX_SEARCH_CHARS]

    def clean_group(self) -> DirectoryGroup | None:
        zoom_id = self.cleaned_data.get("group") or ""
        if not zoom_id:
            return None
        group = DirectoryGroup.objects.filter(account=self.account, zoom_id=zoom_id).first()
        if group is None:
            raise forms.ValidationError("No such group in this account (it may have been deleted).")
        # The menu names the group even when the menu's list was cut short.
        self.fields["group"].widget.choices = [
            *self.fields["group"].widget.choices,
            (group.zoom_id, group.display_name),
        ]
        return group

    def problems(self) -> list[str]:
        """One sentence per part of the URL that was ignored because its value made no sense."""
        sentences = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else name
            text = " ".join(str(error) for error in errors)
            if name == "per_page":
                text = f"Showing {DEFAULT_PAGE_SIZE} per page; choose {', '.join(map(str, PAGE_SIZES))}."
            sentences.append(f"Ignored “{label}”: {text}")
        return sentences

    def filters(self) -> UserFilters:
        """The valid filters (invalid ones are left at their default, so they narrow nothing)."""
        if not self.is_bound:
            return UserFilters()
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return UserFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            user_type=data.get("user_type") or "",
            license=data.get("license") or "",
            department=data.get("department") or "",
            group=data.get("group"),
            role=data.get("role") or "",
            sort=data.get("sort") or DEFAULT_SORT,
        )

    def page_size(self) -> int:
        """Rows per page: one of `PAGE_SIZES`, else the default."""
        if not self.is_bound:
            return DEFAULT_PAGE_SIZE
        self.is_valid()
        size = self.cleaned_data.get("per_page") if "per_page" not in self.errors else None
        return size if isinstance(size, int) and size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def selected_ids(values: list[str]) -> list[str]:
    """The Zoom ids of rows ticked in the list (`id` parameters), de-duplicated, at most `MAX_SELECTED`."""
    seen: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if value and len(value) <= 64:
            seen.setdefault(value, None)
    return list(seen)[:MAX_SELECTED]


class UserEditForm(forms.Form):
    """The fields of a user an admin can change in place (Zoom's PUT is partial: only changed ones are sent)."""

    first_name = forms.CharField(required=False, max_length=100, label="First name")
    last_name = forms.CharField(required=False, max_length=100, label="Last name")
    display_name = forms.CharField(required=False, max_length=200, label="Display name")
    title = forms.CharField(required=False, max_length=200, label="Job title")
    department = forms.CharField(required=False, max_length=200, label="Department")
    manager = forms.CharField(required=False, max_length=254, label="Manager", help_text="The manager's email address.")
    employee_number = forms.CharField(required=False, max_length=100, label="Employee number")
    cost_center = forms.CharField(required=False, max_length=200, label="Cost center")
    organization = forms.CharField(required=False, max_length=200, label="Organization")
    division = forms.CharField(required=False, max_length=200, label="Division")
    user_type = forms.ChoiceField(
        required=False, label="User type", choices=[("", "Leave as it is"), *((t, t) for t in USER_TYPES)]
    )

    def clean_manager(self) -> str:
        manager: str = self.cleaned_data.get("manager") or ""
        if manager:
            try:
                validate_email(manager)
            except forms.ValidationError as exc:
                raise forms.ValidationError("Enter the manager's email address.") from exc
        return manager


class UserCreateForm(forms.Form):
    """A new user: Zoom needs the email and a name; the rest can be set later."""

    email = forms.EmailField(max_length=254, label="Email", help_text="The address the person signs in with.")
    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    user_type = forms.ChoiceField(label="User type", choices=[(t, t) for t in USER_TYPES], initial="Basic")
    title = forms.CharField(required=False, max_length=200, label="Job title")
    department = forms.CharField(required=False, max_length=200, label="Department")


class UserDeleteForm(forms.Form):
    """Deleting a user is confirmed by typing their email."""

    confirm_email = forms.CharField(max_length=254, label="Type the user's email to confirm")

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_confirm_email(self) -> str:
        typed: str = (self.cleaned_data.get("confirm_email") or "").strip()
        if typed.casefold() != self.email.casefold():
            raise forms.ValidationError("That is not this user's email; nothing was deleted.")
        return typed


class GroupNameForm(forms.Form):
    """A group's name (create and rename)."""

    name = forms.CharField(max_length=200, strip=True, label="Group name")


class GroupDeleteForm(forms.Form):
    """Deleting a group is confirmed by typing its name."""

    confirm_name = forms.CharField(max_length=300, label="Type the group's name to confirm")

    def __init__(self, *args: Any, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def clean_confirm_name(self) -> str:
        typed: str = (self.cleaned_data.get("confirm_name") or "").strip()
        if typed != self.name.strip():
            raise forms.ValidationError("That is not this group's name; nothing was deleted.")
        return typed
