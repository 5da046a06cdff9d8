"""Questions prepared for the search: Singlish, glosses, days (pure functions, no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.day_check import check_days, days_named
from core.dual_embedding import E5_FLOOR, E5_STRETCH, DualEmbedder
from core.glossary import english_glosses, standard_malay
from core.knowledge import Chunk, ChunkKind
from core.language import Language, LanguageDetector
from core.ranking import RankedEntry, Ranking
from core.search_question import ENGLISH_WEIGHT, search_question
from core.singlish import plain_english


@pytest.mark.parametrize(
    ("singlish", "plain"),
    [
        ("do u all got halal cert or not ah", "do you have halal cert?"),
        ("can pay paynow anot", "can pay paynow?"),
        ("got parking?", "do you have parking?"),
        ("tmr sat open what time lah", "tomorrow saturday open what time"),
        ("What time do you open on Saturday?", "What time do you open on Saturday?"),
    ],
)
def test_singlish_is_rewritten_as_plain_english(singlish: str, plain: str) -> None:
    assert plain_english(singlish) == plain


def test_glosses_find_customer_service_words_in_each_language() -> None:
    assert english_glosses("星期天开到几点？", Language.ZH) == ["sunday", "what time"]
    assert "sunday" in english_glosses("ahad tutup pukul brp", Language.MS)
    assert english_glosses("ஞாயிற்றுக்கிழமை திறந்திருக்குமா", Language.TA) == ["sunday", "open"]
    assert english_glosses("hello there", Language.EN) == []
    assert standard_malay("bole bayar x") == "boleh bayar tak"


def test_days_named_reads_single_days_ranges_and_groups() -> None:
    assert days_named("Tuesday to Friday, and Monday closed") == {0, 1, 2, 3, 4}
    assert days_named("open sat-mon") == {5, 6, 0}
    assert days_named("weekends only") == {5, 6}
    assert days_named("open daily") == set(range(7))
    assert days_named("what is the sunday special") == {6}
    assert days_named("how much is delivery") == set()


def entry(entry_id: str, score: float, text: str) -> RankedEntry:
    chunk = Chunk("faq.yaml", entry_id, text, text, text, ChunkKind.FAQ_QUESTION, 0)
    return RankedEntry(entry_id, score, chunk)


def test_an_entry_about_other_days_only_drops_below_the_asked_day() -> None:
    saturday = entry("sat", 0.80, "What time do you open on Saturday?")
    sunday = entry("sun", 0.74, "Sunday opening hours")
    ranking = Ranking((saturday, sunday), 0.80, 0.06)
    checked = check_days("sunday open until what time", ranking)
    assert [e.entry_id for e in checked.entries] == ["sun", "sat"]
    assert checked.confidence == pytest.approx(0.74)
    assert check_days("do you deliver", ranking) == ranking


def test_questions_are_routed_by_language() -> None:
    detector = LanguageDetector(preload=False)
    english = search_question("sat open what time ah", detector)
    assert english.language is Language.EN and english.english_weight == ENGLISH_WEIGHT
    assert english.text == "saturday open what time"
    chinese = search_question("你们星期六几点开门？", detector)
    assert chinese.language is Language.ZH and chinese.english_weight == 0.0
    assert "saturday" in chinese.text and chinese.text.startswith("你们星期六")


class FixedModel:
    """A stand-in model returning given unit vectors."""

    def __init__(self, name: str, vectors: dict[str, list[float]]) -> None:
        self.name = name
        self.vectors = vectors
        self.dimension = len(next(iter(vectors.values())))

    def _embed(self, texts: list[str]) -> np.ndarray:
        rows = np.asarray([self.vectors[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def close(self) -> None: ...


async def test_the_joined_vector_scores_as_the_weighted_sum_of_both_models() -> None:
    english = FixedModel("en", {"doc": [1, 0, 0], "q": [0.6, 0.8, 0]})
    multi = FixedModel("mu", {"doc": [0, 1, 0], "q": [0, 0.96, 0.28]})
    dual = DualEmbedder(english, multi)  # type: ignore[arg-type]
    document = (await dual.embed_documents(["doc"]))[0]
    assert dual.dimension == 6 and math.isclose(float(np.linalg.norm(document)), 1.0, rel_tol=1e-6)
    for weight in (0.0, 0.5, 1.0):
        vectors, scales = await dual.embed_weighted(["q"], [weight])
        query = vectors[0] / np.linalg.norm(vectors[0])  # the index compares by cosine
        found = scales[0].apply(float(query @ document))
        expected = weight * 0.6 + (1 - weight) * E5_STRETCH * (0.96 - E5_FLOOR)
        assert found == pytest.approx(expected, abs=1e-5)
