"""Knowledge types: what ingestion produces and retrieval ranks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChunkKind(StrEnum):
    """How a chunk's text relates to the answer the bot may give."""

    FAQ_QUESTION = "faq_question"
    FAQ_ANSWER = "faq_answer"
    PASSAGE = "passage"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One indexed piece of a knowledge document.

    Retrieval ranks *entries*: every chunk of one FAQ entry (its question, each alternative
    phrasing, its answer) or of one document section shares an ``entry_id``.
    """

    document: str
    entry_id: str
    title: str
    text: str
    answer: str
    kind: ChunkKind
    position: int


@dataclass(frozen=True, slots=True)
class Document:
    """A knowledge file as loaded: its path, content hash (bytes and chunking) and chunks."""

    path: str
    content_hash: str
    chunks: tuple[Chunk, ...]
