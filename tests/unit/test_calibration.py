"""Thresholds chosen from a knowledge base's own probes (core.calibration)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.calibration import (
    Calibration,
    Probe,
    calibrate_index,
    choose,
    in_scope_probes,
    near_miss_probes,
    off_topic_questions,
)
from core.compose import Thresholds
from core.knowledge import Chunk, ChunkKind
from core.ranking import RankedEntry, Ranking


def faq(entry: str, text: str) -> Chunk:
    return Chunk("faq.yaml", entry, entry, text, f"answer {entry}", ChunkKind.FAQ_QUESTION, 0)


def test_separable_probes_get_a_threshold_between_them() -> None:
    in_scope = [Probe(0.70 + i / 100, "en", right=True) for i in range(20)]
    off_topic = [Probe(0.20 + i / 100, "en") for i in range(20)]  # 0.20 .. 0.39
    calibration = choose(in_scope, off_topic)
    assert calibration.answer is not None
    assert 0.39 < calibration.answer < 0.70


def test_wrong_in_scope_answers_push_the_threshold_up() -> None:
    right = [Probe(0.80 + i / 100, "en", right=True) for i in range(10)]
    wrong = [Probe(0.60 + i / 100, "en", right=False) for i in range(10)]
    off_topic = [Probe(0.20 + i / 100, "en") for i in range(20)]
    calibration = choose([*right, *wrong], off_topic)
    assert calibration.answer is not None and 0.69 < calibration.answer < 0.80


def test_other_languages_sit_above_their_own_off_topic_scores() -> None:
    in_scope = [Probe(0.70 + i / 100, "en", right=True) for i in range(20)]
    english = [Probe(0.20 + i / 100, "en") for i in range(20)]
    chinese = [Probe(0.05 + i / 100, "zh") for i in range(10)]  # scores lower across languages
    calibration = choose(in_scope, [*english, *chinese])
    assert calibration.answer is not None
    zh = calibration.by_language["zh"]
    assert max(p.confidence for p in chinese) < zh < calibration.answer
    assert "ms" not in calibration.by_language  # no Malay probes: Malay keeps the defaults


def test_too_few_probes_keep_the_defaults_and_say_why() -> None:
    one_entry = [Probe(0.9, "en", right=True)]
    calibration = choose(one_entry, [Probe(0.2, "en") for _ in range(20)])
    assert calibration.answer is None
    assert "Not enough probes" in calibration.explain()
    base = Thresholds(0.64, 0.59)
    assert calibration.apply(base) == base
    empty = choose([], [])
    assert empty.answer is None and empty.apply(base) == base


def test_off_topic_probes_the_business_does_cover_are_set_aside() -> None:
    in_scope = [Probe(0.70 + i / 100, "en", right=True) for i in range(20)]
    off_topic = [Probe(0.20 + i / 100, "en") for i in range(20)] + [Probe(0.95, "en")]
    calibration = choose(in_scope, off_topic)
    assert calibration.off_topic["en"] == 20
    assert "set aside" in calibration.explain()


def test_apply_keeps_the_gap_to_the_choices_and_round_trips_through_json() -> None:
    calibration = Calibration(0.5, {"zh": 0.3}, 40, {"en": 40, "zh": 20})
    applied = calibration.apply(Thresholds(0.64, 0.59, 0.02))
    assert (applied.answer, round(applied.choice, 6), applied.margin) == (0.5, 0.45, 0.02)
    assert applied.for_language("zh") == pytest.approx((0.3, 0.25))
    assert applied.for_language("ta") == (0.5, applied.choice)
    assert Calibration.from_json(calibration.to_json()) == calibration


def test_in_scope_probes_are_phrasings_of_entries_with_another_phrasing() -> None:
    chunks = [faq("a", "open on sat?"), faq("a", "saturday hours"), faq("b", "parking?")]
    assert [c.text for c in in_scope_probes(chunks)] == ["open on sat?", "saturday hours"]
    many = [faq(f"e{n // 2}", f"q{n}") for n in range(100)]
    assert len(in_scope_probes(many, limit=10)) == 10


def test_the_bundled_off_topic_probes_cover_four_languages() -> None:
    languages = {code for code, _ in off_topic_questions()}
    assert languages == {"en", "zh", "ms", "ta"}


class LeaveOutRetrieval:
    """Ranks by the first word, leaving out the chunks it is told to."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        self.left_out: list[frozenset[Chunk]] = []

    async def retrieve_many(
        self, texts: Sequence[str], leave_out: Sequence[frozenset[Chunk]] = ()
    ) -> list[Ranking]:
        skips = list(leave_out) or [frozenset[Chunk]()] * len(texts)
        self.left_out.extend(skips)
        rankings = []
        for text, skip in zip(texts, skips, strict=True):
            first = text.split()[0]
            found = [c for c in self.chunks if c not in skip and c.text.split()[0] == first]
            entries = tuple(RankedEntry(c.entry_id, 0.8, c) for c in found[:1])
            rankings.append(Ranking(entries, 0.8 if entries else 0.1))
        return rankings


async def test_calibrate_index_leaves_each_phrasing_then_each_entry_out_of_its_search() -> None:
    chunks = [faq(f"e{n}", f"w{n} phrasing {k}") for n in range(6) for k in range(2)]
    retrieval = LeaveOutRetrieval(chunks)
    calibration = await calibrate_index(retrieval, chunks)
    singles = [frozenset((c,)) for c in chunks]
    entries = {frozenset(c for c in chunks if c.entry_id == f"e{n}") for n in range(6)}
    assert retrieval.left_out[: len(chunks)] == singles
    assert entries <= set(retrieval.left_out)
    assert calibration.answer is not None and 0.1 < calibration.answer < 0.8
    assert calibration.in_scope == 12
    assert "whole entry left out" in calibration.explain()


def test_near_miss_probes_take_phrasings_from_every_entry_in_turn() -> None:
    chunks = [faq("a", "a1"), faq("a", "a2"), faq("a", "a3"), faq("b", "b1"), faq("c", "c1")]
    probes = near_miss_probes(chunks, limit=4)
    assert [c.text for c, _ in probes] == ["a1", "b1", "c1", "a2"]
    whole_a = frozenset(c for c in chunks if c.entry_id == "a")
    assert all(entry == whole_a for c, entry in probes if c.entry_id == "a")
    assert near_miss_probes([faq("a", "a1"), faq("a", "a2")]) == []  # nothing else to find


def test_near_misses_answered_by_other_entries_raise_the_threshold() -> None:
    lowest = Probe(0.50, "en", right=True)
    in_scope = [lowest, *(Probe(0.60 + i / 100, "en", right=True) for i in range(39))]
    off_topic = [Probe(0.20 + i / 100, "en") for i in range(20)]  # 0.20 .. 0.39
    near = [Probe(0.55, "en") for _ in range(40)]  # close questions above the lowest right one
    without = choose(in_scope, off_topic).answer
    with_near = choose(in_scope, off_topic, near).answer
    assert without is not None and with_near is not None
    assert without < 0.50 and 0.55 < with_near < 0.60  # one right answer given up for them
    # near misses weigh little: they never push the threshold over many right answers
    far = [Probe(0.80, "en") for _ in range(40)]
    assert (choose(in_scope, off_topic, far).answer or 1) < 0.50
