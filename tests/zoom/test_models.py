"""Reading Zoom's (and RFC 7644 servers') payloads, and writing ours."""

from __future__ import annotations

from typing import Any

from scim2_models import Context

from zoomadmin.zoom.models import (
    ZoomEnterpriseUser,
    ZoomLoginExtension,
    ZoomProfileExtension,
    ZoomUser,
    error_parse,
    group_parse,
    user_build,
    user_list_parse,
    user_parse,
    user_payload,
)

# Zoom's Get a user example (reference zoom-scim2.md §7), plus attributes nobody declared.
ZOOM_USER: dict[str, Any] = {
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser",
        "urn:ietf:params:scim:schemas:extension:zoom:1.0:User",
    ],
    "id": "zJKyaiAyTNC-MWjiWC18KQ",
    "meta": {"resourceType": "User", "version": 'W/"123456"', "created": "2024-01-10T12:00:00Z"},
    "userName": "jill.chill@example.com",
    "name": {"givenName": "Jill", "familyName": "Chill"},
    "displayName": "Jill Chill",
    "emails": [{"type": "work", "value": "jill.chill@example.com", "primary": True}],
    "active": True,
    "userType": "Licensed",
    "phoneNumbers": [{"type": "office", "value": "+1 8005550100"}],
    "roles": {"display": "Member", "value": "Member", "primary": True},
    "groups": {"value": "kuWhUCrrT4q9Xy17rSR8js", "display": "Engineering"},
    "someNewZoomAttribute": {"nested": 1},
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        "department": "Engineering",
        "manager": "boss@example.com",
        "customAttribute7": "x",
    },
    "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser": {"loginType": {"workEmail": False, "sso": True}},
    "urn:ietf:params:scim:schemas:extension:zoom:1.0:User": {
        "personalLinkName": "jill.chill",
        "pronouns": "she/her",
        "zoomIQ": True,
        "zoomWhiteboard": True,
        "zoomUnited": "zoomUnitedProUS",
        "aFlagFromNextYear": True,
    },
}


def test_zoom_user_is_read_with_extensions_and_single_objects() -> None:
    user = user_parse(ZOOM_USER)
    assert (user.id, user.email, user.active, user.user_type) == (
        "zJKyaiAyTNC-MWjiWC18KQ",
        "jill.chill@example.com",
        True,
        "Licensed",
    )
    assert [role.value for role in user.roles or []] == ["Member"]
    assert [group.value for group in user.groups or []] == ["kuWhUCrrT4q9Xy17rSR8js"]
    assert [phone.type for phone in user.phone_numbers or []] == ["office"]
    enterprise = user[ZoomEnterpriseUser]
    assert enterprise is not None
    assert enterprise.manager == "boss@example.com"
    login = user[ZoomLoginExtension]
    assert login is not None
    assert login.login_type is not None
    assert (login.login_type.sso, login.login_type.work_email) == (True, False)
    profile = user[ZoomProfileExtension]
    assert profile is not None
    assert (profile.pronouns, profile.zoom_iq, profile.zoom_united) == ("she/her", True, "zoomUnitedProUS")


def test_rfc_manager_complex_type_is_read_as_its_value() -> None:
    payload = {
        **ZOOM_USER,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        },
    }
    enterprise = user_parse(payload)[ZoomEnterpriseUser]
    assert enterprise is not None
    assert enterprise.manager == "26118915-6090-4610-87e4-49d8ca9f808d"


def test_odd_email_does_not_break_reading() -> None:
    user = user_parse({**ZOOM_USER, "emails": [{"value": "not-an-email", "type": "work"}]})
    assert user.emails is not None
    assert user.emails[0].value == "not-an-email"


def test_list_without_resources_is_empty() -> None:
    page = user_list_parse(
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "startIndex": 1}
    )
    assert (page.total_results, page.resources) == (0, None)


def test_group_with_empty_schemas_and_alias() -> None:
    group = group_parse(
        {
            "schemas": [],
            "id": "kuWhUCrrT4q9Xy17rSR8js",
            "displayName": "Engineering",
            "urn:ietf:params:scim:schemas:extension:zoom:2.0:Group": {"emailAlias": "eng@example.com"},
            "members": {"value": "zJKyaiAyTNC-MWjiWC18KQ", "display": "jill.chill@example.com"},
        }
    )
    assert (group.display_name, group.email_alias) == ("Engineering", "eng@example.com")
    assert [member.value for member in group.members or []] == ["zJKyaiAyTNC-MWjiWC18KQ"]


def test_error_status_as_number_or_string() -> None:
    assert (
        error_parse({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "d", "status": 400}).status
        == 400
    )
    rfc = error_parse(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "detail": "taken",
            "status": "409",
            "scimType": "uniqueness",
        }
    )
    assert (rfc.status, rfc.scim_type, rfc.detail) == (409, "uniqueness", "taken")


def test_create_payload_holds_only_what_was_given() -> None:
    payload = user_payload(
        user_build(email="a@b.com", first_name="A", last_name="B", manager="boss@b.com", login_sso=True)
    )
    assert payload == {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser",
        ],
        "userName": "a@b.com",
        "name": {"givenName": "A", "familyName": "B"},
        "emails": [{"value": "a@b.com", "type": "work", "primary": True}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "boss@b.com"},
        "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser": {"loginType": {"sso": True}},
    }


def test_read_user_written_back_keeps_zoom_spellings_and_drops_unknowns() -> None:
    payload = user_payload(user_parse(ZOOM_USER), context=Context.RESOURCE_REPLACEMENT_REQUEST)
    assert payload["urn:ietf:params:scim:schemas:extension:zoom:1.0:User"]["zoomIQ"] is True
    assert "someNewZoomAttribute" not in payload
    assert "id" not in payload
    assert "meta" not in payload


def test_partial_update_payload() -> None:
    assert user_payload(ZoomUser(title="CTO"), context=Context.RESOURCE_REPLACEMENT_REQUEST) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "title": "CTO",
    }
