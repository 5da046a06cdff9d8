"""Split long replies into parts a provider accepts, on the most natural boundary available."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile("(?<=[.!?\u3002\uff01\uff1f])\\s+")


def split_text(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` characters: paragraphs, lines, sentences, words."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    return _pack(text.split("\n\n"), "\n\n", limit)


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Greedily join pieces with a separator; pieces still too long are split further."""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        # A piece over the limit comes back already packed; only its ends may join neighbours.
        subparts = _fit(piece, separator, limit)
        first, rest = subparts[0], subparts[1:]
        joined = f"{current}{separator}{first}" if current else first
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = first
        if rest:
            parts.append(current)
            parts.extend(rest[:-1])
            current = rest[-1]
    if current:
        parts.append(current)
    return parts


def _fit(piece: str, separator: str, limit: int) -> list[str]:
    """Break one piece that is over the limit on the next finer boundary."""
    if len(piece) <= limit:
        return [piece]
    if separator == "\n\n":
        return _pack(piece.split("\n"), "\n", limit)
    if separator == "\n":
        return _pack(_SENTENCE_END.split(piece), " ", limit)
    words = piece.split(" ")
    if len(words) > 1:
        return _pack(words, " ", limit)
    return [piece[i : i + limit] for i in range(0, len(piece), limit)]
