"""Collect everything the bot wrote, everywhere it writes, and search it for NRIC/FIN digits.

Sources: every row of every table in PostgreSQL's public schema, every Redis key and value of
every type, every payload of every vector collection, the log output (structlog rendered as JSON
lines and as console lines, and the standard library's records), every mail the SMTP server got,
every call the fake Telegram, Twilio and chat-completion APIs got, every text given to the
embedding model, and the raw files of the storage folders (WAL, append-only files, segments).
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from string import ascii_uppercase
from typing import Any

import asyncpg
import qdrant_edge as qe
import structlog
from redis.asyncio import Redis

from bot.logs import configure_logging
from core.edge_index import EdgeIndex
from core.qdrant_index import QdrantClientIndex
from core.redaction import is_valid_nric
from core.vector_index import VectorIndex

Blobs = dict[str, list[str]]
"""Source name -> the texts found there."""


def nric(prefix: str, digits: str) -> str:
    """The NRIC/FIN with these seven digits and the check letter that makes it valid."""
    [number] = [n for c in ascii_uppercase if is_valid_nric(n := f"{prefix}{digits}{c}")]
    return number


def digits_of(number: str) -> str:
    """The seven digits: found whatever the case, with or without the letters around them."""
    return number[1:8]


def find(blobs: Blobs, numbers: list[str]) -> list[str]:
    """Every place any number's digits occur, as 'source: ...context...'."""
    found = []
    for source, texts in blobs.items():
        for text in texts:
            for number in numbers:
                for match in re.finditer(re.escape(digits_of(number)), text):
                    context = text[max(0, match.start() - 80) : match.end() + 40]
                    found.append(f"{source}: ...{context}...")
    return found


async def postgres_rows(pool: asyncpg.Pool) -> Blobs:
    """Every row of every table in the public schema, as JSON (byte columns also as text)."""
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    blobs: Blobs = {}
    for table in tables:
        name = table["table_name"].replace('"', '""')
        rows = await pool.fetch(f'SELECT t.*, row_to_json(t)::text FROM public."{name}" t')
        texts = [row["row_to_json"] for row in rows]
        texts += [
            value.decode("utf-8", "replace")
            for row in rows
            for value in row.values()
            if isinstance(value, bytes)
        ]
        blobs[f"postgres:{table['table_name']}"] = texts
    return blobs


