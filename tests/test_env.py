from __future__ import annotations

from pathlib import Path

import pytest

from zoomadmin.env import ConfigError, env_bool, env_choice, env_float, env_int, env_list, env_str


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False), ("", True)])
def test_booleans_are_true_or_false(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("ZA_FLAG", raw)
    assert env_bool("ZA_FLAG", True) is expected


@pytest.mark.parametrize("raw", ["yes", "1", "on", "tru"])
def test_anything_else_is_refused_with_the_variable_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ZA_FLAG", raw)
    with pytest.raises(ConfigError, match="ZA_FLAG must be 'true' or 'false'"):
        env_bool("ZA_FLAG", False)


def test_numbers_lists_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZA_INT", "12")
    monkeypatch.setenv("ZA_FLOAT", "0.5")
    monkeypatch.setenv("ZA_LIST", " a, b ,,c ")
    monkeypatch.setenv("ZA_CHOICE", "PRO")
    assert env_int("ZA_INT", 1) == 12
    assert env_float("ZA_FLOAT", 1.0, minimum=0, maximum=1) == 0.5
    assert env_list("ZA_LIST") == ["a", "b", "c"]
    assert env_choice("ZA_CHOICE", "free", ("free", "pro")) == "pro"
    monkeypatch.setenv("ZA_INT", "twelve")
    with pytest.raises(ConfigError, match="whole number"):
        env_int("ZA_INT", 1)
    monkeypatch.setenv("ZA_FLOAT", "1.5")
    with pytest.raises(ConfigError, match="between"):
        env_float("ZA_FLOAT", 1.0, minimum=0, maximum=1)
    monkeypatch.setenv("ZA_CHOICE", "enterprise")
    with pytest.raises(ConfigError, match="one of free, pro"):
        env_choice("ZA_CHOICE", "free", ("free", "pro"))


def test_secrets_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("ZA_SECRET", raising=False)
    monkeypatch.setenv("ZA_SECRET_FILE", str(secret))
    assert env_str("ZA_SECRET") == "s3cret"
    monkeypatch.setenv("ZA_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot be read"):
        env_str("ZA_SECRET")
