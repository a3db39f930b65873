"""What any client sees on the sandbox's edges: unknown paths, wrong methods, bad tokens, the icon.

Through the in-process transport, which (unlike Django's test client) enforces CSRF like a server.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from django.test import RequestFactory
from django.urls import get_resolver

from zoomadmin.sandbox.middleware import SANDBOX_URLCONF

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize("method", ["GET", *WRITE_METHODS])
@pytest.mark.parametrize("path", ["/scim2/Bulk", "/scim2/Me", "/scim2/ServiceProviderConfig", "/scim2/Schemas"])
def test_unknown_scim_endpoint_is_zoom_404_whatever_the_method(scim: httpx2.Client, method: str, path: str) -> None:
    response = scim.request(method, path, json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]})

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "schemas": [SCIM_ERROR],
        "detail": "The requested resource was not found.",
        "status": 404,
    }


@pytest.mark.parametrize("method", ["GET", *WRITE_METHODS])
@pytest.mark.parametrize("path", ["/v2/users", "/v2/users/me/settings", "/oauth/introspect", "/nowhere"])
def test_unknown_api_endpoint_is_zoom_404_whatever_the_method(
    sandbox_http: httpx2.Client, method: str, path: str
) -> None:
    response = sandbox_http.request(method, path, data={"grant_type": "client_credentials"})

    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/scim2/Users", "GET, POST"),
        ("PATCH", "/scim2/Groups", "GET, POST"),
        ("POST", "/scim2/Users/abc", "GET, PUT, PATCH, DELETE"),
        ("PUT", "/scim2/Groups/abc", "GET, PATCH, DELETE"),
    ],
)
def test_wrong_method_on_a_scim_path_is_a_scim_405(scim: httpx2.Client, method: str, path: str, allow: str) -> None:
    response = scim.request(method, path)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == {
        "schemas": [SCIM_ERROR],
        "detail": f"The {method} method is not allowed on this resource.",
        "status": 405,
    }


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/oauth/token", "POST"),
        ("PUT", "/oauth/token", "POST"),
        ("GET", "/oauth/revoke", "POST"),
        ("POST", "/v2/users/me", "GET"),
        ("DELETE", "/v2/users/me", "GET"),
        ("PUT", "/oauth/authorize", "GET, POST"),
        ("DELETE", "/oauth/authorize", "GET, POST"),
        ("POST", "/", "GET"),
        ("POST", "/favicon.ico", "GET, HEAD"),
    ],
)
def test_wrong_method_elsewhere_is_zoom_shaped_json_405(
    sandbox_http: httpx2.Client, method: str, path: str, allow: str
) -> None:
    # Never Django's empty 405 or its HTML CSRF page: clients parse Zoom's JSON.
    response = sandbox_http.request(method, path)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == {"code": 405, "message": "Method Not Allowed"}


def test_consent_form_post_is_still_csrf_protected(sandbox_http: httpx2.Client) -> None:
    response = sandbox_http.post("/oauth/authorize?response_type=code&client_id=x", data={"decision": "authorize"})

    assert response.status_code == 403
    assert "CSRF" in response.text


@pytest.mark.parametrize("path", ["/scim2/Users", "/scim2/Groups/abc", "/v2/users/me"])
def test_bad_token_gets_code_124(sandbox_http: httpx2.Client, path: str) -> None:
    response = sandbox_http.get(path, headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/scim2/Users/abc", {"schemas": [SCIM_ERROR], "detail": "Internal server error.", "status": 500}),
        ("/v2/users/me", {"code": 500, "message": "Internal server error."}),
    ],
)
def test_a_crash_is_a_zoom_shaped_500(path: str, body: dict[str, Any]) -> None:
    # The sandbox URLconf's handler500, as Django calls it for an unhandled exception (DEBUG=false).
    handler = get_resolver(SANDBOX_URLCONF).resolve_error_handler(500)

    response = handler(RequestFactory().get(path))

    assert response.status_code == 500
    assert json.loads(response.content) == body
