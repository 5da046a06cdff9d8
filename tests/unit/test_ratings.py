"""The rating question, reading scores, and ratings in the customer's /mydata answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.metrics import Metrics
from bot.rating_requests import may_write
from core.consent import describe_data
from core.data_rights import DataSummary
from core.language import Language
from core.messages import ChannelName, InboundMessage
from core.ratings import chosen_score, rating_question, typed_score
from core.texts import text

SGT = ZoneInfo("Asia/Singapore")
AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("language", list(Language))
def test_the_question_has_five_options_worst_first_in_the_language(language: Language) -> None:
    question, choices = rating_question(language)
    assert question == text("rating.ask", language)
    assert [c.entry_id for c in choices] == [f"rating:{n}" for n in range(1, 6)]
    # Stars grow with the score, so "5" typed on WhatsApp is the best whatever the language.
    assert [c.label.count("⭐") for c in choices] == [1, 2, 3, 4, 5]
    assert len({c.label for c in choices}) == 5


def test_each_language_asks_in_its_own_words() -> None:
    asked = {language: rating_question(language)[0] for language in Language}
    assert len(set(asked.values())) == 4
    assert "How did we do?" in asked[Language.EN]
    assert "我们的服务如何" in asked[Language.ZH]
    assert rating_question(Language.ZH)[1][4].label == "⭐⭐⭐⭐⭐ 非常好"


def tapped(choice: str | None, said: str = "") -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id="1",
        provider_message_id="1:1",
        text=said,
        received_at=AT,
        choice_entry_id=choice,
    )


@pytest.mark.parametrize(
    ("choice", "score"),
    [("rating:1", 1), ("rating:5", 5), ("rating:6", None), ("rating:x", None), ("faq-1", None)],
)
def test_a_tapped_button_gives_its_score_and_nothing_else_does(
    choice: str, score: int | None
) -> None:
    assert chosen_score(tapped(choice)) == score
    assert chosen_score(tapped(None, "4")) is None


@pytest.mark.parametrize(
    ("said", "score"),
    [
        ("4", 4),
        (" 5 ", 5),
        ("3.", 3),
        ("2/5", 2),
        ("1!", 1),
        ("0", None),
        ("6", None),
        ("45", None),
        ("4 stars, lovely cake", None),
        ("table for 4", None),
        ("", None),
    ],
)
def test_only_a_bare_number_from_1_to_5_is_a_typed_score(said: str, score: int | None) -> None:
    assert typed_score(said) == score


def summary(ratings: tuple[tuple[int, datetime], ...]) -> DataSummary:
    return DataSummary(
        display_name="Mei Ling",
        language="zh",
        channels=("telegram",),
        conversations=2,
        messages=7,
        first_contact=AT,
        consent=True,
        consent_at=AT,
        ratings=ratings,
    )


def test_mydata_lists_the_ratings_given_in_the_business_time_zone() -> None:
    late = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # already 5 December in Singapore
    described = describe_data(summary(((4, AT), (5, late))), Language.EN, SGT)
    assert "• Ratings: 4/5 on 2026-12-04, 5/5 on 2026-12-05\n" in described
    chinese = describe_data(summary(((4, AT),)), Language.ZH, SGT)
    assert "• 评分：2026-12-04 评 4/5\n" in chinese


@pytest.mark.parametrize("language", list(Language))
def test_mydata_says_when_there_are_no_ratings(language: Language) -> None:
    described = describe_data(summary(()), language, SGT)
    assert text("privacy.ratings_none", language) in described
    assert "{" not in described


def test_the_outcome_counters_are_exported() -> None:
    metrics = Metrics()
    metrics.ratings.labels("4").inc()
    metrics.handoffs.labels("asked_for_human").inc()
    metrics.resolutions.labels("bot").inc(2)
    exposed = metrics.render().decode()
    assert 'bot_ratings_total{score="4"} 1.0' in exposed
    assert 'bot_handoffs_total{reason="asked_for_human"} 1.0' in exposed
    assert 'bot_resolutions_total{by="bot"} 2.0' in exposed


@pytest.mark.parametrize(
    ("channel", "last_wrote", "asked"),
    [
        ("whatsapp", timedelta(hours=1), True),
        ("whatsapp", timedelta(hours=22, minutes=59), True),
        ("whatsapp", timedelta(hours=23, minutes=1), False),
        ("whatsapp", None, False),
        ("telegram", timedelta(days=3), True),
        ("webchat", None, True),
    ],
)
def test_whatsapp_customers_are_asked_only_inside_the_24_hour_window(
    channel: str, last_wrote: timedelta | None, asked: bool
) -> None:
    last_inbound = AT - last_wrote if last_wrote else None
    assert may_write(channel, last_inbound, AT) is asked
