"""What is searched for a customer's question: its language, the text to match, the model mix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from core.glossary import english_glosses, standard_malay
from core.language import Language, LanguageDetector
from core.singlish import plain_english

ENGLISH_WEIGHT: Final = 0.5
"""MiniLM's share for English questions; E5 has the rest. Both models together found the right
entry more often than either alone on the Singlish dev questions and CLINC150 val
(bench/QUALITY.md). Other languages use E5 alone: MiniLM reads no Chinese or Tamil."""

MINILM_SURE_CONFIDENCE: Final = 0.70
MINILM_SURE_MARGIN: Final = 0.02
"""An English question whose MiniLM-only ranking reaches this confidence and lead keeps it
without asking E5. Chosen on CLINC150 val (best overall accuracy of the bars tried; 76 % of
questions skip E5, 99.2 % of decisions unchanged): bench/research/cascade_study.txt."""


@dataclass(frozen=True, slots=True)
class SearchQuestion:
    """A question as the search sees it."""

    language: Language
    """The language the search was routed by (English when it could not tell)."""
    text: str
    """Embedded and matched by keywords: shorthand spelt out, English glosses appended."""
    english_weight: float
    """The English model's share when two models are in use."""


def search_question(text: str, detector: LanguageDetector | None) -> SearchQuestion:
    """Prepare a question for the search: rewrite Singlish, gloss other languages."""
    detected = detector.detect(text) if detector is not None else None
    language = detected or Language.EN
    if language is Language.EN:
        return SearchQuestion(language, plain_english(text), ENGLISH_WEIGHT)
    base = standard_malay(text) if language is Language.MS else text
    glosses = english_glosses(text, language)
    # E5 reads the question and the English words side by side; BM25 matches the English ones.
    searched = f"{base} ({', '.join(glosses)})" if glosses else base
    return SearchQuestion(language, searched, 0.0)


def english_alone_suffices(confidence: float, margin: float) -> bool:
    """Whether a MiniLM-only ranking is sure enough to skip the multilingual model."""
    return confidence >= MINILM_SURE_CONFIDENCE and margin >= MINILM_SURE_MARGIN
