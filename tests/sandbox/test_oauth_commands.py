"""`manage.py sandbox_app`: the credentials it prints work against the sandbox's token endpoint."""

from __future__ import annotations

import io
import re

import httpx2
import pytest
from django.core.management import CommandError, call_command

from zoomadmin.sandbox.models import OAuthApp, SandboxAccount, SandboxUser


def run(*args: str, **options: str) -> str:
    out = io.StringIO()
    call_command("sandbox_app", *args, stdout=out, **options)
    return out.getvalue()


def printed(output: str, name: str) -> str:
    match = re.search(rf"^{name}: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.mark.parametrize("ref", ["zoom_id", "name"])
def test_create_s2s_prints_credentials_that_get_a_token(
    sandbox_http: httpx2.Client, sandbox_account: SandboxAccount, sandbox_owner: SandboxUser, ref: str
) -> None:
    output = run("create-s2s", f"--account={getattr(sandbox_account, ref)}")

    client_id, secret = printed(output, "client_id"), printed(output, "client_secret")
    assert printed(output, "account_id") == sandbox_account.zoom_id
    response = sandbox_http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": sandbox_account.zoom_id},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "scim2:admin user:read:admin"


def test_create_s2s_for_an_unknown_account_fails(db: None) -> None:
    with pytest.raises(CommandError, match="no sandbox account"):
        run("create-s2s", "--account", "Nowhere Inc")
    assert not OAuthApp.objects.exists()


def test_register_dashboard_is_idempotent_with_given_credentials(db: None, settings: object) -> None:
    first = run(
        "register-dashboard",
        redirect_uri="http://localhost:8000/accounts/callback",
        client_id="demo-id",
        client_secret="demo-secret",
    )
    second = run(
        "register-dashboard",
        "--redirect-uri",
        "http://localhost:8000/accounts/callback",
        "--client-id",
        "demo-id",
        "--client-secret",
        "rotated-secret",
    )

    app = OAuthApp.objects.get()
    assert app.client_id == "demo-id"
    assert app.client_secret == "rotated-secret"
    assert app.kind == OAuthApp.Kind.USER
    assert app.redirect_uri_list() == ["http://localhost:8000/accounts/callback"]
    assert app.scopes == "scim2:admin user:read:user"
    assert "Registered" in first
    assert "Updated" in second
    assert "demo-secret" not in first + second
    assert "rotated-secret" not in second


def test_register_dashboard_without_credentials_generates_them_once(db: None) -> None:
    first = run("register-dashboard", "--redirect-uri", "http://localhost:8000/accounts/callback")
    second = run("register-dashboard", "--redirect-uri", "https://admin.example.com/accounts/callback")

    app = OAuthApp.objects.get()
    assert printed(first, "client_id") == printed(second, "client_id") == app.client_id
    assert printed(first, "client_secret") == app.client_secret
    assert app.client_secret not in second
    assert app.redirect_uri_list() == [
        "http://localhost:8000/accounts/callback",
        "https://admin.example.com/accounts/callback",
    ]


def test_register_dashboard_refuses_a_relative_redirect_uri(db: None) -> None:
    with pytest.raises(CommandError, match="absolute URL"):
        run("register-dashboard", "--redirect-uri", "/accounts/callback")


def test_list_shows_apps_without_secrets(sandbox_app: OAuthApp, sandbox_account: SandboxAccount) -> None:
    run("create-s2s", "--account", sandbox_account.name, "--name", "Okta provisioning")

    output = run("list")

    assert "test-client-id" in output
    assert "Okta provisioning" in output
    assert f"account={sandbox_account.zoom_id}" in output
    assert "redirect: http://testserver/accounts/callback" in output
    assert sandbox_app.client_secret not in output
    assert OAuthApp.objects.get(name="Okta provisioning").client_secret not in output
