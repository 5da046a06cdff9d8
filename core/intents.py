"""Messages answered without the knowledge base: greetings, thanks, asking for a person."""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    """What a short message is, when it is not a question for the knowledge base."""

    GREETING = "greeting"
    THANKS = "thanks"
    HUMAN = "human"


_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.HUMAN,
        re.compile(
            r"^/human\b|\b(talk|speak|chat)\s+(to|with)\s+(a\s+)?(real\s+)?(person|human|staff|someone|agent)"
            r"|\b(real|live)\s+(person|human|agent)\b|\bhuman\s+please\b|\bcustomer\s+service\b",
            re.IGNORECASE,
        ),
    ),
    (
        Intent.THANKS,
        re.compile(
            r"^\s*(thanks?|thank\s+you|thx|ty|tq)( (so|very) much)?[\s!.]*(lah|ah)?[\s!.]*$", re.I
        ),
    ),
    (
        Intent.GREETING,
        re.compile(
            r"^\s*(/start|hi+|hello+|hey+|hiya|good\s+(morning|afternoon|evening))"
            r"( there)?[\s!.,]*(lah|ah)?[\s!.]*$",
            re.IGNORECASE,
        ),
    ),
)


def classify(text: str) -> Intent | None:
    """Return the intent of a message the knowledge base should not answer, or None."""
    for intent, pattern in _PATTERNS:
        if pattern.search(text.strip()):
            return intent
    return None
