"""A whole report: both periods' figures, the unanswered groups and the pending suggestions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from bot.report.figures import Figures, load_figures
from bot.report.period import Period
from bot.report.store import Suggestion, pending_suggestions
from bot.report.unanswered import (
    QuestionEmbedder,
    QuestionGroup,
    group_questions,
    unanswered_questions,
)


@dataclass(frozen=True, slots=True)
class Report:
    """What the owner reads, in the mail and in `bot report`."""

    business: str
    current: Figures
    previous: Figures
    groups: tuple[QuestionGroup, ...]
    suggestions: tuple[Suggestion, ...]


async def build_report(
    pool: asyncpg.Pool, embedder: QuestionEmbedder, period: Period, business: str
) -> Report:
    """Read and group everything for `period`, compared with the period before it."""
    current, previous, questions, suggestions = await asyncio.gather(
        load_figures(pool, period),
        load_figures(pool, period.previous()),
        unanswered_questions(pool, period),
        pending_suggestions(pool),
    )
    groups = await group_questions(questions, embedder)
    return Report(business, current, previous, tuple(groups), tuple(suggestions))
