from datetime import date, datetime
from string import Formatter
from zoneinfo import ZoneInfo

import holidays
import pytest

from core.business_calendar import BusinessCalendar
from core.hours import parse_schedule
from core.language import Language
from core.texts import (
    ATTACHMENT_KINDS,
    CATALOG,
    HOLIDAYS,
    attachment_name,
    clock,
    greeting,
    holiday_name,
    text,
    when_phrase,
)

SGT = ZoneInfo("Asia/Singapore")
ALL = tuple(Language)
# What the bot writes, by the name the callers use; each must be in the catalog.
REQUIRED = [
    "greeting.new",
    "greeting.new_named",
    "greeting.returning",
    "greeting.returning_named",
    "thanks",
    "rephrase",
    "not_known",
    "sorry.complaint",
    "sorry.no_answer_twice",
    "handoff.open",
    "handoff.closed_for",
    "handoff.closed",
    "when.today",
    "when.tomorrow",
    "when.later",
    "text_only",
    "choices.did_you_mean",
    "choices.reply_with_number",
    "consent.notice",
    "consent.ask",
    "consent.granted",
    "consent.declined",
    "privacy.how_to",
    "privacy.export_ready",
    "privacy.erase_confirm",
    "privacy.erased",
    "privacy.erase_cancelled",
    "nric_warning",
    "rate_limited",
    "too_long",
    *(f"weekday.{d}" for d in range(7)),
    *(f"month.{m}" for m in range(1, 13)),
    *(f"attachment.{k}" for k in ATTACHMENT_KINDS),
]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_required_keys_exist() -> None:
    assert set(REQUIRED) <= set(CATALOG)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_in_every_language_with_the_same_placeholders(key: str) -> None:
    by_language = CATALOG[key]
    assert set(by_language) == set(ALL)
    english = placeholders(by_language[Language.EN])
    for language in ALL:
        template = by_language[language]
        assert template.strip() == template and template, (key, language)
        assert placeholders(template) == english, (key, language)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_translations_are_in_their_own_script(key: str) -> None:
    by_language = CATALOG[key]
    if key == "when.later" or key.startswith(("month.", "attachment.audio", "attachment.video")):
        return  # placeholders only, or Malay shares the word with English
    assert by_language[Language.ZH] != by_language[Language.EN]
    assert any("\u0b80" <= c <= "\u0bff" for c in by_language[Language.TA]), key
    malay = by_language[Language.MS]
    assert not any("\u0b80" <= c <= "\u0bff" or "\u4e00" <= c <= "\u9fff" for c in malay)


def test_english_texts_are_the_ones_the_bot_writes_today() -> None:
    when = "Tuesday 10 Nov, 9:00 am"
    assert text("handoff.closed_for", Language.EN, reason="Deepavali", when=when) == (
        "We are closed for Deepavali; a member of our team will reply to you here from "
        "Tuesday 10 Nov, 9:00 am."
    )
    assert text("handoff.open", Language.EN) == (
        "I've asked a member of our team to reply to you here. Please hold on."
    )
    assert text("rephrase", Language.EN).startswith("Sorry, I don't know the answer to that.")
    assert text("text_only", Language.EN, things="photos") == (
        "Sorry, I can't open photos yet; I can only read text. Please type your question."
    )


def test_formatting_fills_placeholders() -> None:
    notice = text("consent.notice", Language.MS, privacy_url="https://example.com/privacy")
    assert notice.endswith("https://example.com/privacy")
    assert "{" not in text("too_long", Language.TA, limit="4000")
    assert text("choices.did_you_mean", Language.ZH, options="营业时间 / 送货") == (
        "我想确认一下您的问题。您是指：营业时间 / 送货？"
    )
    # Values are inserted as they are, never read as templates themselves.
    assert "{x}" in text("greeting.new_named", Language.EN, business="Shop", name="{x}")


def test_unknown_key_and_missing_value_raise_key_error() -> None:
    with pytest.raises(KeyError, match="no_such_text"):
        text("no_such_text", Language.EN)
    with pytest.raises(KeyError):
        text("handoff.closed", Language.ZH)


@pytest.mark.parametrize(
    ("name", "returning", "language", "expected_start"),
    [
        (None, False, Language.EN, "Hello, welcome to Pandan Bakehouse! Ask me"),
        ("Mei Ling", False, Language.EN, "Hello Mei Ling, welcome to Pandan Bakehouse!"),
        ("Mei Ling", True, Language.EN, "Hello Mei Ling, welcome again to Pandan Bakehouse!"),
        (None, True, Language.ZH, "您好，欢迎再次光临Pandan Bakehouse！"),
        ("Aisyah", False, Language.MS, "Helo Aisyah, selamat datang ke Pandan Bakehouse!"),
        ("Ravi", True, Language.TA, "வணக்கம் Ravi, Pandan Bakehouse உங்களை மீண்டும்"),
    ],
)
def test_greeting(
    name: str | None, returning: bool, language: Language, expected_start: str
) -> None:
    assert greeting("Pandan Bakehouse", name, returning, language).startswith(expected_start)


def test_attachment_names() -> None:
    assert attachment_name("photo", Language.EN) == "photos"
    assert attachment_name("voice", Language.ZH) == "语音消息"
    assert attachment_name("hologram", Language.MS) == "lampiran"
    assert attachment_name("document", Language.TA) == "கோப்புகளை"


