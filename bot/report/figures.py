"""The report's figures for one period, read from PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from bot.report.period import Period
from core.knowledge_masking import mask_personal

TOP_ENTRIES = 5
BUSIEST_HOURS = 3
COMMENTS = 10

# A bot answer: an outbound reply on the customer's channel built from knowledge entries, not a
# "Did you mean" (its choices) and not a staff reply relayed (no entries).
_ANSWER = (
    "m.direction = 'outbound' AND m.channel <> 'staff'"
    " AND cardinality(m.source_entry_ids) > 0 AND jsonb_array_length(m.choices) = 0"
)
_PER_DAY = f"""
SELECT (c.started_at AT TIME ZONE $3)::date AS day, count(*) AS conversations,
       count(*) FILTER (WHERE
           EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {_ANSWER})
           AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id)
       ) AS resolved
  FROM conversations c
 WHERE c.started_at >= $1 AND c.started_at < $2
 GROUP BY 1
"""
_HANDOFFS = """
SELECT trigger, count(*) AS n FROM escalations
 WHERE created_at >= $1 AND created_at < $2 GROUP BY trigger ORDER BY n DESC, trigger
"""
_MEDIAN_ANSWER = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - sent_at))
  FROM escalations
 WHERE created_at >= $1 AND created_at < $2 AND sent_at IS NOT NULL AND answered_at >= sent_at
"""
_RATINGS = """
SELECT avg(score)::float8 AS average, count(*) AS n FROM ratings
 WHERE rated_at >= $1 AND rated_at < $2 AND score IS NOT NULL
"""
_COMMENTS = """
SELECT r.comment, k.display_name FROM ratings r JOIN contacts k ON k.id = r.contact_id
 WHERE r.rated_at >= $1 AND r.rated_at < $2 AND r.score IS NOT NULL
   AND coalesce(btrim(r.comment), '') <> ''
 ORDER BY r.rated_at DESC LIMIT $3
"""
_HOURS = """
SELECT extract(hour FROM m.created_at AT TIME ZONE $3)::int AS hour, count(*) AS n
  FROM messages m
 WHERE m.direction = 'inbound' AND m.channel <> 'staff'
   AND m.created_at >= $1 AND m.created_at < $2
 GROUP BY 1 ORDER BY n DESC, hour LIMIT $4
"""
_ENTRIES = f"""
SELECT entry, count(*) AS n FROM messages m, unnest(m.source_entry_ids) AS entry
 WHERE {_ANSWER} AND m.created_at >= $1 AND m.created_at < $2
 GROUP BY entry ORDER BY n DESC, entry LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class Day:
    """Conversations started on one local date, and how many the bot resolved alone."""

    day: date
    conversations: int
    resolved: int

    @property
    def resolution_rate(self) -> float | None:
        """Resolved / conversations; None on a day without conversations."""
        return self.resolved / self.conversations if self.conversations else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the report counts for one period."""

    period: Period
    days: tuple[Day, ...]
    handoffs: tuple[tuple[str, int], ...]
    """(trigger, count), most frequent first."""
    median_staff_answer: timedelta | None
    rating_average: float | None
    rating_count: int
    comments: tuple[str, ...]
    """Rating comments, newest first, personal data masked."""
    busiest_hours: tuple[tuple[int, int], ...]
    """(local hour, customer messages), busiest first."""
    top_entries: tuple[tuple[str, int], ...]
    """(knowledge entry, answers), most used first."""

    @property
    def conversations(self) -> int:
        """Conversations started in the period."""
        return sum(d.conversations for d in self.days)

    @property
    def resolved(self) -> int:
        """Of those, the ones the bot answered without handing over."""
        return sum(d.resolved for d in self.days)

    @property
    def resolution_rate(self) -> float | None:
        """Resolved / conversations; None without conversations."""
        return self.resolved / self.conversations if self.conversations else None

    @property
    def handed_over(self) -> int:
        """Handoffs opened in the period."""
        return sum(n for _, n in self.handoffs)


async def load_figures(pool: asyncpg.Pool, period: Period) -> Figures:
    """Count one period's conversations, resolutions, handoffs, ratings, hours and entries."""
    span = (period.start, period.end)
    zone = period.zone.key
    async with pool.acquire() as db:
        per_day = {r["day"]: r for r in await db.fetch(_PER_DAY, *span, zone)}
        handoffs = await db.fetch(_HANDOFFS, *span)
        median = await db.fetchval(_MEDIAN_ANSWER, *span)
        ratings = await db.fetchrow(_RATINGS, *span)
        comments = await db.fetch(_COMMENTS, *span, COMMENTS)
        hours = await db.fetch(_HOURS, *span, zone, BUSIEST_HOURS)
        entries = await db.fetch(_ENTRIES, *span, TOP_ENTRIES)
    days = tuple(
        Day(d, per_day[d]["conversations"], per_day[d]["resolved"])
        if d in per_day
        else Day(d, 0, 0)
        for d in period.days()
    )
    return Figures(
        period=period,
        days=days,
        handoffs=tuple((r["trigger"], r["n"]) for r in handoffs),
        median_staff_answer=None if median is None else timedelta(seconds=float(median)),
        rating_average=ratings["average"] if ratings else None,
        rating_count=ratings["n"] if ratings else 0,
        comments=tuple(mask_personal(r["comment"], _names(r["display_name"])) for r in comments),
        busiest_hours=tuple((r["hour"], r["n"]) for r in hours),
        top_entries=tuple((r["entry"], r["n"]) for r in entries),
    )


def _names(display_name: str | None) -> tuple[str, ...]:
    """The customer's display name as a name to mask, when there is one."""
    return (display_name,) if display_name else ()
