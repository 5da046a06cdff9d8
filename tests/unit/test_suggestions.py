from collections.abc import Sequence

import numpy as np
import pytest

from core.compose import Thresholds
from core.knowledge import Chunk, ChunkKind
from core.ranking import RankedEntry, Ranking
from core.suggestions import (
    MAX_ALTERNATIVES,
    Candidate,
    ConfidentAnswer,
    Handoff,
    Kept,
    SuggestedKnowledge,
    add_alternative,
    answer_body,
    customer_question,
    is_answer,
    nearest,
)

ANSWER = "Hi Amy, yes: 40 lots at B2, $2.50 per hour. Call 9123 4567.\nRegards,\nWei Ming"


class FakeStore:
    def __init__(self, handoff: Handoff | None) -> None:
        self._handoff = handoff
        self.kept: list[tuple[Candidate, float]] = []

    async def handoff(self, token: str) -> Handoff | None:
        return self._handoff if token == "t1" else None

    async def keep(self, candidate: Candidate, merge_at: float) -> Kept | None:
        self.kept.append((candidate, merge_at))
        return Kept(1, merged=False)


class FakeEmbedder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        vectors: np.ndarray = np.full((len(texts), 3), 1 / np.sqrt(3), dtype=np.float32)
        return vectors


class FakeKnown:
    def __init__(self, answers: bool) -> None:
        self._answers = answers
        self.asked: list[str] = []

    async def answers(self, question: str) -> bool:
        self.asked.append(question)
        return self._answers


def handoff() -> Handoff:
    return Handoff(
        5,
        (
            "talk to a person please",
            "Amy Tan here, is there parking near your shop? my number is 9123 4567",
            "hello",
        ),
        "Amy Tan",
    )


async def test_keeps_the_masked_question_and_answer() -> None:
    store, embedder, known = FakeStore(handoff()), FakeEmbedder(), FakeKnown(False)
    await SuggestedKnowledge(store, embedder, known, merge_at=0.9).learn("t1", ANSWER)
    [(candidate, merge_at)] = store.kept
    assert candidate.escalation_id == 5
    assert (
        candidate.question == "[name] here, is there parking near your shop? my number is [phone]"
    )
    assert candidate.answer == "Yes: 40 lots at B2, $2.50 per hour. Call [phone]."
    assert len(candidate.embedding) == 3
    assert merge_at == 0.9
    assert embedder.seen == known.asked == [candidate.question]


async def test_skips_a_question_the_knowledge_base_answers() -> None:
    store = FakeStore(handoff())
    await SuggestedKnowledge(store, FakeEmbedder(), FakeKnown(True)).learn("t1", ANSWER)
    assert store.kept == []


@pytest.mark.parametrize("answer", ["#bot", "", "ok", "Noted, thanks!", "Yes we do.", "ok will do"])
async def test_skips_acknowledgements(answer: str) -> None:
    store, known = FakeStore(handoff()), FakeKnown(False)
    await SuggestedKnowledge(store, FakeEmbedder(), known).learn("t1", answer)
    assert store.kept == []
    assert known.asked == []


async def test_unknown_handoff_and_no_question_keep_nothing() -> None:
    store = FakeStore(handoff())
    await SuggestedKnowledge(store, FakeEmbedder(), FakeKnown(False)).learn("other", ANSWER)
    assert store.kept == []
    only_greetings = FakeStore(Handoff(6, ("hi", "talk to a human", "thanks")))
    await SuggestedKnowledge(only_greetings, FakeEmbedder(), FakeKnown(False)).learn("t1", ANSWER)
    assert only_greetings.kept == []


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("Hi Amy,\n\nWe open at 9.\n\nBest regards,\nWei Ming\nManager", "We open at 9."),
        ("Dear Mr Tan! yes, we deliver.\nThanks", "Yes, we deliver."),
        ("We deliver on weekends too.\nCheers, Ahmad", "We deliver on weekends too."),
        ("Thanks for asking: we deliver.", "Thanks for asking: we deliver."),
        ("Hello, best cakes are the pandan ones.", "Best cakes are the pandan ones."),
        ("Hi,\nRegards", "Hi,\nRegards"),
        ("We deliver.\nThanks to our van, it is free.\nOrder by 5pm.", None),
        ("We deliver.\nthanks,\nwei ming\n+65 9123 4567", "We deliver."),
    ],
)
def test_answer_body_drops_greeting_and_sign_off(text: str, body: str | None) -> None:
    assert answer_body(text) == (text if body is None else body)


