"""English words for the customer-service vocabulary of a question in Chinese, Malay or Tamil."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Final

import yaml

from core.language import Language

_LATIN_WORD: Final = re.compile(r"[a-z]+")
_TAMIL_WORD: Final = re.compile(r"[\u0b80-\u0bff]+")
_MALAY_SHORTHAND: Final = {
    "x": "tak",
    "tk": "tak",
    "nk": "nak",
    "bole": "boleh",
    "blh": "boleh",
    "brp": "berapa",
    "bape": "berapa",
    "dpt": "dapat",
    "dlm": "dalam",
    "utk": "untuk",
    "dgn": "dengan",
    "yg": "yang",
    "sy": "saya",
    "sbb": "sebab",
    "mcm": "macam",
    "camne": "macam mana",
    "cmne": "macam mana",
    "korang": "kamu",
    "kt": "kat",
    "lg": "lagi",
    "jgn": "jangan",
    "org": "orang",
    "hr": "hari",
    "ari": "hari",
    "ptg": "petang",
    "mlm": "malam",
    "skrg": "sekarang",
    "bkk": "buka",
    "tutp": "tutup",
}
"""Malay chat spellings and the standard words the models and the glossary know."""


@functools.cache
def _glossary() -> dict[str, dict[str, str]]:
    """The glossary file: language code -> {word: English}."""
    text = resources.files("core.lexicon").joinpath("glossary.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    return {
        code: {str(k).lower(): str(v) for k, v in terms.items()} for code, terms in loaded.items()
    }


def standard_malay(text: str) -> str:
    """Malay chat shorthand ("bole x", "brp") spelt out; other words unchanged."""
    words = re.split(r"(\W+)", text)
    return "".join(_MALAY_SHORTHAND.get(w.lower(), w) for w in words)


def english_glosses(text: str, language: Language) -> list[str]:
    """English for the glossary words found in a Chinese, Malay or Tamil text, in order."""
    terms = _glossary().get(language.value)
    if not terms:
        return []
    if language is Language.ZH:
        return _longest_first(text, terms)
    if language is Language.MS:
        return _phrases(_LATIN_WORD.findall(standard_malay(text).lower()), terms, prefix=False)
    return _phrases(_TAMIL_WORD.findall(text), terms, prefix=True)


@functools.cache
def _longest_chinese_term() -> int:
    """Length of the longest Chinese glossary word (counted once, not per message)."""
    return max(map(len, _glossary().get(Language.ZH.value, {"": ""})))


def _longest_first(text: str, terms: dict[str, str]) -> list[str]:
    """Scan unsegmented text, taking the longest glossary word at each position."""
    longest = _longest_chinese_term()
    found: list[str] = []
    position = 0
    while position < len(text):
        for size in range(min(longest, len(text) - position), 0, -1):
            english = terms.get(text[position : position + size])
            if english is not None:
                found.append(english)
                position += size
                break
        else:
            position += 1
    return found


def _phrases(words: list[str], terms: dict[str, str], *, prefix: bool) -> list[str]:
    """Match glossary phrases of up to three words; with prefix, a word may carry an ending."""
    found: list[str] = []
    position = 0
    while position < len(words):
        for size in (3, 2, 1):
            if position + size > len(words):
                continue
            phrase = " ".join(words[position : position + size])
            english = terms.get(phrase)
            if english is None and prefix and size == 1:
                english = _by_prefix(phrase, terms)
            if english is not None:
                found.append(english)
                position += size
                break
        else:
            position += 1
    return found


def _by_prefix(word: str, terms: dict[str, str]) -> str | None:
    """The English of the longest glossary word that begins this word (Tamil endings)."""
    for end in range(len(word), 1, -1):
        english = terms.get(word[:end])
        if english is not None:
            return english
    return None
