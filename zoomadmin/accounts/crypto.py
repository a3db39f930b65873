"""Encryption at rest for Zoom tokens: Fernet with key rotation (MultiFernet).

`settings.FIELD_ENCRYPTION_KEY` holds comma-separated Fernet keys, newest first. New values are
encrypted with the first key; every listed key can decrypt. To rotate: put a new key in front,
run `manage.py rotate_tokens`, then drop the old key (see docs/signin.md).
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _multi_fernet(keys: str) -> MultiFernet:
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    if not parts:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must hold at least one Fernet key")
    try:
        return MultiFernet([Fernet(part) for part in parts])
    except ValueError as exc:
        # Never echo the key itself: it is a secret.
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key") from exc


def field_fernet() -> MultiFernet:
    """The MultiFernet for the keys currently configured (cached per key list)."""
    return _multi_fernet(settings.FIELD_ENCRYPTION_KEY)


def secret_encrypt(plain: str) -> str:
    """Encrypt `plain` with the newest key; the result is URL-safe text fit for a TextField."""
    return field_fernet().encrypt(plain.encode()).decode()


def secret_decrypt(cipher: str) -> str:
    """Decrypt a value made by `secret_encrypt` with any configured key.

    Raises `InvalidToken` when no configured key opens it (a key was removed too early).
    """
    return field_fernet().decrypt(cipher.encode()).decode()


def secret_rotate(cipher: str) -> str:
    """Re-encrypt `cipher` under the newest key (MultiFernet.rotate keeps the original timestamp)."""
    return field_fernet().rotate(cipher.encode()).decode()


__all__ = ["InvalidToken", "field_fernet", "secret_decrypt", "secret_encrypt", "secret_rotate"]
