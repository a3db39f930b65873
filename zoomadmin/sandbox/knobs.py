"""The knobs of a sandbox account: which fields they are, how to read them from text, their bounds.

Shared by the `sandbox_account` command and the Django admin, so a value refused in one is refused
in the other. The model's own field checks (types, choices, non-negative integers) come first;
`KNOB_BOUNDS` adds what the field types cannot say, such as a rate being a share between 0 and 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from zoomadmin.sandbox.models import SandboxAccount

# Fields that identify an account or record history: not knobs.
NOT_KNOBS = frozenset({"id", "zoom_id", "created"})

# Inclusive (minimum, maximum) per knob; None = unbounded on that side.
KNOB_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "error_rate": (0.0, 1.0),
    "timeout_rate": (0.0, 1.0),
    "timeout_hang_seconds": (0.0, 3600.0),
    "latency_mean_ms": (0, 60_000),
    "latency_jitter_ms": (0, 60_000),
    "deactivate_privileged_status": (400, 599),
    "page_default_count": (1, None),
    "page_max_count": (1, None),
    "refresh_token_lifetime_days": (1, None),
    "access_token_lifetime_seconds": (1, None),
}


class KnobError(ValueError):
    """A knob name or value that cannot be used; the message is fit to show the person who typed it."""


def knob_fields() -> list[models.Field[object, object]]:
    """The account's knob fields, in model order."""
    return [
        field
        for field in SandboxAccount._meta.get_fields()
        if isinstance(field, models.Field) and field.concrete and field.name not in NOT_KNOBS
    ]


def knob_names() -> list[str]:
    """Names accepted by `sandbox_account set`."""
    return [field.name for field in knob_fields()]


def knob_parse(*, name: str, raw: str) -> object:
    """The value of knob `name` written as `raw` text, checked against its field and bounds.

    Booleans are `true` or `false` (nothing else, so a typo is not read as False); numbers must
    parse as the field's type; choice fields must hold one of their choices.
    """
    if name in NOT_KNOBS:
        raise KnobError(f"{name} is not a knob (it identifies the account); knobs: {', '.join(knob_names())}")
    try:
        field = SandboxAccount._meta.get_field(name)
    except FieldDoesNotExist:
        raise KnobError(f"unknown knob {name!r}; knobs: {', '.join(knob_names())}") from None
    assert isinstance(field, models.Field)
    text = raw.strip()
    value: object
    if isinstance(field, models.BooleanField):
        if text.lower() not in ("true", "false"):
            raise KnobError(f"{name} must be true or false, not {raw!r}")
        value = text.lower() == "true"
    else:
        try:
            value = field.to_python(text)
            field.run_validators(value)
            field.validate(value, None)
        except ValidationError as exc:
            raise KnobError(f"{name}: {'; '.join(exc.messages)} (got {raw!r})") from None
    problem = knob_bound_error(name=name, value=value)
    if problem:
        raise KnobError(f"{name}: {problem} (got {raw!r})")
    return value


def knob_bound_error(*, name: str, value: object) -> str:
    """Why `value` is outside the bounds of knob `name`, or an empty string when it is within them."""
    if name not in KNOB_BOUNDS or not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    low, high = KNOB_BOUNDS[name]
    if low is not None and value < low:
        return f"must be at least {low}" if high is None else f"must be between {low} and {high}"
    if high is not None and value > high:
        return f"must be at most {high}" if low is None else f"must be between {low} and {high}"
    return ""


def knobs_check(values: Mapping[str, object]) -> dict[str, str]:
    """Bound and cross-field errors of a set of knob values, by knob name (empty when all is well)."""
    errors = {name: problem for name, value in values.items() if (problem := knob_bound_error(name=name, value=value))}
    default_count = values.get("page_default_count")
    max_count = values.get("page_max_count")
    if (
        isinstance(default_count, int)
        and isinstance(max_count, int)
        and default_count > max_count
        and "page_default_count" not in errors
    ):
        errors["page_default_count"] = f"must not exceed page_max_count ({max_count})"
    return errors
