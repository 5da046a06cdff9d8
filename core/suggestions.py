"""Staff answers to handed-over questions kept as suggested knowledge entries (StaffAnswers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import structlog

from core.answering import Retrieval
from core.compose import Thresholds
from core.intents import classify
from core.knowledge_masking import mask_personal

log = structlog.get_logger(__name__)

MERGE_SIMILARITY: Final = 0.84
"""Cosine (question embeddings) at which a question joins a pending suggestion.

Chosen on paraphrase groups (StackFAQ rephrasings, CLINC150 val intents) with
bench/suggestion_merge.py; the figures are in bench/RESULTS.md."""
MAX_ALTERNATIVES: Final = 20
_ACKNOWLEDGEMENT_TEXT: Final = """
    ok okay okie noted thanks thank you tq thx sure done will do yes no yep k got it
    received acknowledged alright roger cheers lah
"""
_ACKNOWLEDGEMENTS: Final = frozenset(_ACKNOWLEDGEMENT_TEXT.split())
_WORDS: Final = re.compile(r"\w+")
# "Hi Amy," or "Dear Mr Tan!" opening a staff answer: written to one customer, not to the next.
_GREETING: Final = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))\b[^,!\n]{0,40}[,!]\s*",
    re.IGNORECASE,
)
# A sign-off and what follows it (the name, a role, a phone line), near the end of the answer.
_SIGN_OFF: Final = re.compile(
    r"\n\s*(?i:(?:best|kind|warm|warmest)\s+regards|regards|rgds|thanks|thank\s+you|many\s+thanks"
    r"|cheers|sincerely|yours\s+sincerely|best|warmly)"
    r"[ \t]*(?:[,.!-][ \t]*(?:[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*){0,2}[ \t]*[.!]?)?)?"
    r"(?:\n[^\n]{0,60}){0,3}\s*$"
)


@dataclass(frozen=True, slots=True)
class Handoff:
    """A handoff as learning needs it: what the customer wrote before it, and their name."""

    escalation_id: int
    customer_messages: tuple[str, ...]
    """The customer's messages up to the handoff, newest first; the triggering one included."""
    customer_name: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A masked question and answer from one handoff, ready to be merged or added."""

    escalation_id: int
    question: str
    answer: str
    embedding: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Kept:
    """Where a candidate went: a new suggestion, or merged into a near one."""

    suggestion_id: int
    merged: bool


class SuggestionStore(Protocol):
    """Where handoffs are read and suggestions kept."""

    async def handoff(self, token: str) -> Handoff | None:
        """The handoff with this token; None when unknown."""
        ...

    async def keep(self, candidate: Candidate, merge_at: float) -> Kept | None:
        """Merge into the nearest pending suggestion at or above merge_at, or add one.

        None when this handoff was counted already (one handoff counts once).
        """
        ...


class QueryEmbedder(Protocol):
    """Embeds questions (core.embedding.Embedder satisfies it)."""

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class KnowledgeCheck(Protocol):
    """Says whether the knowledge base already answers a question."""

    async def answers(self, question: str) -> bool:
        """True when the bot would answer this question from the knowledge base by itself."""
        ...


class ConfidentAnswer:
    """KnowledgeCheck with the retrieval and the composer's current answer thresholds."""

    def __init__(self, retrieval: Retrieval, thresholds: Callable[[], Thresholds]) -> None:
        self._retrieval = retrieval
        self._thresholds = thresholds  # read each time: a calibration may change them

    async def answers(self, question: str) -> bool:
        """The top entry reaches the answer threshold with a clear lead, as the composer asks."""
        ranking = await self._retrieval.retrieve(question)
        thresholds = self._thresholds()
        answer, _ = thresholds.for_language(ranking.language)
        return (
            ranking.top is not None
            and ranking.confidence >= answer
            and ranking.margin >= thresholds.margin
        )


