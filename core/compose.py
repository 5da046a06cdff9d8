"""Answer composition: the Composer protocol and the offline, grounded composer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core import texts
from core.knowledge import ChunkKind
from core.language import Language
from core.memory import Turn
from core.messages import Choice
from core.ranking import RankedEntry, Ranking
from core.store_records import ContactProfile

MAX_PASSAGE_CHARS = 700
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class ComposeRequest:
    """Everything an answer may draw on."""

    question: str
    ranking: Ranking
    history: tuple[Turn, ...] = ()
    profile: ContactProfile | None = None
    language: Language = Language.EN


@dataclass(frozen=True, slots=True)
class Composition:
    """What to say, and whether a person should take over."""

    text: str
    escalate: bool = False
    reason: str | None = None
    choices: tuple[Choice, ...] = ()
    source_entry_ids: tuple[str, ...] = field(default_factory=tuple)


class Composer(Protocol):
    """Writes the reply to one question."""

    async def compose(self, request: ComposeRequest) -> Composition:
        """Compose a reply grounded in the request's ranking."""
        ...


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Answer at or above `answer` with a clear lead; offer choices from `choice` up.

    The defaults are cosine-scale values chosen on validation data for all-MiniLM-L6-v2
    (bench/RESULTS.md); another embedder needs its own. `by_language` holds other (answer,
    choice) pairs for questions searched in a given language (an ISO 639-1 code): a question in
    Chinese scores lower against English knowledge than the same question in English does.
    """

    answer: float = 0.64
    choice: float = 0.59
    margin: float = 0.02
    max_choices: int = 3
    by_language: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def for_language(self, language: str) -> tuple[float, float]:
        """The (answer, choice) thresholds for a question searched in this language."""
        return self.by_language.get(language, (self.answer, self.choice))


class OfflineComposer:
    """Answers only with text from the knowledge base; never invents anything."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()

    async def compose(self, request: ComposeRequest) -> Composition:
        """Quote the best entry, offer a choice, or say it does not know."""
        return self.compose_now(request)

    def compose_now(self, request: ComposeRequest) -> Composition:
        """The same as compose, without awaiting (the LLM composer falls back on it)."""
        ranking = request.ranking
        top = ranking.top
        answer, choice = self.thresholds.for_language(ranking.language)
        clear_lead = ranking.margin >= self.thresholds.margin
        if top is not None and ranking.confidence >= answer and clear_lead:
            return Composition(text=answer_text(top), source_entry_ids=(top.entry_id,))
        choices = self._choices(ranking)
        if ranking.confidence >= choice and len(choices) > 1:
            labels = " / ".join(c.label.rstrip("?") for c in choices)
            return Composition(
                text=texts.text("choices.did_you_mean", request.language, options=labels),
                choices=choices,
            )
        return not_known(request.language)

    def _choices(self, ranking: Ranking) -> tuple[Choice, ...]:
        """Up to max_choices distinct entries, labelled by their titles."""
        seen: set[str] = set()
        choices: list[Choice] = []
        for entry in ranking.entries:
            label = entry.best.title.strip()
            if not label or label.lower() in seen:
                continue
            seen.add(label.lower())
            choices.append(Choice(label=label, entry_id=entry.entry_id))
            if len(choices) == self.thresholds.max_choices:
                break
        return tuple(choices)


def not_known(language: Language = Language.EN) -> Composition:
    """The honest reply when the knowledge base has no answer."""
    return Composition(text=texts.text("not_known", language), escalate=True, reason="no_answer")


def answer_text(entry: RankedEntry) -> str:
    """The reply text for an entry: an FAQ answer whole, a passage trimmed for chat."""
    chunk = entry.best
    if chunk.kind in (ChunkKind.FAQ_QUESTION, ChunkKind.FAQ_ANSWER):
        return chunk.answer.strip()
    return trim_passage(chunk.answer)


def trim_passage(text: str, limit: int = MAX_PASSAGE_CHARS) -> str:
    """Cut a passage at a sentence boundary so it fits a chat message."""
    text = text.strip()
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept or text[:limit].rsplit(" ", 1)[0] + " …"
