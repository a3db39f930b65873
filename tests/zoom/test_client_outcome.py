"""Writes whose outcome is unknown: `OutcomeUnknown` (reconcile first) versus `Unavailable` (retry).

The timeouts are real: the in-process WSGI transport runs the sandbox synchronously and cannot time
out, so these tests reach the sandbox through pytest-django's live server over a socket, with a
short client timeout and the sandbox account's latency and hang knobs. After each timeout the test
looks at the sandbox's own database (what Zoom holds), which is why the outcome was unknown: the
same exception stands for a change that landed and one that did not.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from tests.zoom.support import FixedTokens, RefreshingTokens, issue_pair, revoke_access
from zoomadmin.sandbox.models import OAuthApp, Role, SandboxAccount, SandboxUser
from zoomadmin.zoom.client import ZoomClient
from zoomadmin.zoom.errors import OutcomeUnknown, RateLimited, Unavailable
from zoomadmin.zoom.models import ZoomUser, user_build
from zoomadmin.zoom.ratelimit import default_limiter

# The client's read timeout, and how much longer the sandbox takes: far apart, so a loaded
# machine cannot turn a timeout into an answer.
CLIENT_TIMEOUT = 0.3
SLOW_MS = 2_000


def jill() -> ZoomUser:
    return user_build(email="jill@acme.example.com", first_name="Jill", last_name="Chill")


def zoom_holds(user_name: str) -> bool:
    return SandboxUser.objects.filter(user_name=user_name).exists()


def wait_until_zoom_holds(user_name: str, *, within: float = 20.0) -> None:
    """Wait for the sandbox's request thread, which outlives our timeout, to finish its work."""
    deadline = time.monotonic() + within
    while not zoom_holds(user_name):
        assert time.monotonic() < deadline, f"the sandbox never created {user_name}"
        time.sleep(0.05)


@pytest.fixture
def real_client() -> Iterator[Callable[..., ZoomClient]]:
    """ZoomClients on real sockets (the production transport) with a short timeout.

    They are closed after the test: a kept-alive connection would hold a live-server thread, and
    its database session, open past the test database's teardown.
    """
    clients: list[ZoomClient] = []

    def make(base_url: str, token: str) -> ZoomClient:
        client = ZoomClient(
            api_base_url=base_url,
            account_id=f"test-{uuid.uuid4().hex}",
            plan="business",
            tokens=FixedTokens(token),
            limiter=default_limiter(),
            wait_for_slot=True,
            transport=httpx2.HTTPTransport(),
            timeout=CLIENT_TIMEOUT,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def live_sandbox(live_server: Any, settings: Any) -> str:
    """The live server's URL, answered by the sandbox (its host routing, read on every request)."""
    settings.SANDBOX_HOSTS = [*settings.SANDBOX_HOSTS, "localhost"]
    return str(live_server.url)


@pytest.fixture
def acme(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
) -> tuple[SandboxAccount, SandboxUser, str]:
    """A sandbox account, its owner and the owner's token."""
    account = make_sandbox_account(name="Acme Corp", vanity_domain="acme.example.com")
    owner = make_sandbox_user(account, user_name="owner@acme.example.com", role=Role.OWNER)
    return account, owner, make_token(account, owner)


def set_knobs(account: SandboxAccount, **knobs: Any) -> None:
    SandboxAccount.objects.filter(pk=account.pk).update(**knobs)


# --- Real timeouts against the live sandbox -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_create_that_times_out_but_lands_is_outcome_unknown(
    live_sandbox: str, real_client: Callable[..., ZoomClient], acme: tuple[SandboxAccount, SandboxUser, str]
) -> None:
    account, _owner, token = acme
    # The sandbox sleeps its latency, then creates the user: our read timeout fires in between.
    set_knobs(account, latency_mean_ms=SLOW_MS)
    client = real_client(live_sandbox, token)
    with pytest.raises(OutcomeUnknown) as caught:
        client.create_user(jill())
    assert not isinstance(caught.value, Unavailable)
    assert (caught.value.method, caught.value.path, caught.value.reason) == ("POST", "/scim2/Users", "timeout")
    assert caught.value.status is None
    assert caught.value.message.startswith("Zoom did not confirm whether the change was made")
    assert token not in str(caught.value) + caught.value.detail
    # Zoom did make the change: retrying the create now would be a second create.
    wait_until_zoom_holds("jill@acme.example.com")
    # Reconciling, as docs/zoom-client.md says: look the user up by userName.
    set_knobs(account, latency_mean_ms=0)
    found = client.find_user_by_email("jill@acme.example.com")
    assert found is not None
    assert found.id == SandboxUser.objects.get(user_name="jill@acme.example.com").zoom_id


