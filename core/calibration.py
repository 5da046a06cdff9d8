"""Answer thresholds fitted to one knowledge base, from probes it supplies itself.

In-scope probes are the knowledge base's own FAQ phrasings (a question and its alternatives),
each asked as a customer would with that phrasing left out of the knowledge, so only the
entry's other phrasings and its answer can find it. Out-of-scope probes are generic questions
no business answers (core/lexicon/off_topic.yaml), in English, Chinese, Malay and Tamil, and
near misses: FAQ phrasings asked with their whole entry left out, close to the business's
topics as real out-of-scope traffic is.

English: the answer threshold that best separates them (right answers kept, wrong answers
and off-topic answers refused, near misses refused at a small weight). Other languages have no
in-scope probes (the knowledge is in English): their threshold sits above where their own
off-topic questions end, by a fixed share of the distance English keeps between its threshold
and its off-topic end.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Protocol

import yaml

from core.compose import Thresholds
from core.knowledge import Chunk, ChunkKind
from core.language import Language
from core.ranking import Ranking

VERSION = 2
"""Bumped when the method changes, so stored calibrations are made again."""
MAX_IN_SCOPE_PROBES = 400
MIN_IN_SCOPE_PROBES = 8
MIN_OFF_TOPIC_PROBES = 8
MAX_NEAR_MISS_PROBES = 200
NEAR_MISS_WEIGHT = 0.05
"""What declining every near miss (a phrasing asked with its whole entry left out) is worth,
against 1 for declining every off-topic probe. Small, because a near miss is not always out of
scope (entries overlap: another may answer it rightly) and scores close to the in-scope
phrasings: weighed like off-topic questions, they lift the threshold over most right answers.
Chosen on CLINC150 val as ten businesses (bench/research/calibration_study.py, QUALITY.md)."""
OFF_TOPIC_QUANTILE = 0.9
"""Where a language's off-topic questions "end": this share of them scores lower."""
CROSS_LINGUAL_GAP = 0.5
"""How far above its off-topic end a language's threshold sits, as a share of English's
distance: a question in another language than the knowledge stands out from noise about half
as much as an English one does (chosen on the dev questions, bench/QUALITY.md)."""
_NAMES = {"en": "English", "zh": "Chinese", "ms": "Malay", "ta": "Tamil"}


class ProbeRetrieval(Protocol):
    """Ranks entries for many questions, optionally leaving one chunk out of each search."""

    async def retrieve_many(
        self, texts: Sequence[str], leave_out: Sequence[frozenset[Chunk]] = ()
    ) -> list[Ranking]:
        """Rank entries for each question."""
        ...


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe's outcome: its confidence, its language and whether the top entry was right."""

    confidence: float
    language: str
    right: bool = False


