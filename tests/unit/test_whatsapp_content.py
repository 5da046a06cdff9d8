"""Choices as WhatsApp content: quick replies, lists, what cannot be shown, stable names."""

from __future__ import annotations

from channels.numbered_choices import render_choices
from channels.whatsapp.content import (
    MAX_ITEM_TITLE,
    content_hash,
    content_types,
    shorten,
)
from channels.whatsapp.twilio import parse_inbound
from core.language import Language
from core.messages import Choice, InboundMessage
from core.ratings import chosen_score, rating_question

TWO = (Choice("Opening hours", "faq:hours"), Choice("Halal?", "faq:halal"))


def test_up_to_three_short_choices_are_quick_reply_buttons() -> None:
    types = content_types("Did you mean:", TWO, render_choices("Did you mean:", TWO))
    assert types is not None
    quick = types["twilio/quick-reply"]
    assert quick["body"] == "Did you mean:"
    assert quick["actions"] == [
        {"title": "Opening hours", "id": "faq:hours"},
        {"title": "Halal?", "id": "faq:halal"},
    ]
    assert types["twilio/text"]["body"].endswith("1. Opening hours\n2. Halal?")
    assert "twilio/list-picker" not in types


def test_long_labels_or_more_choices_are_a_list_with_the_whole_label_described() -> None:
    long = "Can I order a whole pandan chiffon cake for tomorrow morning?"
    choices = (Choice(long, "faq:order"), Choice("Delivery", "faq:delivery"))
    types = content_types("Did you mean:", choices, "x")
    assert types is not None and "twilio/quick-reply" not in types
    first, second = types["twilio/list-picker"]["items"]
    assert len(first["item"]) == MAX_ITEM_TITLE and first["item"].endswith("…")
    assert first["description"] == long and first["id"] == "faq:order"
    assert second == {"item": "Delivery", "id": "faq:delivery"}


def test_a_rating_is_a_list_of_five_read_back_as_the_score() -> None:
    text, choices = rating_question(Language.EN)
    types = content_types(text, choices, render_choices(text, choices))
    assert types is not None
    items = types["twilio/list-picker"]["items"]
    assert [item["id"] for item in items] == [f"rating:{n}" for n in range(1, 6)]
    form = {"MessageSid": "SM1", "From": "whatsapp:+6591234567", "Body": "", "NumMedia": "0"}
    picked = parse_inbound(form | {"ListId": "rating:4", "ListTitle": items[3]["item"]})
    assert isinstance(picked, InboundMessage)
    assert picked.choice_entry_id == "rating:4" and chosen_score(picked) == 4
    assert picked.text == items[3]["item"]
    tapped = parse_inbound(form | {"ButtonPayload": "faq:halal", "ButtonText": "Halal?"})
    assert isinstance(tapped, InboundMessage) and tapped.choice_entry_id == "faq:halal"


def test_what_buttons_cannot_carry_stays_numbered_text() -> None:
    many = tuple(Choice(f"Option {n}", f"faq:{n}") for n in range(11))
    assert content_types("Pick one", many, "x") is None
    assert content_types("", TWO, "x") is None
    assert content_types("x" * 1025, TWO, "x") is None
    assert content_types("Pick", (Choice("Long id", "e" * 201),), "x") is None
    assert content_types("Pick", (), "x") is None


def test_the_same_content_has_the_same_name_in_every_process() -> None:
    one = content_types("Did you mean:", TWO, "x")
    assert one is not None
    reordered = dict(reversed(list(one.items())))
    assert content_hash(one) == content_hash(reordered)
    other = content_types("Did you mean:", TWO[:1], "x")
    assert other is not None and content_hash(other) != content_hash(one)


def test_shorten_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("  Opening\nhours ", 20) == "Opening hours"
    assert shorten("abcdefghij", 5) == "abcd…"
