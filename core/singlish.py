"""Singlish and chat shorthand rewritten as plain English before a question is searched."""

# The models were trained on standard English: "sat open until what time ah" or "got halal
# cert or not" score lower against "What time do you open on Saturday?" than the plain
# question does. Only the search sees the rewritten text; the customer's own words are kept.

from __future__ import annotations

import re
from typing import Final

_PARTICLES: Final = frozenset(
    [
        "lah",
        "la",
        "leh",
        "lor",
        "meh",
        "hor",
        "sia",
        "mah",
        "liao",
        "ah",
        "ar",
        "anot",
        "bah",
        "wor",
    ]
)
"""Sentence particles: they carry tone, not content."""

_WORDS: Final = {
    "u": "you",
    "yu": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "tmr": "tomorrow",
    "tmrw": "tomorrow",
    "tml": "tomorrow",
    "2mr": "tomorrow",
    "tdy": "today",
    "2day": "today",
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
    "pax": "people",
    "ppl": "people",
    "wat": "what",
    "wad": "what",
    "wan": "want",
    "abt": "about",
    "dun": "don't",
    "cos": "because",
    "coz": "because",
    "cuz": "because",
    "thx": "thanks",
    "tks": "thanks",
    "izit": "is it",
    "issit": "is it",
    "izzit": "is it",
    "oso": "also",
    "hv": "have",
    "hav": "have",
    "hw": "how",
    "nv": "never",
    "alr": "already",
    "alrdy": "already",
    "b4": "before",
    "bday": "birthday",
    "cfm": "confirm",
    "whr": "where",
    "wher": "where",
    "wif": "with",
    "w": "with",
    "shld": "should",
    "cant": "can't",
    "dont": "don't",
    "msg": "message",
    "nd": "need",
    "gt": "got",
    "tapau": "takeaway",
    "dabao": "takeaway",
    "makan": "eat",
    "chope": "reserve",
}
"""Chat shorthand and Singapore words with the plain English a model knows."""

_TOKEN: Final = re.compile(r"[A-Za-z0-9']+|[^A-Za-z0-9'\s]+")
_OR_NOT: Final = re.compile(r"\b(?:or\s+not|anot|or\s+no)\b\s*\??", re.IGNORECASE)
_YOU_ALL: Final = re.compile(r"\b(?:you|u)\s+(?:all|guys|ppl)\b", re.IGNORECASE)
_ADJECTIVE_ONE: Final = re.compile(
    r"\b(spicy|sweet|nice|cheap|expensive|big|small|fresh|halal|vegan|good)\s+one\b",
    re.IGNORECASE,
)


def plain_english(text: str) -> str:
    """The question with particles dropped and shorthand spelt out; other words unchanged.

    A question tag ("... or not", "... anot", "can or not") becomes a plain question; a
    leading "got" ("got halal cert?") becomes "do you have".
    """
    asked = bool(_OR_NOT.search(text)) or text.rstrip().endswith("?")
    text = _OR_NOT.sub(" ", text)
    text = _YOU_ALL.sub("you", text)
    text = _ADJECTIVE_ONE.sub(r"\1", text)
    words: list[str] = []
    for token in _TOKEN.findall(text):
        lowered = token.lower()
        if lowered in _PARTICLES:
            continue
        words.append(_WORDS.get(lowered, token))
    if words and words[0].lower() == "got":
        words[0] = "do you have"
    elif asked:
        words = [("have" if w.lower() == "got" else w) for w in words]
    plain = " ".join(words)
    plain = re.sub(r"\s+([?.!,])", r"\1", plain).strip()
    if asked and plain and not plain.endswith("?"):
        plain += "?"
    return plain or text.strip()