@dataclass(frozen=True, slots=True)
class Calibration:
    """What calibration chose, or why it kept the defaults (answer None)."""

    answer: float | None
    by_language: dict[str, float] = field(default_factory=dict)
    in_scope: int = 0
    off_topic: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def apply(self, base: Thresholds) -> Thresholds:
        """base with the calibrated answer thresholds; choices keep base's distance below."""
        if self.answer is None:
            return base
        gap = base.answer - base.choice
        by_language = {code: (value, value - gap) for code, value in self.by_language.items()}
        return replace(base, answer=self.answer, choice=self.answer - gap, by_language=by_language)

    def explain(self) -> str:
        """What was chosen and why, for people."""
        probes = ", ".join(f"{_NAMES.get(k, k)} {v}" for k, v in sorted(self.off_topic.items()))
        lines = [f"In-scope probes: {self.in_scope}. Off-topic probes: {probes or 'none'}."]
        if self.answer is not None:
            lines.append(f"English: answer from {self.answer:.3f}.")
            for code, value in sorted(self.by_language.items()):
                lines.append(f"{_NAMES.get(code, code)}: answer from {value:.3f}.")
        lines.extend(self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form, for storage."""
        return {
            "answer": self.answer,
            "by_language": self.by_language,
            "in_scope": self.in_scope,
            "off_topic": self.off_topic,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Calibration:
        """The stored form back."""
        answer = data.get("answer")
        by_language = data.get("by_language") or {}
        off_topic = data.get("off_topic") or {}
        notes = data.get("notes") or []
        in_scope = data.get("in_scope") or 0
        assert isinstance(by_language, dict) and isinstance(off_topic, dict)
        assert isinstance(notes, list) and isinstance(in_scope, int)
        return cls(
            answer=float(answer) if isinstance(answer, (int, float)) else None,
            by_language={str(k): float(v) for k, v in by_language.items()},
            in_scope=in_scope,
            off_topic={str(k): int(v) for k, v in off_topic.items()},
            notes=tuple(str(n) for n in notes),
        )


@functools.cache
def off_topic_questions() -> tuple[tuple[str, str], ...]:
    """The bundled off-topic probes as (language code, question)."""
    text = resources.files("core.lexicon").joinpath("off_topic.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    return tuple((str(code), str(q)) for code, questions in loaded.items() for q in questions)


def fingerprint(model: str, documents: Sequence[tuple[str, str]]) -> str:
    """Identifies what a calibration was made from: the model, the files, the method."""
    probes = repr(off_topic_questions())
    parts = [str(VERSION), model, probes, *(f"{p}\0{h}" for p, h in sorted(documents))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def in_scope_probes(chunks: Sequence[Chunk], limit: int = MAX_IN_SCOPE_PROBES) -> list[Chunk]:
    """FAQ phrasings of entries that have another phrasing to be found by (spread evenly)."""
    phrasings: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.kind is ChunkKind.FAQ_QUESTION:
            phrasings.setdefault(chunk.entry_id, []).append(chunk)
    usable = [c for group in phrasings.values() if len(group) > 1 for c in group]
    if len(usable) <= limit:
        return usable
    step = len(usable) / limit
    return [usable[int(n * step)] for n in range(limit)]


def near_miss_probes(
    chunks: Sequence[Chunk], limit: int = MAX_NEAR_MISS_PROBES
) -> list[tuple[Chunk, frozenset[Chunk]]]:
    """FAQ phrasings, each with its whole entry to leave out (taken from every entry in turn).

    Asked with its entry gone, a phrasing is a question close to this business that its
    knowledge does not answer: the out-of-scope question real traffic brings, unlike generic
    small talk.
    """
    entries: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        entries.setdefault((chunk.document, chunk.entry_id), []).append(chunk)
    if len(entries) < 2:
        return []
    phrasings = [
        [c for c in group if c.kind is ChunkKind.FAQ_QUESTION] for group in entries.values()
    ]
    whole = [frozenset(group) for group in entries.values()]
    probes: list[tuple[Chunk, frozenset[Chunk]]] = []
    for turn in range(max(len(p) for p in phrasings)):
        probes.extend((p[turn], w) for p, w in zip(phrasings, whole, strict=True) if turn < len(p))
    return probes[:limit]


async def calibrate_index(retrieval: ProbeRetrieval, chunks: Sequence[Chunk]) -> Calibration:
    """Ask the probes of this knowledge base and choose thresholds from the answers."""
    probes = in_scope_probes(chunks)
    leave_out = [frozenset((c,)) for c in probes]
    rankings = await retrieval.retrieve_many([c.text for c in probes], leave_out=leave_out)
    in_scope = [
        Probe(r.confidence, r.language, r.top is not None and r.top.entry_id == c.entry_id)
        for c, r in zip(probes, rankings, strict=True)
    ]
    questions = off_topic_questions()
    scored = await retrieval.retrieve_many([q for _, q in questions])
    off_topic = [Probe(r.confidence, r.language) for r in scored]
    near = near_miss_probes(chunks)
    asked = await retrieval.retrieve_many([c.text for c, _ in near], [entry for _, entry in near])
    near_miss = [Probe(r.confidence, r.language) for r in asked]
    return choose(in_scope, off_topic, near_miss)


def choose(
    in_scope: Sequence[Probe], off_topic: Sequence[Probe], near_miss: Sequence[Probe] = ()
) -> Calibration:
    """Thresholds from scored probes; answer None (keep the defaults) when too few."""
    english_in = [p for p in in_scope if p.language == Language.EN.value]
    typical = statistics.median(p.confidence for p in english_in) if english_in else None
    # An "off-topic" probe that scores like the knowledge base's own questions is a topic this
    # business does cover (a travel agent asked about visas): it proves nothing either way.
    kept = [p for p in off_topic if typical is None or p.confidence < typical]
    counts = {code: sum(p.language == code for p in kept) for code in _NAMES}
    counts = {code: n for code, n in counts.items() if n}
    notes = []
    if len(kept) < len(off_topic):
        notes.append(
            f"{len(off_topic) - len(kept)} off-topic probe(s) set aside: they score like "
            "questions this knowledge base answers."
        )
    english_out = [p for p in kept if p.language == Language.EN.value]
    if len(english_in) < MIN_IN_SCOPE_PROBES or len(english_out) < MIN_OFF_TOPIC_PROBES:
        notes.append(
            f"Not enough probes to calibrate ({len(english_in)} FAQ phrasings with another "
            f"phrasing of the same entry, {MIN_IN_SCOPE_PROBES} needed): the defaults stay. "
            "Add alternatives (other ways customers ask) to FAQ entries to calibrate."
        )
        return Calibration(None, {}, len(english_in), counts, tuple(notes))
    english_near = [p for p in near_miss if p.language == Language.EN.value]
    answer, summary = _best_threshold(english_in, english_out, english_near)
    notes.append(summary)
    english_end = _quantile([p.confidence for p in english_out], OFF_TOPIC_QUANTILE)
    by_language = {}
    for code in _NAMES:
        scores = [p.confidence for p in kept if p.language == code]
        if code == Language.EN.value or len(scores) < MIN_OFF_TOPIC_PROBES:
            continue
        end = _quantile(scores, OFF_TOPIC_QUANTILE)
        by_language[code] = end + CROSS_LINGUAL_GAP * (answer - english_end)
    return Calibration(answer, by_language, len(english_in), counts, tuple(notes))


def _best_threshold(
    in_scope: Sequence[Probe], off_topic: Sequence[Probe], near_miss: Sequence[Probe]
) -> tuple[float, str]:
    """The middle of the widest run of thresholds that score best (see `_score`)."""
    values = sorted({round(p.confidence, 4) for p in (*in_scope, *off_topic, *near_miss)})
    candidates = [(a + b) / 2 for a, b in itertools.pairwise(values)] or values
    scores = [_score(t, in_scope, off_topic, near_miss) for t in candidates]
    best = max(scores)
    run_start = run_end = None
    longest = (0.0, candidates[scores.index(best)])
    for t, score in zip(candidates, scores, strict=True):
        if score == best:
            run_start = t if run_start is None else run_start
            run_end = t
            if run_end - run_start >= longest[0]:
                longest = (run_end - run_start, (run_start + run_end) / 2)
        else:
            run_start = run_end = None
    threshold = longest[1]
    right = sum(p.right and p.confidence >= threshold for p in in_scope)
    wrong = sum(not p.right and p.confidence >= threshold for p in in_scope)
    answered_off = sum(p.confidence >= threshold for p in off_topic)
    summary = (
        f"At {threshold:.3f}: {right}/{len(in_scope)} FAQ phrasings answered right, {wrong} "
        f"answered wrongly, {answered_off}/{len(off_topic)} English off-topic probes answered"
    )
    if near_miss:
        answered_near = sum(p.confidence >= threshold for p in near_miss)
        summary += (
            f", {answered_near}/{len(near_miss)} FAQ phrasings asked with their whole entry "
            "left out answered by another entry"
        )
    return threshold, summary + "."


def _score(
    threshold: float,
    in_scope: Sequence[Probe],
    off_topic: Sequence[Probe],
    near_miss: Sequence[Probe],
) -> float:
    """Share answered right, minus share answered wrongly, plus shares of outside probes
    declined: all of the off-topic share, NEAR_MISS_WEIGHT of the near-miss share."""
    right = sum(p.right and p.confidence >= threshold for p in in_scope)
    wrong = sum(not p.right and p.confidence >= threshold for p in in_scope)
    declined = sum(p.confidence < threshold for p in off_topic) / len(off_topic)
    if near_miss:
        share = sum(p.confidence < threshold for p in near_miss) / len(near_miss)
        declined += NEAR_MISS_WEIGHT * share
    return (right - wrong) / len(in_scope) + declined


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of values (linear interpolation)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
