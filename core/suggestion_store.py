"""Suggested knowledge entries, owner reports and owner decisions in PostgreSQL (migration 014)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from core.suggestions import Candidate, Handoff, Kept, add_alternative, nearest

Connection = asyncpg.Connection | PoolConnectionProxy
# The customer's last few messages are enough to find the question a handoff was about.
_MESSAGES_BEFORE_HANDOFF = 6


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested entry as the owner sees it."""

    id: int
    question: str
    answer: str
    alternatives: tuple[str, ...]
    times: int
    status: str
    entry_id: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The owner's word on one suggestion; an approval with `answer` replaces the answer."""

    suggestion_id: int
    action: Literal["approve", "reject"]
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one decision did: `changed` False with a note when it could not apply."""

    suggestion_id: int
    action: str
    changed: bool
    note: str = ""
    question: str = ""


@dataclass(frozen=True, slots=True)
class OwnerReport:
    """A report sent to the owner; number n in it is suggestion_ids[n - 1]."""

    id: int
    token: str
    sent_to: str
    suggestion_ids: tuple[int, ...]


class PostgresSuggestions:
    """SuggestionStore, and the owner's decisions, on the bot's tables."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def handoff(self, token: str) -> Handoff | None:
        """The handoff with this token, the customer's messages up to it and their name."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT e.id, e.detail, e.conversation_id, e.created_at, k.display_name"
                " FROM escalations e JOIN conversations c ON c.id = e.conversation_id"
                " JOIN contacts k ON k.id = c.contact_id WHERE e.token = $1",
                token,
            )
            if row is None:
                return None
            bodies = await conn.fetch(
                "SELECT body FROM messages WHERE conversation_id = $1 AND direction = 'inbound'"
                " AND channel <> 'staff' AND created_at <= $2 ORDER BY id DESC LIMIT $3",
                row["conversation_id"],
                row["created_at"],
                _MESSAGES_BEFORE_HANDOFF,
            )
        texts = [str(b["body"]) for b in bodies]
        if row["detail"] and row["detail"] not in texts:
            texts.insert(0, str(row["detail"]))
        return Handoff(int(row["id"]), tuple(texts), row["display_name"])

    async def keep(self, candidate: Candidate, merge_at: float) -> Kept | None:
        """Merge into the nearest pending suggestion, or add one; None if counted already."""
        async with self._pool.acquire() as conn, conn.transaction():
            # One learner at a time: two answers to one question must not both add a row.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('suggestions'))")
            counted = await conn.fetchval(
                "SELECT 1 FROM suggestions WHERE $1 = ANY(escalation_ids)", candidate.escalation_id
            )
            if counted:
                return None
            rows = await conn.fetch(
                "SELECT id, embedding FROM suggestions"
                " WHERE status = 'pending' AND embedding IS NOT NULL"
            )
            target = nearest(
                candidate.embedding, [(r["id"], r["embedding"]) for r in rows], merge_at
            )
            if target is None:
                new_id = await conn.fetchval(
                    "INSERT INTO suggestions (question, answer, embedding, escalation_ids)"
                    " VALUES ($1, $2, $3, ARRAY[$4::bigint]) RETURNING id",
                    candidate.question,
                    candidate.answer,
                    list(candidate.embedding),
                    candidate.escalation_id,
                )
                return Kept(int(new_id), merged=False)
            row = await conn.fetchrow(
                "SELECT question, alternatives FROM suggestions WHERE id = $1", target
            )
            assert row is not None  # locked above; pending rows are never deleted
            alternatives = add_alternative(row["question"], row["alternatives"], candidate.question)
            await conn.execute(
                "UPDATE suggestions SET times = times + 1,"
                " alternatives = coalesce($2, alternatives),"
                " escalation_ids = array_append(escalation_ids, $3), updated_at = now()"
                " WHERE id = $1",
                target,
                list(alternatives) if alternatives is not None else None,
                candidate.escalation_id,
            )
            return Kept(target, merged=True)

    async def pending(self) -> list[Suggestion]:
        """Pending suggestions, most asked first."""
        return await self._list("status = 'pending' ORDER BY times DESC, id")

    async def approved(self) -> list[Suggestion]:
        """Approved suggestions in the order they were added: the learned FAQ's entries."""
        return await self._list("status = 'approved' ORDER BY id")

    async def _list(self, where: str) -> list[Suggestion]:
        """Suggestions matching a fixed condition (never user input)."""
        rows = await self._pool.fetch(
            "SELECT id, question, answer, alternatives, times, status, entry_id"
            f" FROM suggestions WHERE {where}"
        )
        return [_suggestion(r) for r in rows]

    async def decide(self, decisions: Sequence[Decision], by: str) -> list[Outcome]:
        """Apply the owner's decisions (from the command line), one outcome each."""
        async with self._pool.acquire() as conn, conn.transaction():
            return [await _decide(conn, d, by) for d in decisions]

    async def report(self, token: str) -> OwnerReport | None:
        """The owner report with this token; None when unknown."""
        row = await self._pool.fetchrow(
            "SELECT id, token, sent_to, suggestion_ids FROM owner_reports"
            " WHERE lower(token) = lower($1)",
            token,
        )
        if row is None:
            return None
        return OwnerReport(
            int(row["id"]), row["token"], row["sent_to"], tuple(row["suggestion_ids"])
        )

    async def apply_reply(
        self,
        provider_message_id: str,
        report: OwnerReport,
        sender: str,
        decisions: Sequence[Decision],
    ) -> list[Outcome] | None:
        """Apply a reply's decisions once; None when this mail was applied already."""
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO owner_report_replies (provider_message_id, report_id, sender)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                provider_message_id,
                report.id,
                sender,
            )
            if not fresh:
                return None
            outcomes = [await _decide(conn, d, sender) for d in decisions]
            await conn.execute(
                "UPDATE owner_report_replies SET changes = $2::jsonb"
                " WHERE provider_message_id = $1",
                provider_message_id,
                json.dumps([asdict(o) for o in outcomes], ensure_ascii=False),
            )
            return outcomes


async def _decide(conn: Connection, decision: Decision, by: str) -> Outcome:
    """One decision: approve (pending or rejected; an edit also re-words an approved one), reject
    (pending only)."""
    sid, action = decision.suggestion_id, decision.action
    if action == "approve":
        question = await conn.fetchval(
            "UPDATE suggestions SET status = 'approved', answer = coalesce($2, answer),"
            " entry_id = coalesce(entry_id, 'learned-' || id), decided_by = $3,"
            " decided_at = now(), updated_at = now()"
            " WHERE id = $1 AND (status <> 'approved' OR $2::text IS NOT NULL) RETURNING question",
            sid,
            decision.answer,
            by,
        )
    else:
        question = await conn.fetchval(
            "UPDATE suggestions SET status = 'rejected', decided_by = $2, decided_at = now(),"
            " updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING question",
            sid,
            by,
        )
    label = "edit" if decision.answer is not None else action
    if question is not None:
        return Outcome(sid, label, True, question=question)
    row = await conn.fetchrow("SELECT status, question FROM suggestions WHERE id = $1", sid)
    if row is None:
        return Outcome(sid, label, False, "no such suggestion")
    return Outcome(sid, label, False, f"already {row['status']}", row["question"])


def _suggestion(row: asyncpg.Record) -> Suggestion:
    """A row as a Suggestion."""
    return Suggestion(
        id=int(row["id"]),
        question=row["question"],
        answer=row["answer"],
        alternatives=tuple(row["alternatives"]),
        times=int(row["times"]),
        status=row["status"],
        entry_id=row["entry_id"],
    )
