"""Helpers shared by the Zoom client tests."""

from __future__ import annotations

SANDBOX = "http://sandbox.test"


class FixedTokens:
    """The token source of a connection whose token is still good."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refreshed_access_token(self, rejected: str) -> str:
        raise AssertionError("a good token must not need a refresh")
