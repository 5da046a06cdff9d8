"""Questions the bot could not answer in a period, grouped by meaning, personal data masked."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import numpy as np
import numpy.typing as npt

from bot.report.period import Period
from core.dual_embedding import DualEmbedder
from core.embedding import DUAL, E5_SMALL, MINILM, Vectors, model_family
from core.knowledge_masking import mask_personal
from core.language import Language, LanguageDetector

# Cosine distance at which average-linkage merging stops, per model: the best adjusted Rand
# index on CLINC150 validation paraphrases (bench/report_threshold.py, bench/RESULTS.md).
THRESHOLDS = {MINILM: 0.55, DUAL: 0.35, E5_SMALL: 0.12}
DEFAULT_THRESHOLD = THRESHOLDS[MINILM]
MAX_QUESTIONS = 5000
"""The newest this many questions are grouped; more would only slow the weekly mail down."""
EXAMPLES = 3
SLICE = 32
"""Questions embedded per call."""
Labels = npt.NDArray[np.intp]

# The customer's question behind each reply that declined (no answer) or offered choices.
_QUESTIONS = """
SELECT q.body, k.display_name
  FROM messages r
  JOIN messages q ON q.id = r.in_reply_to AND q.direction = 'inbound'
  JOIN conversations c ON c.id = q.conversation_id
  JOIN contacts k ON k.id = c.contact_id
 WHERE r.direction = 'outbound' AND r.created_at >= $1 AND r.created_at < $2
   AND (r.reason IN ('no_answer', 'no_answer_twice') OR jsonb_array_length(r.choices) > 0)
 ORDER BY r.created_at DESC LIMIT $3
"""


class QuestionEmbedder(Protocol):
    """What grouping needs of the bot's embedder (core.embedding.Embedder has it)."""

    @property
    def name(self) -> str:
        """The model's name: each model has its own threshold."""
        ...

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per question."""
        ...


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions that mean the same: how many were asked, and up to three of them."""

    size: int
    examples: tuple[str, ...]


async def unanswered_questions(pool: asyncpg.Pool, period: Period) -> list[str]:
    """The period's declined and "Did you mean" questions, newest first, already masked."""
    rows = await pool.fetch(_QUESTIONS, period.start, period.end, MAX_QUESTIONS)
    names = [(r["display_name"],) if r["display_name"] else () for r in rows]
    return [mask_personal(r["body"], n) for r, n in zip(rows, names, strict=True)]


async def group_questions(
    questions: Sequence[str],
    embedder: QuestionEmbedder,
    threshold: float | None = None,
) -> list[QuestionGroup]:
    """Group masked questions by meaning, largest group first (threshold: the model's).

    With both bundled models, English (Singlish included) is grouped by MiniLM alone and the
    other languages by E5 alone: E5 costs about 35 ms a question on one thread, MiniLM a few,
    and most unanswered questions are in English. A question is then never grouped with one in
    another language, which the owner reads as two groups.
    """
    counts = Counter(" ".join(q.split()) for q in questions if q.strip())
    if isinstance(embedder, DualEmbedder):
        english, other = _by_language(list(counts))
        groups = [
            *await _grouped(english, counts, embedder.english, threshold),
            *await _grouped(other, counts, embedder.multilingual, threshold),
        ]
        return sorted(groups, key=lambda g: (-g.size, g.examples))
    return await _grouped(list(counts), counts, embedder, threshold)


def _by_language(texts: list[str]) -> tuple[list[str], list[str]]:
    """English and Singlish (or too short to tell), and every other language."""
    detector = LanguageDetector()
    english: list[str] = []
    other: list[str] = []
    for text in texts:
        language = detector.detect(text)
        (english if language in (None, Language.EN) else other).append(text)
    return english, other


async def _grouped(
    texts: list[str],
    counts: Counter[str],
    embedder: QuestionEmbedder,
    threshold: float | None,
) -> list[QuestionGroup]:
    """Group distinct questions with one model, largest group first."""
    if not texts:
        return []
    # In slices: the model's thread also answers customers, who then wait one slice at most.
    slices = [
        await embedder.embed_queries(texts[n : n + SLICE]) for n in range(0, len(texts), SLICE)
    ]
    vectors = np.concatenate(slices)
    if threshold is None:
        threshold = THRESHOLDS.get(model_family(embedder.name), DEFAULT_THRESHOLD)
    labels = await asyncio.to_thread(cluster_labels, vectors, threshold)
    weights = np.array([counts[t] for t in texts], dtype=np.int64)
    groups = [
        _group(texts, vectors, weights, np.flatnonzero(labels == label))
        for label in np.unique(labels)
    ]
    return sorted(groups, key=lambda g: (-g.size, g.examples))


def cluster_labels(vectors: Vectors, threshold: float) -> Labels:
    """Average-linkage clusters under a cosine distance threshold; one label per row."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.intp)
    from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    labels: Labels = model.fit_predict(vectors)
    return labels


def _group(
    texts: list[str], vectors: Vectors, weights: npt.NDArray[np.int64], members: Labels
) -> QuestionGroup:
    """A group's size (repeats counted) and the distinct questions nearest its centre."""
    centre = vectors[members].mean(axis=0)
    nearest = members[np.argsort(-(vectors[members] @ centre), kind="stable")]
    examples: list[str] = []
    for index in nearest:
        if texts[index].casefold() not in {e.casefold() for e in examples}:
            examples.append(texts[index])
        if len(examples) == EXAMPLES:
            break
    return QuestionGroup(int(weights[members].sum()), tuple(examples))
