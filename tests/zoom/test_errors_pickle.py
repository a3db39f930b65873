"""Zoom errors survive pickling with every attribute: Celery's `Retry` carries a pickled copy of the error."""

from __future__ import annotations

import pickle

from celery.exceptions import Retry

from zoomadmin.accounts.clients import NoUsableConnection
from zoomadmin.zoom.errors import OutcomeUnknown, RateLimited, ZoomError


def _round_trip(error: ZoomError) -> ZoomError:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (bytes this test just made)
    assert type(copy) is type(error)
    assert copy.__dict__ == error.__dict__
    assert str(copy) == str(error)
    return copy


def test_rate_limited_round_trips_with_its_wait() -> None:
    error = RateLimited(
        "Zoom's rate limit for this account is busy; try again in 3 seconds.",
        retry_after=2.5,
        detail="80 Light requests per 1 s in use",
        status=None,
    )
    copy = _round_trip(error)
    assert isinstance(copy, RateLimited)
    assert copy.retry_after == 2.5
    assert copy.message == "Zoom's rate limit for this account is busy; try again in 3 seconds."
    assert copy.detail == "80 Light requests per 1 s in use"
    assert copy.status is None


def test_rate_limited_default_message_and_status_round_trip() -> None:
    copy = _round_trip(RateLimited(retry_after=40))
    assert copy.message == RateLimited.default_message
    assert copy.status == 429


def test_outcome_unknown_round_trips_with_the_request_it_names() -> None:
    error = OutcomeUnknown(method="POST", path="/scim2/Users", reason="timeout", detail="read timeout", status=504)
    error.add_note("row 12 of job 3")
    copy = _round_trip(error)
    assert isinstance(copy, OutcomeUnknown)
    assert (copy.method, copy.path, copy.reason, copy.detail, copy.status) == (
        "POST",
        "/scim2/Users",
        "timeout",
        "read timeout",
        504,
    )
    assert copy.message == OutcomeUnknown.default_message
    assert copy.__notes__ == ["row 12 of job 3"]


def test_celery_retry_carries_a_rate_limited_error() -> None:
    retry = Retry(exc=RateLimited("Busy.", retry_after=7.0), when=7.0)
    copy = pickle.loads(pickle.dumps(retry))  # noqa: S301 (bytes this test just made)
    assert isinstance(copy.exc, RateLimited)
    assert copy.exc.retry_after == 7.0
    assert copy.exc.message == "Busy."


def test_other_errors_still_pickle() -> None:
    # The plain errors take only optional keywords; a subclass defined elsewhere keeps its message too.
    copy = _round_trip(NoUsableConnection("Sign in with Zoom again, Ann.", detail="refresh refused", status=401))
    assert copy.message == "Sign in with Zoom again, Ann."