def test_is_answer() -> None:
    assert is_answer("We open at 9am")
    assert is_answer("Yes, 40 lots at B2.")
    assert not is_answer("ok noted")
    assert not is_answer("Thank you!")


def test_customer_question_is_the_newest_real_question() -> None:
    assert customer_question(["speak to a real person", "parking?", "hi"]) == "parking?"
    assert customer_question(["Do you sell gift boxes for companies", "hi"]) == (
        "Do you sell gift boxes for companies"
    )
    assert customer_question(["hello", "ok"]) is None


def test_nearest_picks_the_most_similar_above_the_threshold() -> None:
    pending = [(1, [1.0, 0.0]), (2, [0.8, 0.6]), (3, [0.1, 0.2, 0.3])]
    assert nearest([0.6, 0.8], pending, 0.9) == 2  # cosine 0.96
    assert nearest([0.0, 1.0], pending, 0.9) is None  # best cosine 0.6
    assert nearest([0.6, 0.8], [], 0.9) is None
    assert nearest([0.1, 0.2, 0.3], pending, 0.99) == 3  # only vectors of its length


def test_add_alternative_skips_repeats_and_stops_at_the_cap() -> None:
    assert add_alternative("Do you have parking?", (), "Got parking?") == ("Got parking?",)
    assert add_alternative("Do you have parking?", (), "do you have  PARKING") is None
    assert add_alternative("Q?", ("Got parking?",), "got parking") is None
    full = tuple(f"q{n}" for n in range(MAX_ALTERNATIVES))
    assert add_alternative("Q?", full, "new one") is None


class FakeRetrieval:
    def __init__(self, ranking: Ranking) -> None:
        self._ranking = ranking

    async def retrieve(self, text: str) -> Ranking:
        return self._ranking


def ranking(confidence: float, margin: float, language: str = "en") -> Ranking:
    chunk = Chunk("faq.yaml", "e1", "Q", "Q", "A", ChunkKind.FAQ_QUESTION, 0)
    entry = RankedEntry("e1", confidence, chunk)
    return Ranking((entry,), confidence, margin, language)


async def test_confident_answer_uses_the_current_thresholds() -> None:
    thresholds = Thresholds(answer=0.7, choice=0.6, margin=0.02, by_language={"zh": (0.5, 0.4)})
    current = [thresholds]
    check = ConfidentAnswer(FakeRetrieval(ranking(0.72, 0.05)), lambda: current[0])
    assert await check.answers("q")
    current[0] = Thresholds(answer=0.75, choice=0.7)
    assert not await check.answers("q")
    assert not await ConfidentAnswer(FakeRetrieval(ranking(0.9, 0.01)), lambda: thresholds).answers(
        "q"
    )
    assert await ConfidentAnswer(
        FakeRetrieval(ranking(0.55, 0.1, "zh")), lambda: thresholds
    ).answers("q")


async def test_the_business_own_contacts_stay_readable() -> None:
    store = FakeStore(handoff())
    learner = SuggestedKnowledge(
        store, FakeEmbedder(), FakeKnown(False), public_contacts=["shop@bakery.test"]
    )
    await learner.learn("t1", "Email shop@bakery.test with your logo, not amy@gmail.com.")
    [(candidate, _)] = store.kept
    assert candidate.answer == "Email shop@bakery.test with your logo, not [email]."


async def test_the_staff_members_own_name_is_masked_wherever_it_appears() -> None:
    store = FakeStore(handoff())
    answer = "Yes, 40 lots at B2. Ask for Jolene at the counter for a parking coupon."
    await SuggestedKnowledge(store, FakeEmbedder(), FakeKnown(False)).learn(
        "t1", answer, staff_name="Jolene Ong"
    )
    [(candidate, _)] = store.kept
    assert "Jolene" not in candidate.answer and "[name]" in candidate.answer
