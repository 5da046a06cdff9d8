"""Every text the bot writes itself, in English, Chinese, Malay and Tamil.

The tables live in core/texts_*.py by topic; this module joins them and fills them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

from core.language import Language, choose_language
from core.texts_notices import NOTICES
from core.texts_privacy import PRIVACY
from core.texts_replies import REPLIES
from core.texts_words import ATTACHMENT_KINDS, HOLIDAYS, WORDS

EN, ZH, MS, TA = Language.EN, Language.ZH, Language.MS, Language.TA

CATALOG: Final[Mapping[str, Mapping[Language, str]]] = MappingProxyType(
    {
        key: MappingProxyType(by_language)
        for key, by_language in {**REPLIES, **PRIVACY, **NOTICES, **WORDS}.items()
    }
)
_ANNOTATION: Final = re.compile(r"\s*\((?:observed|estimated)(?:,\s*(?:observed|estimated))*\)")
_AND: Final = {EN: " and ", ZH: "和", MS: " dan ", TA: " மற்றும் "}

# (first hour, format) per part of the day; the clock itself is 12-hour, "9:00".
_DAY_PARTS: Final[Mapping[Language, tuple[tuple[int, str], ...]]] = {
    EN: ((0, "{clock} am"), (12, "{clock} pm")),
    ZH: (
        (0, "凌晨{clock}"),
        (6, "上午{clock}"),
        (12, "中午{clock}"),
        (13, "下午{clock}"),
        (18, "晚上{clock}"),
    ),
    MS: (
        (0, "{clock} tengah malam"),
        (1, "{clock} pagi"),
        (12, "{clock} tengah hari"),
        (14, "{clock} petang"),
        (19, "{clock} malam"),
    ),
    TA: (
        (0, "இரவு {clock} மணி"),
        (5, "காலை {clock} மணி"),
        (12, "மதியம் {clock} மணி"),
        (15, "மாலை {clock} மணி"),
        (19, "இரவு {clock} மணி"),
    ),
}


def text(key: str, language: Language, **values: str) -> str:
    """The text for a key in a language, its placeholders filled; KeyError for unknown keys."""
    try:
        template = CATALOG[key][language]
    except KeyError:
        raise KeyError(f"no text {key!r} in {language!r}") from None
    return template.format_map(values)


def in_language(key: str, code: str | None, **values: str) -> str:
    """text() for a stored language code; English when the code is missing or unknown."""
    return text(key, choose_language(None, code), **values)


def greeting(business: str, name: str | None, returning: bool, language: Language) -> str:
    """Hello, with the customer's name when known and 'again' for a returning customer."""
    key = f"greeting.{'returning' if returning else 'new'}{'_named' if name else ''}"
    return text(key, language, business=business, name=name or "")


def attachment_name(kind: str, language: Language) -> str:
    """What text_only calls an attachment kind ('photo' -> 'photos'); unknown kinds generic."""
    key = f"attachment.{kind}" if kind in ATTACHMENT_KINDS else "attachment.other"
    return text(key, language)


def holiday_name(english: str, language: Language) -> str:
    """A holiday's name in the language, without '(observed)'; unknown names unchanged."""
    names = [_ANNOTATION.sub("", part).strip() for part in english.split(";")]
    localised = [HOLIDAYS[n][language] if n in HOLIDAYS else n for n in names if n]
    return _AND[language].join(localised)


def clock(at: datetime, language: Language) -> str:
    """A wall-clock time the way the language says it: '9:00 am', '上午9:00', '9:00 pagi'."""
    form = next(f for hour, f in reversed(_DAY_PARTS[language]) if at.hour >= hour)
    return form.format(clock=f"{at.hour % 12 or 12}:{at.minute:02d}")


def when_phrase(opens: datetime, now: datetime, language: Language) -> str:
    """'9:00 am today', 'tomorrow 9:00 am' or 'Tuesday 10 Nov, 9:00 am', in the language."""
    time = clock(opens, language)
    days = (opens.date() - now.astimezone(opens.tzinfo).date()).days
    if days == 0:
        return text("when.today", language, time=time)
    if days == 1:
        return text("when.tomorrow", language, time=time)
    return text(
        "when.later",
        language,
        weekday=text(f"weekday.{opens.weekday()}", language),
        day=str(opens.day),
        month=text(f"month.{opens.month}", language),
        time=time,
    )
