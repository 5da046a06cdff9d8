"""Messages answered without the knowledge base: greetings, thanks, asking for a person.

Asking for a person is recognised in English, Singlish, Mandarin, Malay and Tamil.
"""

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
            r"^/human\b"
            # English and Singlish
            r"|\b(talk|speak|chat)\s+(to|with)\s+(a\s+|the\s+|your\s+)?(real\s+|actual\s+)?"
            r"(person|human|staff|someone|somebody|agent|boss|owner|manager)"
            r"|\b(real|live|actual)\s+(person|human|agent|staff)\b|\bhuman\s+(please|pls|leh)\b"
            r"|\bcustomer\s+service\b|\bgot\s+(real\s+)?(person|human|staff)\b"
            r"|\bcall\s+me\s+back\b"
            # Mandarin
            r"|人工客服|人工服务|转人工|找人工|要人工|真人|转客服|找客服|联系客服|跟人说|找老板|找负责人"
            # Malay
            r"|\b(cakap|bercakap|berbual)\s+(dengan|dgn)\s+(orang|manusia|staf|pekerja|kakitangan)"
            r"|\bnak\s+(orang|manusia|staf)\b|\bkhidmat\s+pelanggan\b"
            # Tamil
            r"|மனித|ஊழிய|வாடிக்கையாளர்\s*சேவை|யாரிடமாவது\s*பேச",
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
            r"^\s*(/start|/help|help|hi+|hello+|hey+|hiya|good\s+(morning|afternoon|evening))"
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
