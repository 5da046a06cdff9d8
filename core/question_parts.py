"""Messages that ask two things at once: split them, answer each part, join the answers."""

# "How much is a whole cake and can I order for tomorrow?" embeds as one vector between two
# entries, and the one it lands nearer answers half of it. Each part searched alone finds its
# own entry; when two parts are answered confidently by different entries, the reply gives both.

from __future__ import annotations

import asyncio
import re
from typing import Final, Protocol

from core.compose import Composer, ComposeRequest, Composition
from core.language import Language
from core.memory import Turn
from core.ranking import Ranking
from core.store_records import ContactProfile

MAX_PARTS: Final = 3
_QUESTION_END: Final = re.compile(r"(?<=[?？])\s*")
_ASKING: Final = (
    r"can|could|do|does|did|is|are|will|would|what|when|where|which|who|how|got|any|may|"
    r"boleh|ada|berapa|bila|mana|apa"
)
_JOINER: Final = re.compile(
    rf"\s*,?\s+(?:and|also|plus|dan|lagi)\s+(?=(?:{_ASKING})\b)|[，,]\s*(?:还有|另外|以及)[，,]?",
    re.IGNORECASE,
)
_LEADING: Final = re.compile(r"^(?:and|also|plus|dan|lagi|还有|另外|以及)[\s,，]*", re.IGNORECASE)
_MIN_LATIN_WORDS: Final = 2
_MIN_OTHER_CHARS: Final = 3


class PartRetrieval(Protocol):
    """Ranks knowledge entries for a question."""

    async def retrieve(self, text: str) -> Ranking:
        """Rank knowledge entries for one question."""
        ...


def question_parts(text: str) -> list[str]:
    """The questions a message asks, in order; the message itself when it asks one."""
    pieces = [p for chunk in _QUESTION_END.split(text) for p in _JOINER.split(chunk)]
    parts = [_LEADING.sub("", p).strip(" ,，") for p in pieces]
    parts = [p for p in parts if _long_enough(p)]
    return parts[:MAX_PARTS] if len(parts) > 1 else [text]


def _long_enough(part: str) -> bool:
    """A part with enough words to be searched on its own."""
    latin = re.findall(r"[A-Za-z]+", part)
    if len(latin) >= _MIN_LATIN_WORDS:
        return True
    return len(re.sub(r"[\sA-Za-z\W]", "", part)) >= _MIN_OTHER_CHARS


async def answer_parts(
    parts: list[str],
    retrieval: PartRetrieval,
    composer: Composer,
    history: tuple[Turn, ...],
    profile: ContactProfile | None,
    language: Language,
) -> Composition | None:
    """Both answers when two or more parts are answered by different entries, else None."""
    rankings = await asyncio.gather(*(retrieval.retrieve(part) for part in parts))
    compositions = [
        await composer.compose(ComposeRequest(part, ranking, history, profile, language))
        for part, ranking in zip(parts, rankings, strict=True)
    ]
    answered: list[Composition] = []
    seen: set[str] = set()
    for composition in compositions:
        ids = composition.source_entry_ids
        if not ids or composition.escalate or seen & set(ids):
            continue
        seen.update(ids)
        answered.append(composition)
    if len(answered) < 2:
        return None
    return Composition(
        text="\n\n".join(c.text for c in answered),
        source_entry_ids=tuple(i for c in answered for i in c.source_entry_ids),
    )