async def redis_values(redis: Redis) -> Blobs:
    """Every key with its value, whatever the type."""
    blobs: Blobs = {}
    async for key in redis.scan_iter(count=1000):
        kind = _text(await redis.type(key))
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            value = f"<{kind}>"
        blobs.setdefault(f"redis:{kind}", []).append(f"{_text(key)} = {_flatten(value)}")
    return blobs


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _flatten(value: object) -> str:
    """Nested Redis replies (bytes inside lists, tuples, dicts) as one text."""
    if isinstance(value, dict):
        return " ".join(f"{_flatten(k)}={_flatten(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return " ".join(_flatten(item) for item in value)
    return _text(value)


async def vector_payloads(indexes: dict[str, VectorIndex]) -> Blobs:
    """Every payload of every point of each collection."""
    return {f"vectors:{name}": await _payloads(index) for name, index in indexes.items()}


async def _payloads(index: VectorIndex) -> list[str]:
    if isinstance(index, EdgeIndex):
        return await index._run(lambda: _edge_payloads(index))
    if isinstance(index, QdrantClientIndex):
        return await index._run(lambda client: _client_payloads(client, index))
    raise AssertionError(f"no way to read the payloads of {type(index).__name__}: add one here")


def _edge_payloads(index: EdgeIndex) -> list[str]:
    shard, payloads, offset = index._get_shard(), [], None
    while True:
        request = qe.ScrollRequest(offset=offset, limit=256, with_payload=True, with_vector=False)
        records, offset = shard.scroll(request)
        payloads += [json.dumps(record.payload, ensure_ascii=False) for record in records]
        if offset is None:
            return payloads


def _client_payloads(client: Any, index: QdrantClientIndex) -> list[str]:
    payloads, offset = [], None
    while True:
        records, offset = client.scroll(
            index._collection, limit=256, offset=offset, with_payload=True, with_vectors=False
        )
        payloads += [json.dumps(record.payload, ensure_ascii=False) for record in records]
        if offset is None:
            return payloads


def mails(messages: list[EmailMessage]) -> list[str]:
    """Each mail as sent (encoded) and decoded: headers and the content of every part."""
    texts = []
    for message in messages:
        texts.append(message.as_string())
        texts += [f"{name}: {value}" for name, value in message.items()]
        for part in message.walk():
            if not part.is_multipart():
                content = part.get_content()  # type: ignore[attr-defined]
                texts.append(content if isinstance(content, str) else _text(content))
    return texts


def storage_files(*folders: Path) -> Blobs:
    """The raw bytes of every file in the storage folders, as Latin-1 text."""
    blobs: Blobs = {}
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                data = path.read_bytes()
            except OSError:  # a socket, or a file removed while we walk
                continue
            blobs.setdefault(f"file:{folder.name}", []).append(data.decode("latin-1"))
    return blobs


@dataclass
class LogCapture:
    """What the production logging set-up writes, captured: JSON and console renderings."""

    lines: list[str] = field(default_factory=list)
    sink: io.StringIO = field(default_factory=io.StringIO)

    def blobs(self) -> Blobs:
        return {"logs:structlog": [*self.lines, self.sink.getvalue()]}


class _Records(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)  # what the production set-up lets through
        self._lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self._lines.append(logging.Formatter().format(record))


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    """The bot's own logging pipeline (PII masking included), rendered as JSON and console."""
    saved = structlog.get_config()
    capture = LogCapture()
    configure_logging("debug", "json")
    processors = structlog.get_config()["processors"]
    as_json, as_console = processors[-1], structlog.dev.ConsoleRenderer(colors=False)

    def both(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        capture.lines.append(str(as_console(logger, method, dict(event))))
        return as_json(logger, method, event)

    structlog.configure(
        processors=[*processors[:-1], both],
        logger_factory=structlog.PrintLoggerFactory(file=capture.sink),
    )
    records = _Records(capture.lines)
    logging.getLogger().addHandler(records)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(records)
        structlog.configure(**saved)


@contextmanager
def recorded_embeddings(embedder: object) -> Iterator[list[str]]:
    """Every text given to the embedder's embed* methods while inside."""
    texts: list[str] = []
    names = [n for n in dir(embedder) if n.startswith("embed") and callable(getattr(embedder, n))]
    assert names, f"{type(embedder).__name__} has no embed* method to watch"
    for name in names:
        setattr(embedder, name, _recording(getattr(embedder, name), texts))
    try:
        yield texts
    finally:
        for name in names:
            delattr(embedder, name)


def _recording(method: Callable[..., Any], texts: list[str]) -> Callable[..., Any]:
    def note(args: tuple[Any, ...]) -> None:
        for arg in args:
            if isinstance(arg, str):
                texts.append(arg)
            elif isinstance(arg, list | tuple):
                texts.extend(item for item in arg if isinstance(item, str))

    if inspect.iscoroutinefunction(method):

        async def watched_async(*args: Any, **kwargs: Any) -> Any:
            note(args)
            result: Awaitable[Any] = method(*args, **kwargs)
            return await result

        return watched_async

    def watched(*args: Any, **kwargs: Any) -> Any:
        note(args)
        return method(*args, **kwargs)

    return watched


def structlog_event(event: str, **values: str) -> None:
    """Log through structlog, as the bot's modules do."""
    structlog.get_logger("nric_canary").info(event, **values)


def standard_warning(text: str) -> None:
    """Log through the standard library, as the libraries the bot uses do."""
    logging.getLogger("nric_canary").warning(text)
