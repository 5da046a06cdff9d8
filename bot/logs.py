"""Structured logging set-up: readable in a terminal, JSON in production, PII masked in both."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from core.redaction import mask_for_logs

_MAX_DEPTH: Final = 4
# A rendered exception nests deeper (causes, groups, frames); every level of it is masked.
_EXCEPTION_DEPTH: Final = 64
_PLAIN: Final = (int, float, bool, type(None), bytes)
# Read by the renderers as they are: never turned into text here.
_KEEP: Final = frozenset({"exc_info", "stack_info", "_record", "_from_structlog"})


def mask_pii(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Processor: mask NRIC/FIN, phones, emails and card numbers in every value of the event."""
    for key, value in event_dict.items():
        if key not in _KEEP and not isinstance(value, _PLAIN):
            depth = _EXCEPTION_DEPTH if key == "exception" else _MAX_DEPTH
            event_dict[key] = _masked(value, depth)
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


def _exception_renderer(fmt: str) -> structlog.typing.Processor:
    """Turn `exc_info` into text before masking, since renderers would format it unmasked.

    JSON gets a list of stacks (exc_type, exc_value, frames) a log query can filter on; the
    console gets Python's own traceback. Neither shows local variables: they hold customers'
    messages and secrets.
    """
    if fmt == "json":
        return structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    return structlog.processors.format_exc_info


def configure_logging(level: str = "info", fmt: str = "console") -> None:
    """Route structlog and the standard library through one configured pipeline."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _exception_renderer(fmt),
        mask_pii,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries' records (aiohttp, APScheduler, PTB) get the same masking and format.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), handlers=[handler])
