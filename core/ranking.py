"""Turn raw dense and sparse hits into a ranking of knowledge entries with a confidence.

The method was chosen on validation data (bench/research/FINDINGS.md): an entry scores the mean
of its two best dense cosines plus a small, max-normalised BM25 bonus; the confidence is the top
score itself, in cosine units, with the margin to the runner-up as a second check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.index_points import Hit
from core.knowledge import Chunk, ChunkKind


@dataclass(frozen=True, slots=True)
class RankedEntry:
    """A knowledge entry, its fused score and the chunk that represents it best."""

    entry_id: str
    score: float
    best: Chunk


@dataclass(frozen=True, slots=True)
class Ranking:
    """Entries best first, the top score as confidence, and its lead over the runner-up."""

    entries: tuple[RankedEntry, ...]
    confidence: float
    margin: float = math.inf
    language: str = "en"
    """The language the question was searched in: thresholds may differ by language."""

    @property
    def top(self) -> RankedEntry | None:
        """The best entry, if any."""
        return self.entries[0] if self.entries else None


@dataclass(frozen=True, slots=True)
class RankingParams:
    """Knobs of the fusion; defaults were chosen on validation data."""

    sparse_weight: float = 0.05
    chunks_averaged: int = 2
    confidence_sparse_weight: float | None = None
    """The BM25 bonus counted in the confidence; None: sparse_weight. A larger sparse_weight
    can sharpen the order while the confidence keeps the scale thresholds were chosen on."""


def rank_entries(dense: Sequence[Hit], sparse: Sequence[Hit], params: RankingParams) -> Ranking:
    """Rank entries by mean of their best dense cosines plus a small BM25 bonus."""
    floor = min((h.score for h in dense), default=0.0)
    sims: dict[str, list[float]] = {}
    best: dict[str, Chunk] = {}
    for hit in sorted(dense, key=lambda h: h.score, reverse=True):
        entry = hit.chunk.entry_id
        sims.setdefault(entry, []).append(hit.score)
        best.setdefault(entry, hit.chunk)
    bm25: dict[str, float] = {}
    for hit in sparse:
        if hit.score > 0:
            entry = hit.chunk.entry_id
            bm25[entry] = max(bm25.get(entry, 0.0), hit.score)
            best.setdefault(entry, hit.chunk)
    bm25_top = max(bm25.values(), default=0.0)
    ranked = []
    keyword_share = {}
    for entry, chunk in best.items():
        # A document section is one chunk: averaging it with the floor would punish it.
        take = 1 if chunk.kind is ChunkKind.PASSAGE else params.chunks_averaged
        top_sims = (sims.get(entry, []) + [floor] * take)[:take]
        score = sum(top_sims) / take
        keyword_share[entry] = bm25.get(entry, 0.0) / bm25_top if bm25_top > 0 else 0.0
        score += params.sparse_weight * keyword_share[entry]
        ranked.append(RankedEntry(entry_id=entry, score=score, best=chunk))
    ranked.sort(key=lambda e: (-e.score, e.entry_id))
    if not ranked:
        return Ranking((), 0.0)
    margin = ranked[0].score - ranked[1].score if len(ranked) > 1 else math.inf
    confidence = ranked[0].score
    if params.confidence_sparse_weight is not None:
        extra = params.sparse_weight - params.confidence_sparse_weight
        confidence -= extra * keyword_share[ranked[0].entry_id]
    return Ranking(tuple(ranked), confidence, margin)
