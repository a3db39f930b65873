"""What can go wrong when talking to Zoom, as a handful of exceptions an admin can act on.

Each carries `message`, a sentence fit to show an admin, plus Zoom's own `detail` and the HTTP
`status` for logs and audit. Callers catch `ZoomError` for "anything Zoom said no to".
"""

from __future__ import annotations

import math


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
    """Zoom did not answer in time, or answered with a server error: usually worth retrying."""

    default_message = "Zoom is not answering right now. Try again in a few minutes."
