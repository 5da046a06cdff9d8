"""NRIC/FIN validation and masking, and the masking of phones, emails and cards in logs."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import configure_logging, mask_pii
from core.messages import ChannelName, InboundMessage
from core.redaction import NRIC_NOTICE, hide_ids, is_valid_nric, mask_for_logs, mask_nric

WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def check_letter(prefix: str, digits: str) -> str:
    """An oracle written apart from core.redaction, in the terms the rules are published in."""
    weighted = sum(w * int(d) for w, d in zip(WEIGHTS, digits, strict=True))
    if prefix == "M":
        # GovTech FormSG's isMFinSeriesValid: S1 = sum + 3, R1 = S1 % 11, P = 11 - R1.
        p = 11 - (weighted + 3) % 11
        return "KLJNPQRTUWX"[p - 1]
    offset = 4 if prefix in "TG" else 0
    table = "JZIHGFEDCBA" if prefix in "ST" else "XWUTRQPNMLK"
    return table[(weighted + offset) % 11]


def make(prefix: str, digits: str) -> str:
    return f"{prefix}{digits}{check_letter(prefix, digits)}"


def wrong(nric: str) -> str:
    """The same number with a check letter that is not the right one."""
    return nric[:8] + ("A" if nric[8] != "A" else "B")


# Published examples: S1234567D is the usual sample; S9912345A, T1394524H, F0477844T and
# G9592927W (and their look-alikes one letter on) are in GovTech FormSG's NRIC field tests;
# M1234567K is FormSG's M-series example.
PUBLISHED_VALID = ["S1234567D", "S9912345A", "T1394524H", "F0477844T", "G9592927W", "M1234567K"]
PUBLISHED_INVALID = ["S1234567A", "S9912345B", "T1394524I", "F0477844U", "G9592927X", "M1234567N"]
COMPUTED = [make(p, d) for p in "STFGM" for d in ("0000000", "1234567", "9876543", "5550123")]


@pytest.mark.parametrize("nric", PUBLISHED_VALID)
def test_published_examples_are_valid(nric: str) -> None:
    assert is_valid_nric(nric)
    assert check_letter(nric[0], nric[1:8]) == nric[8]


@pytest.mark.parametrize("nric", PUBLISHED_INVALID)
def test_published_look_alikes_are_invalid(nric: str) -> None:
    assert not is_valid_nric(nric)


@pytest.mark.parametrize("nric", COMPUTED)
def test_every_prefix_valid_and_one_letter_off_invalid(nric: str) -> None:
    assert is_valid_nric(nric)
    assert is_valid_nric(nric.lower())
    assert not is_valid_nric(wrong(nric))


@pytest.mark.parametrize("prefix", list("STFGM"))
def test_exactly_one_check_letter_fits(prefix: str) -> None:
    fits = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if is_valid_nric(f"{prefix}7654321{c}")]
    assert fits == [check_letter(prefix, "7654321")]


def test_full_width_forms_count() -> None:
    full = "".join(chr(ord(c) + 0xFEE0) for c in "s1234567d")
    assert is_valid_nric(full)
    assert not is_valid_nric(full[:8] + "\uff21")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "S1234567",
        "S1234567DD",
        "A1234567D",
        "S12345X7D",
        "S123456 7D",
        "S1234567D?",
    ],
)
def test_malformed_is_invalid(text: str) -> None:
    assert not is_valid_nric(text)


@given(st.sampled_from("STFGM"), st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_agrees_with_the_published_rules(prefix: str, digits: str) -> None:
    letter = check_letter(prefix, digits)
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert is_valid_nric(f"{prefix}{digits}{c}") == (c == letter)


@pytest.mark.parametrize(
    ("text", "masked", "count"),
    [
        ("My NRIC is S1234567D.", "My NRIC is *****567D.", 1),
        ("ic: s1234567d please", "ic: *****567d please", 1),
        ("我的身份证号码是S1234567D，谢谢", "我的身份证号码是*****567D，谢谢", 1),
        ("FIN F0477844T and T1394524H", "FIN *****844T and *****524H", 2),
        ("new FIN (M1234567K)", "new FIN (*****567K)", 1),
        (
            "IME \uff33\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff24!",
            "IME *****\uff15\uff16\uff17\uff24!",
            1,
        ),
        ("order S1234567A shipped", "order S1234567A shipped", 0),
        ("我的订单号G9592927X", "我的订单号G9592927X", 0),
        ("code XS1234567D or S1234567D9", "code XS1234567D or S1234567D9", 0),
        ("S 1234567 D", "S 1234567 D", 0),
        ("no numbers here", "no numbers here", 0),
    ],
)
def test_mask_nric(text: str, masked: str, count: int) -> None:
    assert mask_nric(text) == (masked, count)


def test_notice_tells_the_customer() -> None:
    assert "NRIC" in NRIC_NOTICE


valid_nrics = st.builds(
    make, st.sampled_from("STFGM"), st.text("0123456789", min_size=7, max_size=7)
)
texts = st.lists(
    st.one_of(
        st.text(max_size=12),
        valid_nrics,
        valid_nrics.map(wrong),
        valid_nrics.map(str.lower),
        valid_nrics.map(lambda s: "".join(chr(ord(c) + 0xFEE0) for c in s)),
        st.sampled_from([" ", "，", "S", "7", "*", "\uff17"]),
    ),
    max_size=8,
).map("".join)


@given(texts)
def test_mask_nric_is_idempotent(text: str) -> None:
    once, _ = mask_nric(text)
    assert mask_nric(once) == (once, 0)


@given(texts)
def test_mask_nric_changes_only_valid_nrics(text: str) -> None:
    masked, count = mask_nric(text)
    assert len(masked) == len(text)
    windows = [i for i in range(len(text) - 8) if is_valid_nric(text[i : i + 9])]
    covered = {i + k for i in windows for k in range(9)}
    assert all(i in covered for i, (a, b) in enumerate(zip(text, masked, strict=True)) if a != b)
    assert count <= len(windows)
    if not windows:
        assert masked == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call +65 9123 4567 now", "call +65 ****4567 now"),
        ("call 91234567 now", "call ****4567 now"),
        ("office 6123-4567", "office ****4567"),
        ("KL +60 12-345 6789", "KL +60 ****6789"),
        ("whatsapp:+6591234567", "whatsapp:+65 ****4567"),
        ("电话91234567谢谢", "电话****4567谢谢"),
        ("order 12345678 shipped", "order 12345678 shipped"),
        ("mail Mary.Tan@example.com.sg today", "mail M***@example.com.sg today"),
        ("a@b.co and x_y+z@shop.sg", "a***@b.co and x***@shop.sg"),
        ("card 4111 1111 1111 1111 ok", "card **** **** **** 1111 ok"),
        ("card 5555-5555-5555-4444", "card **** **** **** 4444"),
        ("card 4111111111111111", "card **** **** **** 1111"),
        ("card 4111 1111 1111 1112", "card 4111 1111 1111 1112"),
        ("telegram chat -1001234567890", "telegram chat -1001234567890"),
        ("IC S1234567D, ref S1234567A", "IC *****567D, ref S1234567A"),
        ("conversation=1234 id=98765", "conversation=1234 id=98765"),
        ("reply_sent", "reply_sent"),
    ],
)
def test_mask_for_logs(text: str, masked: str) -> None:
    assert mask_for_logs(text) == masked
    assert mask_for_logs(masked) == masked


@dataclass
class Contact:
    phone: str


def test_processor_masks_nested_values() -> None:
    event: dict[str, Any] = {
        "event": "inbound S1234567D",
        "user": "whatsapp:+6591234567",
        "meta": {"emails": ["jane@example.com", ("card", "4111 1111 1111 1111")], "n": 91234567},
        "contact": Contact("+65 9123 4567"),
        "plain": Contact("none"),
        "deep": [[[[["S1234567D"]]]]],
        "exc_info": True,
    }
    out = mask_pii(None, "info", event)
    assert out["event"] == "inbound *****567D"
    assert out["user"] == "whatsapp:+65 ****4567"
    assert out["meta"] == {
        "emails": ["j***@example.com", ("card", "**** **** **** 1111")],
        "n": 91234567,
    }
    assert out["contact"] == "Contact(phone='+65 ****4567')"
    assert out["plain"] == Contact("none")
    assert "S1234567D" not in repr(out["deep"])
    assert out["exc_info"] is True


def test_configured_logging_masks_before_rendering(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    try:
        configure_logging(fmt="json")
        structlog.get_logger("t").info("inbound", text="IC S1234567D, call 91234567")
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err)
    assert line["text"] == "IC *****567D, call ****4567"


def test_hide_ids_masks_the_text_and_the_display_name() -> None:
    message = InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id="7",
        provider_message_id="1",
        text="my ic s1234567d",
        received_at=datetime.now(UTC),
        display_name="Tan S1234567D",
    )
    hidden = hide_ids(message)
    assert (hidden.text, hidden.display_name, hidden.ids_masked) == (
        "my ic *****567d",
        "Tan *****567D",
        1,  # the warning is about the text; the name is masked without one
    )
    assert hide_ids(hidden) == hidden
    assert hide_ids(replace(message, display_name=None)).display_name is None
    assert hide_ids(replace(message, text="hello", display_name="Tan")) == replace(
        message, text="hello", display_name="Tan"
    )