@pytest.mark.django_db(transaction=True)
def test_create_that_times_out_without_landing_is_the_same_outcome_unknown(
    live_sandbox: str, real_client: Callable[..., ZoomClient], acme: tuple[SandboxAccount, SandboxUser, str]
) -> None:
    account, _owner, token = acme
    # The sandbox hangs, then would answer 504 without running the create.
    set_knobs(account, timeout_rate=1.0, timeout_hang_seconds=SLOW_MS / 1000)
    client = real_client(live_sandbox, token)
    with pytest.raises(OutcomeUnknown) as caught:
        client.create_user(jill())
    assert caught.value.reason == "timeout"
    # Reconciling finds nothing, so this create may be sent again.
    set_knobs(account, timeout_rate=0.0)
    assert client.find_user_by_email("jill@acme.example.com") is None
    assert not zoom_holds("jill@acme.example.com")
    assert client.create_user(jill()).user_name == "jill@acme.example.com"


@pytest.mark.django_db(transaction=True)
def test_update_that_times_out_is_outcome_unknown_and_reconciled_by_rereading(
    live_sandbox: str, real_client: Callable[..., ZoomClient], acme: tuple[SandboxAccount, SandboxUser, str]
) -> None:
    account, owner, token = acme
    set_knobs(account, latency_mean_ms=SLOW_MS)
    client = real_client(live_sandbox, token)
    with pytest.raises(OutcomeUnknown) as caught:
        client.update_user(owner.zoom_id, ZoomUser(title="CEO"))
    assert (caught.value.method, caught.value.path) == ("PUT", f"/scim2/Users/{owner.zoom_id}")
    deadline = time.monotonic() + 20
    while SandboxUser.objects.get(pk=owner.pk).title != "CEO":
        assert time.monotonic() < deadline, "the sandbox never applied the update"
        time.sleep(0.05)
    set_knobs(account, latency_mean_ms=0)
    assert client.get_user(owner.zoom_id).title == "CEO"


@pytest.mark.django_db(transaction=True)
def test_read_that_times_out_is_unavailable(
    live_sandbox: str, real_client: Callable[..., ZoomClient], acme: tuple[SandboxAccount, SandboxUser, str]
) -> None:
    account, owner, token = acme
    set_knobs(account, latency_mean_ms=SLOW_MS)
    with pytest.raises(Unavailable) as caught:
        real_client(live_sandbox, token).get_user(owner.zoom_id)
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.detail == "ReadTimeout"
    assert "did not answer in time" in caught.value.message


def test_create_to_a_refused_connection_is_unavailable(real_client: Callable[..., ZoomClient]) -> None:
    # A port with nothing listening: the connection is refused, the request never leaves.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unavailable) as caught:
        real_client(f"http://127.0.0.1:{port}", "t").create_user(jill())
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.detail == "ConnectError"
    assert "cannot be reached" in caught.value.message


# --- Zoom's own answers (in-process sandbox) ------------------------------------------------------


