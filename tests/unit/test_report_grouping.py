"""Unanswered questions grouped by meaning: sizes, order, examples, the model's threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bot.report.unanswered import SLICE, THRESHOLDS, group_questions
from core.dual_embedding import DualEmbedder
from core.embedding import DUAL, E5_SMALL, MINILM, Vectors

# Each question's meaning, by the words it uses: a fake with the real embedder's interface.
_TOPICS = {"deliver": 0, "delivery": 0, "halal": 1, "parking": 2, "park": 2, "cake": 3}


class TopicEmbedder:
    """Embeds a text as its topic axis plus a little per-text wobble, L2-normalised."""

    def __init__(self, name: str = MINILM) -> None:
        self.name = name
        self.seen: list[str] = []
        self.calls = 0

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.seen += texts
        self.calls += 1
        rows = np.zeros((len(texts), 8), dtype=np.float32)
        for n, text in enumerate(texts):
            words = text.lower().replace("?", "").split()
            axis = next((_TOPICS[w] for w in words if w in _TOPICS), 4 + len(text) % 4)
            rows[n, axis] = 1.0
            rows[n, 7 - axis % 4] += 0.05 * (len(text) % 5)  # paraphrases differ a little
        normalised: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return normalised


async def test_paraphrases_are_grouped_and_the_largest_group_comes_first() -> None:
    questions = [
        "Do you deliver to Punggol?",
        "Can you deliver to Jurong West?",
        "delivery to Tampines possible?",
        "Is delivery free?",
        "Do you deliver on Sunday?",
        "Is your food halal?",
        "halal certified or not?",
        "Where can I park?",
    ]
    groups = await group_questions(questions, TopicEmbedder())
    assert [g.size for g in groups] == [5, 2, 1]
    assert len(groups[0].examples) == 3
    assert all("deliver" in e.lower() for e in groups[0].examples)
    assert set(groups[1].examples) == {"Is your food halal?", "halal certified or not?"}
    assert groups[2].examples == ("Where can I park?",)


async def test_repeats_count_in_the_size_but_show_once_and_are_embedded_once() -> None:
    embedder = TopicEmbedder()
    questions = ["Is your food halal?"] * 4 + ["is your  food halal?", "Where can I park?"]
    groups = await group_questions(questions, embedder)
    assert [g.size for g in groups] == [5, 1]
    assert groups[0].examples == ("Is your food halal?",)  # case and spacing are no news
    assert len(embedder.seen) == 3


async def test_no_questions_make_no_groups_and_one_makes_one() -> None:
    assert await group_questions([], TopicEmbedder()) == []
    assert await group_questions(["  "], TopicEmbedder()) == []
    groups = await group_questions(["Any cake today?"], TopicEmbedder())
    assert [(g.size, g.examples) for g in groups] == [(1, ("Any cake today?",))]


@pytest.mark.parametrize(
    ("threshold", "sizes"),
    [(0.01, [1, 1]), (1.5, [2])],
)
async def test_an_explicit_threshold_wins(threshold: float, sizes: list[int]) -> None:
    groups = await group_questions(["Is it halal?", "Where to park?"], TopicEmbedder(), threshold)
    assert [g.size for g in groups] == sizes


def test_each_bundled_model_has_its_measured_threshold() -> None:
    assert THRESHOLDS[MINILM] > THRESHOLDS[DUAL] > 0
    assert all(0 < t < 1 for t in THRESHOLDS.values())


async def test_many_questions_are_embedded_a_slice_at_a_time() -> None:
    # The model's thread answers customers too: none waits behind the whole week's questions.
    embedder = TopicEmbedder()
    questions = [f"Do you deliver to block {n}?" for n in range(2 * SLICE + 5)]
    groups = await group_questions(questions, embedder)
    assert embedder.calls == 3 and len(embedder.seen) == len(questions)
    assert [g.size for g in groups] == [len(questions)]


class _OneModel(TopicEmbedder):
    """One half of the dual model, remembering what it was asked to embed."""

    dimension = 8

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await self.embed_queries(texts)

    def close(self) -> None:
        pass


async def test_with_both_models_english_is_grouped_by_minilm_and_other_languages_by_e5() -> None:
    english, multilingual = _OneModel(MINILM), _OneModel(E5_SMALL)
    questions = [
        "Do you deliver to Punggol?",
        "delivery to Tampines got or not?",
        "你们有送货到淡滨尼吗？",
        "Boleh hantar kek ke Jurong West tak?",
        "Is your food halal?",
    ]
    groups = await group_questions(questions, DualEmbedder(english, multilingual))
    assert set(english.seen) == {questions[0], questions[1], questions[4]}
    assert set(multilingual.seen) == {questions[2], questions[3]}  # E5 reads only these
    # Each group holds one model's questions: never English with Chinese or Malay.
    for group in groups:
        assert {e in english.seen for e in group.examples} in ({True}, {False})
    assert sum(g.size for g in groups) == len(questions)
