"""Structured logging set-up: readable in a terminal, JSON in production."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final

import structlog

from core.pii import mask_for_logs

_MAX_DEPTH: Final = 4
_PLAIN: Final = (int, float, bool, type(None), bytes)
# Read by the renderer as they are: never turned into text here.
_KEEP: Final = frozenset({"exc_info", "stack_info"})


def mask_pii(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Processor: mask NRIC/FIN, phones, emails and card numbers in every value of the event."""
    for key, value in event_dict.items():
        if key not in _KEEP and not isinstance(value, _PLAIN):
            event_dict[key] = _masked(value, _MAX_DEPTH)
    return event_dict


def _masked(value: object, depth: int) -> object:
    """Strings masked, containers walked down to a depth; other objects by their repr."""
    if isinstance(value, str):
        return mask_for_logs(value)
    if isinstance(value, _PLAIN):
        return value
    if depth > 0 and isinstance(value, dict):
        pairs = {k: _masked(v, depth - 1) for k, v in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    if depth > 0 and isinstance(value, list | tuple):
        items = [_masked(v, depth - 1) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    shown = repr(value)
    hidden = mask_for_logs(shown)
    return value if hidden == shown else hidden


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    """Route structlog and the standard library through one configured pipeline."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            mask_pii,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr)
