"""Two models in one vector: MiniLM for English, multilingual-e5-small for every language.

A knowledge text is stored as [MiniLM ; E5] / sqrt(2). A question is embedded by both models
and weighted by its language: English (Singlish included) leans on MiniLM, which knows English
best; Chinese, Malay and Tamil use E5 alone, the only one of the two that reads them. One
cosine search over the joined vector then scores each knowledge text by the weighted sum of the
two models' cosines, and `Scale` turns the search's score back into that sum. E5's cosines sit
in a narrow, high band (0.78 to 1.0); they are stretched onto MiniLM's scale first, so a
threshold means the same for both (bench/QUALITY.md).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # core.embedding builds a DualEmbedder: a runtime import would be a cycle
    from core.embedding import LocalEmbedder, Vectors

E5_FLOOR = 0.7805
"""E5 cosine that maps to 0 on MiniLM's scale (CLINC150 val: E5's 5th percentile, 0.893, meets
MiniLM's, 0.523, and E5's 95th, 0.998, meets MiniLM's 1.011)."""
E5_STRETCH = 4.648
"""How much wider MiniLM's cosines spread than E5's, on the same questions."""


@dataclass(frozen=True, slots=True)
class Scale:
    """Turns one query's search scores into the weighted cosine sum: score * factor + offset."""

    factor: float = 1.0
    offset: float = 0.0

    def apply(self, score: float) -> float:
        """The search score on the weighted-cosine scale."""
        return score * self.factor + self.offset


@runtime_checkable
class WeightedEmbedder(Protocol):
    """An embedder whose questions can lean on one model more than the other."""

    async def embed_weighted(
        self, texts: Sequence[str], english_weights: Sequence[float]
    ) -> tuple[Vectors, list[Scale]]:
        """Embed questions, each with its weight of the English model (0 to 1)."""
        ...


class DualEmbedder:
    """MiniLM and multilingual-e5-small side by side (see the module docstring)."""

    def __init__(self, english: LocalEmbedder, multilingual: LocalEmbedder) -> None:
        self._english = english
        self._multilingual = multilingual

    @property
    def english(self) -> LocalEmbedder:
        """The English model (MiniLM) on its own."""
        return self._english

    @property
    def multilingual(self) -> LocalEmbedder:
        """The multilingual model (E5) on its own."""
        return self._multilingual

    @property
    def name(self) -> str:
        """Both models' names: the index re-embeds when this changes."""
        return f"{self._english.name}+{self._multilingual.name}"

    @property
    def dimension(self) -> int:
        """The two models' dimensions together."""
        return self._english.dimension + self._multilingual.dimension

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Knowledge texts: both models' document vectors, joined and normalised."""
        english, multilingual = await asyncio.gather(
            self._english.embed_documents(texts), self._multilingual.embed_documents(texts)
        )
        return _joined(english, multilingual)

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Questions stored as knowledge (FAQ phrasings): both models' query vectors, joined."""
        english, multilingual = await asyncio.gather(
            self._english.embed_queries(texts), self._multilingual.embed_queries(texts)
        )
        return _joined(english, multilingual)

    async def embed_weighted(
        self, texts: Sequence[str], english_weights: Sequence[float]
    ) -> tuple[Vectors, list[Scale]]:
        """Customers' questions, each weighted between the models by its language."""
        weights = np.clip(np.asarray(english_weights, dtype=np.float32), 0.0, 1.0)[:, None]
        uses_english = [i for i, w in enumerate(weights[:, 0]) if w > 0]
        uses_multilingual = [i for i, w in enumerate(weights[:, 0]) if w < 1]
        english = np.zeros((len(texts), self._english.dimension), dtype=np.float32)
        multilingual = np.zeros((len(texts), self._multilingual.dimension), dtype=np.float32)
        # A model whose weight is 0 for a question is not asked (E5 costs ten times MiniLM's
        # time). Each model has a thread of its own and E5's engine releases the GIL: both
        # run at once.
        await asyncio.gather(
            _fill(english, uses_english, self._english, texts),
            _fill(multilingual, uses_multilingual, self._multilingual, texts),
        )
        # Stretch E5 around its floor: the floor's part becomes a per-query offset.
        english_part = weights * english
        multilingual_part = (1.0 - weights) * E5_STRETCH * multilingual
        vectors = np.hstack([english_part, multilingual_part]).astype(np.float32)
        scales = []
        for row, weight in zip(vectors, weights[:, 0], strict=True):
            scales.append(query_scale(row, float(weight)))
        return vectors, scales

    def close(self) -> None:
        """Stop both models' threads."""
        self._english.close()
        self._multilingual.close()


def query_scale(vector: Vectors, english_weight: float) -> Scale:
    """How a weighted question vector's search scores become the weighted cosine sum."""
    offset = -(1.0 - english_weight) * E5_STRETCH * E5_FLOOR
    return Scale(factor=float(np.linalg.norm(vector)) * math.sqrt(2.0), offset=offset)


async def _fill(rows: Vectors, at: list[int], model: LocalEmbedder, texts: Sequence[str]) -> None:
    """Embed texts[at] as questions with model into rows[at]; nothing when at is empty."""
    if at:
        rows[at] = await model.embed_queries([texts[i] for i in at])


def _joined(english: Vectors, multilingual: Vectors) -> Vectors:
    """[english ; multilingual] / sqrt(2): unit length when both halves are."""
    return (np.hstack([english, multilingual]) / math.sqrt(2.0)).astype(np.float32)