def sg_holiday_names() -> set[str]:
    found = holidays.country_holidays("SG", years=[2026, 2027], language="en_SG")
    return set(found.values())


def calendar_holiday_names() -> set[str]:
    calendar = BusinessCalendar(parse_schedule("mon-sun 09:00-18:00"), SGT)
    days = (date(2026, 1, 1).toordinal() + n for n in range(730))
    names = (calendar.holiday_name(date.fromordinal(d)) for d in days)
    return {name for name in names if name is not None}


def test_every_sg_holiday_2026_2027_has_four_names() -> None:
    names = sg_holiday_names() | calendar_holiday_names()
    assert "Deepavali (observed)" in names  # the annotations really occur
    for english in names:
        for language in ALL:
            name = holiday_name(english, language)
            assert name and "(" not in name, (english, language)
            if language is not Language.EN:
                base = english.replace(" (observed)", "")
                assert base in HOLIDAYS, english


@pytest.mark.parametrize(
    ("english", "language", "expected"),
    [
        ("Deepavali (observed)", Language.EN, "Deepavali"),
        ("Deepavali (observed)", Language.ZH, "屠妖节"),
        ("Chinese New Year", Language.MS, "Tahun Baru Cina"),
        ("Hari Raya Puasa", Language.TA, "நோன்புப் பெருநாள்"),
        ("Vesak Day (observed, estimated)", Language.ZH, "卫塞节"),
        (
            "Chinese New Year (estimated); Hari Raya Puasa (estimated)",
            Language.ZH,
            "农历新年和开斋节",
        ),
        ("Staff retreat", Language.MS, "Staff retreat"),
    ],
)
def test_holiday_name(english: str, language: Language, expected: str) -> None:
    assert holiday_name(english, language) == expected


NOW = datetime(2026, 11, 7, 20, 0, tzinfo=SGT)  # Saturday evening before Deepavali


@pytest.mark.parametrize(
    ("opens", "language", "expected"),
    [
        (datetime(2026, 11, 7, 21, 30, tzinfo=SGT), Language.EN, "9:30 pm today"),
        (datetime(2026, 11, 8, 9, 0, tzinfo=SGT), Language.EN, "tomorrow 9:00 am"),
        (datetime(2026, 11, 10, 9, 0, tzinfo=SGT), Language.EN, "Tuesday 10 Nov, 9:00 am"),
        (datetime(2026, 11, 7, 21, 30, tzinfo=SGT), Language.ZH, "今天晚上9:30"),
        (datetime(2026, 11, 8, 9, 0, tzinfo=SGT), Language.ZH, "明天上午9:00"),
        (datetime(2026, 11, 10, 9, 0, tzinfo=SGT), Language.ZH, "11月10日星期二上午9:00"),
        (datetime(2026, 11, 7, 21, 30, tzinfo=SGT), Language.MS, "9:30 malam hari ini"),
        (datetime(2026, 11, 8, 9, 0, tzinfo=SGT), Language.MS, "9:00 pagi esok"),
        (
            datetime(2026, 11, 10, 9, 0, tzinfo=SGT),
            Language.MS,
            "Selasa, 10 November, 9:00 pagi",
        ),
        (datetime(2026, 11, 7, 21, 30, tzinfo=SGT), Language.TA, "இன்று இரவு 9:30 மணி"),
        (datetime(2026, 11, 8, 9, 0, tzinfo=SGT), Language.TA, "நாளை காலை 9:00 மணி"),
        (
            datetime(2026, 11, 10, 9, 0, tzinfo=SGT),
            Language.TA,
            "நவம்பர் 10, செவ்வாய்க்கிழமை, காலை 9:00 மணி",
        ),
    ],
)
def test_when_phrase(opens: datetime, language: Language, expected: str) -> None:
    assert when_phrase(opens, NOW, language) == expected


def test_when_phrase_counts_days_in_the_opening_zone() -> None:
    # 23:30 UTC on 7 Nov is already 8 Nov in Singapore: the opening at 09:00 is "today".
    now_utc = datetime(2026, 11, 7, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert when_phrase(datetime(2026, 11, 8, 9, 0, tzinfo=SGT), now_utc, Language.EN) == (
        "9:00 am today"
    )


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (0, 15, ("12:15 am", "凌晨12:15", "12:15 tengah malam", "இரவு 12:15 மணி")),
        (7, 30, ("7:30 am", "上午7:30", "7:30 pagi", "காலை 7:30 மணி")),
        (12, 0, ("12:00 pm", "中午12:00", "12:00 tengah hari", "மதியம் 12:00 மணி")),
        (14, 30, ("2:30 pm", "下午2:30", "2:30 petang", "மதியம் 2:30 மணி")),
        (16, 0, ("4:00 pm", "下午4:00", "4:00 petang", "மாலை 4:00 மணி")),
        (19, 0, ("7:00 pm", "晚上7:00", "7:00 malam", "இரவு 7:00 மணி")),
    ],
)
def test_clock(hour: int, minute: int, expected: tuple[str, str, str, str]) -> None:
    at = datetime(2026, 11, 10, hour, minute, tzinfo=SGT)
    assert tuple(clock(at, language) for language in ALL) == expected
