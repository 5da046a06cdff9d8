import math

import pytest

from core.knowledge import ChunkKind
from core.ranking import RankingParams, rank_entries
from core.vector_index import Hit
from tests.fakes import chunk

PARAMS = RankingParams(sparse_weight=0.05, chunks_averaged=2)


def hit(entry: str, score: float, kind: ChunkKind = ChunkKind.FAQ_QUESTION) -> Hit:
    return Hit(chunk(entry, f"answer {entry}", kind=kind), score)


def test_entry_score_is_mean_of_its_two_best_cosines() -> None:
    ranking = rank_entries(
        [hit("a", 0.9), hit("a", 0.7), hit("a", 0.1), hit("b", 0.85)], [], PARAMS
    )
    a = next(e for e in ranking.entries if e.entry_id == "a")
    assert a.score == pytest.approx(0.8)
    # b has one hit: its missing second cosine is the lowest dense score seen (0.1).
    b = next(e for e in ranking.entries if e.entry_id == "b")
    assert b.score == pytest.approx((0.85 + 0.1) / 2)
    assert ranking.top is not None and ranking.top.entry_id == "a"
    assert ranking.confidence == pytest.approx(0.8)
    assert ranking.margin == pytest.approx(0.8 - 0.475)


def test_bm25_bonus_breaks_a_near_tie_but_cannot_override_a_clear_dense_win() -> None:
    dense = [hit("a", 0.80), hit("a", 0.80), hit("b", 0.79), hit("b", 0.79)]
    near_tie = rank_entries(dense, [hit("b", 12.0), hit("a", 3.0)], PARAMS)
    assert near_tie.entries[0].entry_id == "b"
    clear = [hit("a", 0.9), hit("a", 0.9), hit("b", 0.6), hit("b", 0.6)]
    assert rank_entries(clear, [hit("b", 50.0)], PARAMS).entries[0].entry_id == "a"


def test_passage_entries_are_not_averaged_with_the_floor() -> None:
    ranking = rank_entries([hit("sec", 0.7, ChunkKind.PASSAGE), hit("x", 0.2)], [], PARAMS)
    assert ranking.entries[0].entry_id == "sec"
    assert ranking.confidence == pytest.approx(0.7)


def test_entry_found_only_by_bm25_is_ranked() -> None:
    ranking = rank_entries([hit("a", 0.5), hit("a", 0.4)], [hit("z", 4.0)], PARAMS)
    assert {e.entry_id for e in ranking.entries} == {"a", "z"}


def test_no_hits_means_no_confidence() -> None:
    ranking = rank_entries([], [], PARAMS)
    assert ranking.top is None and ranking.confidence == 0.0


def test_single_entry_has_infinite_margin() -> None:
    assert math.isinf(rank_entries([hit("a", 0.7)], [], PARAMS).margin)


def test_ties_are_broken_by_entry_id_for_stable_answers() -> None:
    ranking = rank_entries([hit("b", 0.5), hit("a", 0.5)], [], PARAMS)
    assert [e.entry_id for e in ranking.entries] == ["a", "b"]