def test_gateway_timeout_on_a_write_is_outcome_unknown(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    account = make_sandbox_account(timeout_rate=1.0, timeout_hang_seconds=0.01)
    owner = make_sandbox_user(account, role=Role.OWNER)
    client = make_client(FixedTokens(make_token(account, owner)))
    with pytest.raises(OutcomeUnknown) as caught:
        client.set_user_active(owner.zoom_id, False)
    assert (caught.value.status, caught.value.reason, caught.value.method) == (504, "timeout", "PATCH")
    assert caught.value.detail == "Gateway timeout."
    # The same 504 to a read changed nothing: plain Unavailable.
    with pytest.raises(Unavailable) as read:
        client.get_user(owner.zoom_id)
    assert read.value.status == 504
    assert not isinstance(read.value, OutcomeUnknown)


def test_server_error_on_a_write_is_unavailable(
    make_sandbox_account: Callable[..., SandboxAccount],
    make_sandbox_user: Callable[..., SandboxUser],
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    account = make_sandbox_account(error_rate=1.0)
    owner = make_sandbox_user(account, role=Role.OWNER)
    with pytest.raises(Unavailable) as caught:
        make_client(FixedTokens(make_token(account, owner))).create_user(jill())
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.status in {500, 502, 503}
    assert not zoom_holds("jill@acme.example.com")


def test_a_write_refused_by_our_limiter_is_rate_limited_and_not_sent(
    sandbox_account: SandboxAccount,
    sandbox_owner: SandboxUser,
    make_token: Callable[..., str],
    make_client: Callable[..., ZoomClient],
) -> None:
    client = make_client(FixedTokens(make_token(sandbox_account, sandbox_owner)), wait_for_slot=False)
    # Zoom said 429 a moment ago: our limiter holds the Light bucket for 30 s.
    default_limiter().penalize(account_id=client.account_id, plan=client.plan, label="Light", retry_after=30)
    with pytest.raises(RateLimited):
        client.create_user(jill())
    assert not zoom_holds("jill@acme.example.com")


def test_a_write_refused_for_an_expired_token_is_sent_again_once_and_lands_once(
    sandbox_app: OAuthApp, sandbox_owner: SandboxUser, make_client: Callable[..., ZoomClient], settings: Any
) -> None:
    settings.ZOOM_HTTP_TRANSPORT = "zoomadmin.sandbox.transport.sandbox_transport"
    access, refresh = issue_pair(sandbox_app, sandbox_owner)
    revoke_access(access)
    created = make_client(RefreshingTokens(access, refresh)).create_user(jill())
    assert created.user_name == "jill@acme.example.com"
    assert SandboxUser.objects.filter(user_name="jill@acme.example.com").count() == 1


# --- A broken network or server, standing in for what the sandbox cannot do ------------------------


def broken(error: type[Exception], sent: list[httpx2.Request]) -> httpx2.MockTransport:
    """The network between us and Zoom failing with `error`; `sent` collects what was attempted."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        raise error("simulated", request=request)

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx2.ReadTimeout, "timeout"),
        (httpx2.WriteTimeout, "timeout"),
        (httpx2.ReadError, "disconnected"),
        (httpx2.WriteError, "disconnected"),
        (httpx2.RemoteProtocolError, "disconnected"),
        (httpx2.DecodingError, "unreadable"),
    ],
)
def test_a_write_that_may_have_been_sent_is_outcome_unknown_and_not_sent_again(
    error: type[Exception], reason: str, make_client: Callable[..., ZoomClient]
) -> None:
    sent: list[httpx2.Request] = []
    # FixedTokens fails the test on a refresh: nothing may turn this into a second attempt.
    client = make_client(FixedTokens("token-that-must-not-leak"), transport=broken(error, sent))
    with pytest.raises(OutcomeUnknown) as caught:
        client.delete_user("u&1")
    assert (caught.value.method, caught.value.path, caught.value.reason) == ("DELETE", "/scim2/Users/u&1", reason)
    assert caught.value.detail == error.__name__
    assert "token-that-must-not-leak" not in str(caught.value) + caught.value.detail
    assert [request.method for request in sent] == ["DELETE"]


@pytest.mark.parametrize(
    "error",
    [httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ConnectError, httpx2.ProxyError, httpx2.UnsupportedProtocol],
)
def test_a_write_that_never_left_is_unavailable(error: type[Exception], make_client: Callable[..., ZoomClient]) -> None:
    with pytest.raises(Unavailable) as caught:
        make_client(FixedTokens("t"), transport=broken(error, [])).create_user(jill())
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.detail == error.__name__


@pytest.mark.parametrize("error", [httpx2.ReadTimeout, httpx2.RemoteProtocolError, httpx2.DecodingError])
def test_a_read_without_a_usable_answer_is_unavailable(
    error: type[Exception], make_client: Callable[..., ZoomClient]
) -> None:
    with pytest.raises(Unavailable) as caught:
        make_client(FixedTokens("t"), transport=broken(error, [])).list_users()
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize(
    ("status", "operation"),
    [
        (201, lambda client: client.create_user(jill())),
        (200, lambda client: client.update_user("u1", ZoomUser(title="CTO"))),
        (200, lambda client: client.set_user_active("u1", False)),
        (201, lambda client: client.create_group("Engineering")),
    ],
)
def test_an_unreadable_success_to_a_write_is_outcome_unknown(
    status: int, operation: Callable[[ZoomClient], object], make_client: Callable[..., ZoomClient]
) -> None:
    # A server in maintenance mode behind a proxy that still answers 2xx with an HTML page.
    transport = httpx2.MockTransport(lambda request: httpx2.Response(status, text="<html>maintenance</html>"))
    with pytest.raises(OutcomeUnknown) as caught:
        operation(make_client(FixedTokens("t"), transport=transport))
    assert caught.value.reason == "unreadable"
    assert caught.value.status == status
    assert caught.value.message.startswith("Zoom did not confirm whether the change was made")
