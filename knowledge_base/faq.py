"""FAQ files (CSV and YAML): question-and-answer entries and the chunks they index as."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml

from core.knowledge import Chunk, ChunkKind
from knowledge_base.chunking import (
    MAX_ENTRY_ID_LENGTH,
    DocumentError,
    cap_entry_id,
    document_slug,
    shorten,
    slugify,
    unique_ids,
)

ALTERNATIVES_SEPARATOR = "|"
"""Separates the alternative phrasings of a question in one CSV cell."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One question with its answer, other ways to ask it and an optional owner-given id."""

    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    entry_id: str | None = None


def parse_csv_faq(document: str, text: str) -> list[FaqEntry]:
    """Read a CSV FAQ with columns question, answer and optional alternatives and id."""
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DocumentError(document, f"not valid CSV near line {reader.line_num}: {exc}") from exc
    if not rows:
        return []
    header = [name.strip().lower() for name in rows[0]]
    for required in ("question", "answer"):
        if required not in header:
            found = ", ".join(name for name in header if name) or "none"
            raise DocumentError(document, f"missing column '{required}' (columns found: {found})")
    entries: list[tuple[str, FaqEntry]] = []
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"row {row_number}"
        if any(cell.strip() for cell in row[len(header) :]):
            raise DocumentError(
                document,
                f"{where}: more cells than the header has columns; "
                "put text that contains commas in double quotes",
            )
        cells = dict(zip(header, row, strict=False))
        alternatives = cells.get("alternatives", "").split(ALTERNATIVES_SEPARATOR)
        entries.append(
            (where, _entry(document, where, cells, alternatives, cells.get("id", "").strip()))
        )
    return _check_ids(document, entries)


def parse_yaml_faq(document: str, text: str) -> list[FaqEntry]:
    """Read a YAML FAQ: a list of {question, answer, alternatives, id}, or that list under faqs."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DocumentError(document, f"not valid YAML{where}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise DocumentError(document, f"not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "faqs" in data:
        data = data["faqs"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise DocumentError(document, "expected a list of FAQ entries (or one under 'faqs:')")
    entries: list[tuple[str, FaqEntry]] = []
    for number, item in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            raise DocumentError(document, f"{where}: expected 'question:' and 'answer:' keys")
        raw_alternatives = item.get("alternatives") or []
        if isinstance(raw_alternatives, str):
            raw_alternatives = raw_alternatives.split(ALTERNATIVES_SEPARATOR)
        if not isinstance(raw_alternatives, list):
            raise DocumentError(document, f"{where}: alternatives must be a list of questions")
        alternatives = [_text(document, where, "each alternative", alt) for alt in raw_alternatives]
        raw_id = item.get("id")
        if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, int | str)):
            raise DocumentError(document, f"{where}: id must be text or a number")
        given_id = "" if raw_id is None else str(raw_id).strip()
        entries.append((where, _entry(document, where, item, alternatives, given_id)))
    return _check_ids(document, entries)


def faq_chunks(document: str, entries: Sequence[FaqEntry]) -> tuple[Chunk, ...]:
    """Index each entry as its question, its alternatives and its answer, under one entry id."""
    prefix = document_slug(document)
    room = MAX_ENTRY_ID_LENGTH - len(prefix) - 4  # the colon and a possible "~99"
    auto_ids = unique_ids(f"{prefix}:{shorten(slugify(entry.question), room)}" for entry in entries)
    chunks: list[Chunk] = []
    for entry, auto_id in zip(entries, auto_ids, strict=True):
        entry_id = entry.entry_id or cap_entry_id(auto_id)
        for phrasing in (entry.question, *entry.alternatives):
            chunks.append(
                Chunk(
                    document=document,
                    entry_id=entry_id,
                    title=entry.question,
                    text=phrasing,
                    answer=entry.answer,
                    kind=ChunkKind.FAQ_QUESTION,
                    position=len(chunks),
                )
            )
        chunks.append(
            Chunk(
                document=document,
                entry_id=entry_id,
                title=entry.question,
                text=f"{entry.question} {entry.answer}",
                answer=entry.answer,
                kind=ChunkKind.FAQ_ANSWER,
                position=len(chunks),
            )
        )
    return tuple(chunks)


def _entry(
    document: str, where: str, fields: Mapping[str, object], alternatives: list[str], entry_id: str
) -> FaqEntry:
    """Build one entry, rejecting a missing question or answer with the row that lacks it."""
    question = " ".join(_text(document, where, "question", fields.get("question")).split())
    answer = _text(document, where, "answer", fields.get("answer"))
    if not question:
        raise DocumentError(document, f"{where}: missing question")
    if not answer:
        raise DocumentError(document, f"{where}: missing answer (question: {question!r})")
    seen = {question.casefold()}
    unique: list[str] = []
    for alternative in (" ".join(alt.split()) for alt in alternatives):
        if alternative and alternative.casefold() not in seen:
            seen.add(alternative.casefold())
            unique.append(alternative)
    return FaqEntry(question, answer, tuple(unique), entry_id or None)


def _text(document: str, where: str, what: str, value: object) -> str:
    """Return a text field stripped; YAML dates, numbers and yes/no must be quoted to count."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    raise DocumentError(document, f"{where}: {what} must be text; put it in quotes")


def _check_ids(document: str, entries: list[tuple[str, FaqEntry]]) -> list[FaqEntry]:
    """Reject an owner-given id used twice in one file, naming both places."""
    first_use: dict[str, str] = {}
    for where, entry in entries:
        if entry.entry_id is None:
            continue
        if entry.entry_id in first_use:
            raise DocumentError(
                document,
                f"{where}: id '{entry.entry_id}' is already used by {first_use[entry.entry_id]}",
            )
        first_use[entry.entry_id] = where
    return [entry for _, entry in entries]
