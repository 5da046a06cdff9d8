"""A failure logged through the real pipeline keeps its type, message and traceback, masked."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bot.logs import configure_logging

NRIC = "S1234567D"
MASKED = "*****567D"


def _parse_with(text: str) -> None:
    api_key = "sk-local-variable-secret"  # a local the traceback must not show
    raise ValueError(f"cannot parse {text} with {len(api_key)}")


def _failed(fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What the bot's pipeline writes for `log.exception` after a failure wrapping another."""
    configure_logging(fmt=fmt)
    try:
        try:
            _parse_with(NRIC)
        except ValueError as error:
            raise RuntimeError(f"entry for {NRIC} failed") from error
    except RuntimeError:
        structlog.get_logger("worker").exception("entry_failed", cid="c0ffee")
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def _restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Leave structlog as it was, and keep the root logger's handlers out of reach."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs))
    yield calls
    structlog.reset_defaults()


def test_json_failure_has_type_message_and_frames_with_the_nric_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    written = _failed("json", capsys)
    line = json.loads(written)
    assert line["event"] == "entry_failed" and line["cid"] == "c0ffee"
    assert "exc_info" not in line
    outer, cause = line["exception"]
    assert (outer["exc_type"], outer["exc_value"]) == ("RuntimeError", f"entry for {MASKED} failed")
    assert (cause["exc_type"], cause["is_cause"]) == ("ValueError", True)
    assert cause["exc_value"] == f"cannot parse {MASKED} with 24"
    assert [frame["name"] for frame in cause["frames"]][-1] == "_parse_with"
    assert all(frame["lineno"] > 0 and frame["filename"] for frame in cause["frames"])
    assert NRIC[1:8] not in written
    assert "sk-local-variable-secret" not in written


def test_console_failure_is_a_readable_masked_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    written = _failed("console", capsys)
    assert "entry_failed" in written and "Traceback (most recent call last):" in written
    assert f"ValueError: cannot parse {MASKED} with 24" in written
    assert f"RuntimeError: entry for {MASKED} failed" in written
    assert 'in _parse_with\n    raise ValueError(f"cannot parse {text}' in written
    assert NRIC[1:8] not in written


def test_library_failures_get_the_same_json_and_masking(
    _restore_logging: list[dict[str, Any]],
) -> None:
    configure_logging(fmt="json")
    [handler] = _restore_logging[0]["handlers"]
    try:
        _parse_with(NRIC)
    except ValueError:
        record = logging.LogRecord(
            "apscheduler.executors",
            logging.ERROR,
            __file__,
            1,
            "job for %s raised",
            (NRIC,),
            sys.exc_info(),
        )
    line = json.loads(handler.format(record))
    assert (line["event"], line["logger"], line["level"]) == (
        f"job for {MASKED} raised",
        "apscheduler.executors",
        "error",
    )
    [stack] = line["exception"]
    assert stack["exc_type"] == "ValueError" and MASKED in stack["exc_value"]
    assert NRIC[1:8] not in json.dumps(line)
