"""Messages asking two things: split into parts, both answered (core.question_parts)."""

from __future__ import annotations

import pytest

from core.compose import OfflineComposer, Thresholds
from core.language import Language
from core.question_parts import answer_parts, question_parts
from core.ranking import Ranking
from tests.fakes import ranking


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "How much is a whole cake and can I order for tomorrow?",
            ["How much is a whole cake", "can I order for tomorrow?"],
        ),
        ("Open on Saturday? Also, is there parking?", ["Open on Saturday?", "is there parking?"]),
        ("有停车位吗？还有，可以刷卡吗？", ["有停车位吗？", "可以刷卡吗？"]),
        (
            "Caj delivery berapa dan boleh bayar PayNow?",
            ["Caj delivery berapa", "boleh bayar PayNow?"],
        ),
        ("Do you have cakes and cookies?", ["Do you have cakes and cookies?"]),
        ("What time do you open on Saturday?", ["What time do you open on Saturday?"]),
        ("ok? thanks", ["ok? thanks"]),
    ],
)
def test_a_message_is_split_only_where_it_asks_again(message: str, parts: list[str]) -> None:
    assert question_parts(message) == parts


class ByPart:
    """Retrieval that knows one ranking per part."""

    def __init__(self, rankings: dict[str, Ranking]) -> None:
        self.rankings = rankings

    async def retrieve(self, text: str) -> Ranking:
        return self.rankings[text]


COMPOSER = OfflineComposer(Thresholds(answer=0.6, choice=0.3))


async def test_two_parts_answered_by_different_entries_give_both_answers() -> None:
    retrieval = ByPart(
        {
            "price?": ranking(0.9, ("price", "A whole cake is $48.")),
            "tomorrow?": ranking(0.8, ("lead-time", "Order two days ahead.")),
        }
    )
    both = await answer_parts(["price?", "tomorrow?"], retrieval, COMPOSER, (), None, Language.EN)
    assert both is not None
    assert both.text == "A whole cake is $48.\n\nOrder two days ahead."
    assert both.source_entry_ids == ("price", "lead-time")


async def test_one_part_unanswered_or_the_same_entry_twice_gives_nothing() -> None:
    unsure = ByPart(
        {"price?": ranking(0.9, ("price", "$48")), "weather?": ranking(0.1, ("x", "y"))}
    )
    assert (
        await answer_parts(["price?", "weather?"], unsure, COMPOSER, (), None, Language.EN) is None
    )
    same = ByPart({"a?": ranking(0.9, ("price", "$48")), "b?": ranking(0.9, ("price", "$48"))})
    assert await answer_parts(["a?", "b?"], same, COMPOSER, (), None, Language.EN) is None
