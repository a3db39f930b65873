"""What can go wrong when talking to Zoom, as a handful of exceptions an admin can act on.

Each carries `message`, a sentence fit to show an admin, plus Zoom's own `detail` and the HTTP
`status` for logs and audit. Callers catch `ZoomError` for "anything Zoom said no to".

Two of them mean "try again later" and differ in what a retry risks: `Unavailable` (and
`RateLimited`) say the request changed nothing in Zoom, so it may simply be sent again;
`OutcomeUnknown` says a change was sent and Zoom may have applied it, so the caller must look at
Zoom before sending it again (docs/zoom-client.md, "Writes whose outcome is unknown").
"""

from __future__ import annotations

import math
from typing import Any, Literal

# Why a write's outcome is unknown: no answer in time (our read/write timeout, or Zoom's gateway
# answering 504), the connection dropped before an answer, or a success we cannot read.
OutcomeReason = Literal["timeout", "disconnected", "unreadable"]


def wait_in_words(seconds: float) -> str:
    """A wait as a person would say it, rounded up: "1 second", "40 seconds", "3 minutes", "5 hours"."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return "1 second" if whole == 1 else f"{whole} seconds"
    if whole < 2 * 3600:
        return f"{math.ceil(whole / 60)} minutes"
    return f"{math.ceil(whole / 3600)} hours"


class ZoomError(Exception):
    """Base class: Zoom (or the way to it) refused or failed a request."""

    default_message = "Zoom could not complete the request."

    def __init__(self, message: str | None = None, *, detail: str = "", status: int | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail
        self.status = status
        super().__init__(self.message)


class RateLimited(ZoomError):
    """Zoom's (or our own share of its) rate limit is used up; try again after `retry_after` seconds."""

    default_message = "Zoom's rate limit for this account is used up for the moment."

    def __init__(
        self, message: str | None = None, *, retry_after: float, detail: str = "", status: int | None = 429
    ) -> None:
        self.retry_after = max(0.0, retry_after)
        super().__init__(message, detail=detail, status=status)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling calls cls(*args) and fails on the keyword-only `retry_after`;
        # Celery's Retry carries a pickled copy, so rebuild with every keyword.
        keywords = {"retry_after": self.retry_after, "detail": self.detail, "status": self.status}
        return (_rebuild, (type(self), self.message, keywords), self.__dict__)


class NotFound(ZoomError):
    default_message = "Zoom has no such user or group (it may have been deleted)."


class Conflict(ZoomError):
    default_message = "Zoom refused the change because it conflicts with existing data."


class Invalid(ZoomError):
    default_message = "Zoom rejected the request as invalid."


class Unauthorized(ZoomError):
    """The token was refused and could not be refreshed: the admin must sign in with Zoom again."""

    default_message = "Zoom no longer accepts this sign-in. Sign in with Zoom again."


class Forbidden(ZoomError):
    default_message = "Your Zoom role or the app's scopes do not allow this action."


class Unavailable(ZoomError):
    """Zoom changed nothing and may be asked again: a read failed, a request never left, or Zoom
    answered with a server error (except a 504 to a write, which is `OutcomeUnknown`)."""

    default_message = "Zoom is not answering right now. Try again in a few minutes."


class OutcomeUnknown(ZoomError):
    """A change was sent to Zoom and Zoom may or may not have applied it: reconcile before retrying.

    Deliberately not an `Unavailable`: code that retries on `Unavailable` must not send a create
    twice. `method` and `path` name the request (the path never holds a token), `reason` says
    what happened: "timeout", "disconnected" or "unreadable" (a success whose body cannot be read).
    `status` is Zoom's status when it answered (504, or the unreadable 2xx), else None.
    """

    default_message = (
        "Zoom did not confirm whether the change was made; it may have been. "
        "zoomadmin checks with Zoom before trying it again, so it is never made twice."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str,
        path: str,
        reason: OutcomeReason,
        detail: str = "",
        status: int | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.reason: OutcomeReason = reason
        super().__init__(message, detail=detail, status=status)

    def __reduce__(self) -> tuple[Any, ...]:
        # As RateLimited: the keyword-only arguments must survive a pickle round trip.
        keywords = {
            "method": self.method,
            "path": self.path,
            "reason": self.reason,
            "detail": self.detail,
            "status": self.status,
        }
        return (_rebuild, (type(self), self.message, keywords), self.__dict__)


def _rebuild(cls: type[ZoomError], message: str, keywords: dict[str, Any]) -> ZoomError:
    """Unpickle an error whose constructor takes keyword-only arguments (see `__reduce__`)."""
    return cls(message, **keywords)