class SuggestedKnowledge:
    """StaffAnswers: each staff answer becomes, or adds weight to, a pending suggestion."""

    def __init__(
        self,
        store: SuggestionStore,
        embedder: QueryEmbedder,
        known: KnowledgeCheck,
        merge_at: float = MERGE_SIMILARITY,
        public_contacts: Sequence[str] = (),
    ) -> None:
        """`public_contacts`: the business's own phone numbers and addresses, never masked."""
        self._public = tuple(public_contacts)
        self._store = store
        self._embedder = embedder
        self._known = known
        self._merge_at = merge_at

    async def learn(self, token: str, answer: str, staff_name: str | None = None) -> None:
        """Keep the handoff's question with the staff answer, masked, unless it adds nothing."""
        if not is_answer(answer):
            log.info("suggestion_skipped", reason="not_an_answer")
            return
        handoff = await self._store.handoff(token)
        if handoff is None:
            log.info("suggestion_skipped", reason="unknown_handoff")
            return
        question = customer_question(handoff.customer_messages)
        if question is None:
            log.info("suggestion_skipped", reason="no_question", escalation=handoff.escalation_id)
            return
        names = [n for n in (handoff.customer_name, staff_name) if n]
        masked_question = mask_personal(question, names, self._public)
        if await self._known.answers(masked_question):
            log.info(
                "suggestion_skipped", reason="already_answered", escalation=handoff.escalation_id
            )
            return
        vectors = await self._embedder.embed_queries([masked_question])
        candidate = Candidate(
            handoff.escalation_id,
            masked_question,
            mask_personal(answer_body(answer), names, self._public),
            tuple(float(x) for x in vectors[0]),
        )
        kept = await self._store.keep(candidate, self._merge_at)
        if kept is None:
            log.info("suggestion_skipped", reason="counted", escalation=handoff.escalation_id)
            return
        log.info("suggestion_kept", suggestion=kept.suggestion_id, merged=kept.merged)


def is_answer(text: str) -> bool:
    """A staff reply worth keeping: more than an acknowledgement or a few words."""
    words = _WORDS.findall(text.lower())
    if not words or all(word in _ACKNOWLEDGEMENTS for word in words):
        return False
    return len(words) >= 4 or len(text.strip()) >= 20


def answer_body(text: str) -> str:
    """The answer without the greeting and sign-off written for the one customer."""
    body = _SIGN_OFF.sub("", "\n" + text.strip()).strip()
    body = _GREETING.sub("", body, count=1)
    body = body[:1].upper() + body[1:]
    # A reply that was nothing but a greeting and a signature keeps its words.
    return body if _WORDS.search(body) else text.strip()


def customer_question(messages: Sequence[str]) -> str | None:
    """The newest message that asks something: not a greeting, thanks or "a person please"."""
    for text in messages:
        text = text.strip()
        if not text or classify(text) is not None:
            continue
        words = _WORDS.findall(text)
        if len(words) >= 3 or (words and text.endswith(("?", "？"))):
            return text
    return None


def nearest(
    embedding: Sequence[float], pending: Sequence[tuple[int, Sequence[float]]], merge_at: float
) -> int | None:
    """The id of the most similar pending suggestion at or above merge_at (cosine), if any."""
    # Vectors of another model (another length) are never compared.
    pending = [(i, v) for i, v in pending if len(v) == len(embedding)]
    if not pending:
        return None
    matrix = np.asarray([vector for _, vector in pending], dtype=np.float32)
    query = np.asarray(embedding, dtype=np.float32)
    # Stored vectors are unit length, but a model change may have left others: normalise.
    norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
    sims = (matrix @ query) / np.maximum(norms, 1e-12)
    best = int(np.argmax(sims))
    return pending[best][0] if sims[best] >= merge_at else None


def add_alternative(question: str, alternatives: Sequence[str], new: str) -> tuple[str, ...] | None:
    """The alternatives with `new` added; None when it is already there (case and spaces aside)."""
    key = _normal(new)
    if key == _normal(question) or any(_normal(a) == key for a in alternatives):
        return None
    if len(alternatives) >= MAX_ALTERNATIVES:
        return None
    return (*alternatives, new)


def _normal(text: str) -> str:
    """Casefolded words, for comparing phrasings."""
    return " ".join(_WORDS.findall(text.casefold()))
