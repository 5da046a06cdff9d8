"""Which of Singapore's four official languages a customer writes in, detected offline."""

# Han characters mean Chinese and Tamil script means Tamil, decided by the script alone. Latin
# text is English (Singlish included) or Malay: small lists of each language's function words
# and of Singlish particles and words, weighed together with lingua's confidence values.

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

import lingua


class Language(StrEnum):
    """A language the bot writes in; the value is its ISO 639-1 code."""

    EN = "en"
    ZH = "zh"
    MS = "ms"
    TA = "ta"


_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_TAMIL_WORD: Final = re.compile(r"[\u0b80-\u0bff]+")
_NOT_WORDS: Final = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|sg|my|net|org|io)\b\S*",
    re.IGNORECASE,
)
_LATIN_WORD: Final = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _word_set(words: str) -> frozenset[str]:
    """A set of words written in one string, apart by spaces."""
    return frozenset(words.split())


# English grammar words. Loanwords that Malay speakers use inside Malay sentences ("order",
# "deliver", "booking", "check", "free", "open", "ok") are left out on purpose.
_ENGLISH: Final = _word_set(
    """
    a about already also am an and any are at be because but by can can't could did do
    does don't for from get got had has have he her here his how i i'd i'll i'm if in is
    isn't it it's just like many me more much my need no not now of on or our please pls
    she should so some still than thank thanks that that's the their them then there
    these they this those time to too until till us very want was we were what what's
    when where which who why will with would yet you you're your ur wat wan plz thx tmr
    abt dun cos
    """
)
# Singlish particles and words that an English sentence from Singapore carries but a Malay
# one does not ("lah" and "ah" are left out: Malay speakers use them as much).
_SINGLISH: Final = _word_set(
    """
    leh lor meh hor sia liao mah anot tapau dabao shiok paiseh walao jialat chope kiasu
    sian aiyo aiyoh aiyah aiya bojio cheem
    """
)
# Malay grammar words and the commonest words of a shop conversation, with chat spellings
# ("hari" is left out: "Hari Raya open?" is English).
_MALAY: Final = _word_set(
    """
    ada adakah akan anda apa atau awak bagaimana banyak barang bayar belum berapa beli
    bila boleh buka cik dah dan dapat dari daripada dekat dengan dgn di dia encik esok
    hantar harga hendak hingga ini itu juga kami kasih kat ke kedai kenapa kita
    lagi macam mahu mana masih mengapa minta minggu nak ni pada pesanan puan pukul saja
    sahaja salam sampai sana saya semalam sila sini situ sudah tak tempah tempahan
    terima tidak tolong tu tuan untuk utk yang je pun sy nk tk blh brp
    """
)
_SINGLISH_WEIGHT: Final = 2.0
_LINGUA_WEIGHT: Final = 2.0
_SURE_WITHOUT_WORDS: Final = 0.9  # lingua's confidence needed when no listed word is present
_MIN_WORDS: Final = 2
_READ_CHARS: Final = 1000  # a long message's language shows in its beginning

_LINGUA_LANGUAGES: Final = {
    lingua.Language.ENGLISH: Language.EN,
    lingua.Language.CHINESE: Language.ZH,
    lingua.Language.MALAY: Language.MS,
    lingua.Language.TAMIL: Language.TA,
}


class LanguageDetector:
    """Detects English (Singlish included), Chinese, Malay or Tamil; build once and share."""

    # Preloaded, building takes about 0.3 s and 80 MB; lazily, the first message in Latin
    # script pays the 0.3 s instead. A call takes about 50 µs (Latin script) or under 10 µs
    # (Chinese, Tamil), so it may run on the event loop. One instance is safe across threads.

    def __init__(self, *, preload: bool = True) -> None:
        builder = lingua.LanguageDetectorBuilder.from_languages(*_LINGUA_LANGUAGES)
        if preload:
            builder = builder.with_preloaded_language_models()
        self._lingua = builder.build()

    def detect(self, text: str) -> Language | None:
        """The message's language; None when too short or ambiguous to tell."""
        cleaned = _NOT_WORDS.sub(" ", text[:_READ_CHARS])
        words = [w for w in _LATIN_WORD.findall(cleaned.lower()) if len(w) > 1]
        han = len(_HAN.findall(cleaned))
        tamil = len(_TAMIL_WORD.findall(cleaned))
        if (han or tamil) and max(han, tamil) >= len(words):
            # A message mostly in Chinese or Tamil script, English words or not.
            return Language.ZH if han >= tamil else Language.TA
        if len(words) < _MIN_WORDS:
            return None
        return self._english_or_malay(words)

    def _english_or_malay(self, words: list[str]) -> Language | None:
        """English or Malay for Latin-script words, or None when neither is clear."""
        english = sum(w in _ENGLISH for w in words)
        singlish = sum(w in _SINGLISH for w in words)
        malay = sum(w in _MALAY for w in words)
        confidence = {
            _LINGUA_LANGUAGES[value.language]: value.value
            for value in self._lingua.compute_language_confidence_values(" ".join(words))
        }
        lean = confidence.get(Language.EN, 0.0) - confidence.get(Language.MS, 0.0)
        if english + singlish + malay == 0 and abs(lean) < 2 * _SURE_WITHOUT_WORDS - 1:
            return None
        score = english + _SINGLISH_WEIGHT * singlish - malay + _LINGUA_WEIGHT * lean
        if score == 0:
            return None
        return Language.EN if score > 0 else Language.MS


def choose_language(
    detected: Language | None, remembered: str | None, default: Language = Language.EN
) -> Language:
    """The language to answer in: this message's, else the customer's remembered one."""
    if detected is not None:
        return detected
    if remembered:
        try:
            return Language(remembered.strip().lower())
        except ValueError:
            pass
    return default
