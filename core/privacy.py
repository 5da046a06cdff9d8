"""The privacy notice customers see first, and how their yes or no is recognised (PDPA)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core import texts
from core.language import Language

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
        return texts.text("consent.notice", language, privacy_url=self.privacy_url)


def consent_answer(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (in the four languages)."""
    if _YES.match(text):
        return True
    if _NO.match(text):
        return False
    return None
