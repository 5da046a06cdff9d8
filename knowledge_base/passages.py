"""Passages sized for the embedder: blocks packed together or split by line, sentence, word."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

MAX_WORDS = 180
"""Most words in a chunk's text: all-MiniLM-L6-v2 reads 256 tokens, about 180 English words."""

_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?\u2026])\s+"  # a full stop, ! ? or ellipsis, then a space
    r"|(?<=[.!?\u2026][\"'\u201d\u2019)\]])\s+"  # ... with a closing quote or bracket
    r"|(?<=[\u3002\uff01\uff1f])"  # CJK full stop, ! and ? need no space
)


def word_count(text: str) -> int:
    """Count whitespace-separated words."""
    return len(text.split())


def split_passage(blocks: Sequence[str], max_words: int = MAX_WORDS) -> list[str]:
    """Pack blocks into passages of at most ``max_words``; split by line, sentence, then word."""
    units = [unit for block in blocks if block.strip() for unit in _fit(block.strip(), max_words)]
    return _pack(units, "\n\n", max_words)


def _fit(block: str, max_words: int) -> list[str]:
    """Break one block into pieces of at most ``max_words``, on the coarsest boundary that works."""
    if word_count(block) <= max_words:
        return [block]
    splitters: list[tuple[Callable[[str], list[str]], str]] = [
        (lambda text: text.splitlines(), "\n"),
        (lambda text: _SENTENCE_BREAK.split(text), " "),
        (lambda text: text.split(), " "),
    ]
    for split, joiner in splitters:
        parts = [part.rstrip() for part in split(block) if part.strip()]  # keep list indents
        if len(parts) > 1:
            pieces = [piece for part in parts for piece in _fit(part, max_words)]
            return _pack(pieces, joiner, max_words)
    return [block]


def _pack(units: Sequence[str], joiner: str, max_words: int) -> list[str]:
    """Join consecutive units into as few, evenly sized, groups as fit within ``max_words``."""
    total = sum(word_count(unit) for unit in units)
    if total == 0:
        return []
    fewest = math.ceil(total / max_words)
    for limit in range(math.ceil(total / fewest), max_words + 1):
        groups = _greedy(units, limit)
        if len(groups) <= fewest:
            break
    else:
        groups = _greedy(units, max_words)
    return [joiner.join(group) for group in groups]


def _greedy(units: Sequence[str], limit: int) -> list[list[str]]:
    """Fill each group with units in order until the next would pass ``limit`` words."""
    groups: list[list[str]] = []
    size = 0
    for unit in units:
        words = word_count(unit)
        if groups and size + words <= limit:
            groups[-1].append(unit)
            size += words
        else:
            groups.append([unit])
            size = words
    return groups
