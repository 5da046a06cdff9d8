"""The privacy notice customers see first, and how their yes or no is recognised (PDPA)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from core import texts
from core.data_rights import DataSummary
from core.language import Language
from core.messages import ChannelName

ERASE_YES = "privacy:erase"
ERASE_NO = "privacy:keep"
_LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ms": "Bahasa Melayu", "ta": "தமிழ்"}

_YES = re.compile(
    r"^\s*(yes|y|ok|okay|agree|i agree|sure|can|好|好的|是|同意|可以|ya|setuju|boleh|ஆம்|சரி)"
    r"[\s!.。！]*$",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\s*(no|n|nope|disagree|i do not agree|don't agree|不|不同意|不要|tidak|tak|tak setuju|"
    r"இல்லை)[\s!.。！]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PrivacyNotice:
    """The notice (the business's own text, or ours in the customer's language) and its rule."""

    privacy_url: str
    required: bool = False
    custom_text: str | None = None

    def notice(self, language: Language) -> str:
        """The notice in the customer's language, unless the business wrote its own."""
        if self.custom_text:
            return self.custom_text
        if not self.privacy_url:
            return texts.text("consent.notice_no_link", language)
        return texts.text("consent.notice", language, privacy_url=self.privacy_url)


def consent_answer(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (in the four languages)."""
    if _YES.match(text):
        return True
    if _NO.match(text):
        return False
    return None


def describe_data(summary: DataSummary, language: Language, zone: tzinfo) -> str:
    """The customer's answer to "what do you know about me", in their language."""
    not_given = texts.text("privacy.not_given", language)
    if summary.consent is None or summary.consent_at is None:
        consent = texts.text("privacy.consent_none", language)
    else:
        key = "privacy.consent_given" if summary.consent else "privacy.consent_declined"
        consent = texts.text(
            key, language, date=summary.consent_at.astimezone(zone).date().isoformat()
        )
    ratings = ", ".join(
        texts.text(
            "privacy.rating",
            language,
            score=str(score),
            date=at.astimezone(zone).date().isoformat(),
        )
        for score, at in summary.ratings
    )
    body = texts.text(
        "privacy.summary",
        language,
        name=summary.display_name or not_given,
        lang=_LANGUAGE_NAMES.get(summary.language or "", not_given),
        channels=", ".join(ChannelName(c).label for c in summary.channels) or not_given,
        conversations=str(summary.conversations),
        messages=str(summary.messages),
        since=summary.first_contact.astimezone(zone).date().isoformat(),
        consent=consent,
        ratings=ratings or texts.text("privacy.ratings_none", language),
    )
    return f"{texts.text('privacy.export_ready', language)}\n{body}"
