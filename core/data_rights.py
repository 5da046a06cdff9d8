"""Customers' data rights under the PDPA: seeing what we hold, erasing it, and retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

# Providers retry a webhook for at most three days; an erased customer's tombstone must outlive
# that so a retry stays a duplicate.
TOMBSTONE_DAYS = 7


@dataclass(frozen=True, slots=True)
class Identity:
    """One way a person reaches us: a channel and the provider's id for them there."""

    channel: str
    external_id: str


@dataclass(frozen=True, slots=True)
class Person:
    """A contact and every channel identity it has."""

    contact_id: int
    identities: tuple[Identity, ...]


@dataclass(frozen=True, slots=True)
class DataSummary:
    """What a customer is told when they ask what we know about them."""

    display_name: str | None
    language: str | None
    channels: tuple[str, ...]
    conversations: int
    messages: int
    first_contact: datetime
    consent: bool | None
    consent_at: datetime | None
    ratings: tuple[tuple[int, datetime], ...] = ()
    """Scores the customer gave ("How did we do?") and when, oldest first."""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The customer's last message (kept as a bodiless tombstone) and the reply to queue to it."""

    message_id: int
    address: str
    text: str


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What one retention run removed, and whose summary vectors must follow."""

    counts: dict[str, int]
    erased_contacts: tuple[int, ...] = ()
    trimmed_contacts: tuple[int, ...] = ()
    copies: dict[str, int] = field(default_factory=dict)


class PersonalDataStore(Protocol):
    """The durable record (PostgreSQL): who a person is, what we hold, and erasing it."""

    async def person(self, contact_id: int) -> Person | None:
        """The contact with its identities; None when it does not exist."""
        ...

    async def find(self, identities: Sequence[Identity]) -> list[Person]:
        """The distinct contacts holding any of these identities."""
        ...

    async def summary(self, contact_id: int) -> DataSummary | None:
        """The short account of a contact's data shown to the customer."""
        ...

    async def export(self, contact_id: int) -> dict[str, Any]:
        """Everything stored about a contact, as JSON-ready data."""
        ...

    async def erase(
        self,
        contact_id: int,
        requested_by: str,
        channel: str | None,
        confirmation: Confirmation | None,
    ) -> dict[str, int] | None:
        """Erase a contact at once, audit it, queue the confirmation; None when unknown."""
        ...

    async def pending_erasures(self) -> list[Person]:
        """Erased contacts whose copies elsewhere are not removed yet."""
        ...

    async def finish_erasure(self, contact_id: int) -> None:
        """Note that an erasure's copies elsewhere are gone."""
        ...

    async def audit(self, action: str, requested_by: str, channel: str | None) -> None:
        """Record an export (no personal data in the record)."""
        ...

    async def apply_retention(
        self, cutoff: datetime, tombstone_cutoff: datetime
    ) -> RetentionResult:
        """Remove what is older than the cutoff and audit it; idempotent."""
        ...

    async def summaries_of(self, contact_id: int) -> list[tuple[int, str]]:
        """The contact's remaining conversation summaries, by conversation id."""
        ...


class PersonalCopies(Protocol):
    """A place outside PostgreSQL holding copies of what customers wrote (memory, dead letters)."""

    name: str

    async def export(self, person: Person) -> list[Any]:
        """The copies about one person."""
        ...

    async def erase(self, person: Person) -> int:
        """Remove the copies about one person; how many items went."""
        ...

    async def expire(self, cutoff: datetime) -> int:
        """Remove copies older than the cutoff; how many items went."""
        ...


class SummaryVectors(Protocol):
    """Summaries of earlier conversations kept as vectors, one document per contact."""

    async def remember(self, contact_id: int, conversation_id: int, summary: str) -> None:
        """Keep the summary of a closed conversation."""
        ...

    async def forget_contact(self, contact_id: int) -> None:
        """Erase every summary of one contact."""
        ...


class DataRights:
    """Erasure, export and retention across PostgreSQL, Redis and the vector store."""

    def __init__(
        self,
        store: PersonalDataStore,
        copies: Sequence[PersonalCopies],
        summaries: SummaryVectors | None,
        retention: timedelta,
        zone: tzinfo = UTC,
    ) -> None:
        self.zone = zone
        """Dates shown to customers are in the business's time zone."""
        self._store = store
        self._copies = tuple(copies)
        self._summaries = summaries
        self.retention = retention

    async def find_people(self, identities: Sequence[Identity]) -> list[Person]:
        """The distinct customers holding any of these identities."""
        return await self._store.find(identities)

    async def summary(self, contact_id: int, channel: str) -> DataSummary | None:
        """What the customer is shown about themselves, audited as an export on their request."""
        summary = await self._store.summary(contact_id)
        if summary is not None:
            await self._store.audit("export", "customer", channel)
        return summary

    async def export(self, person: Person, requested_by: str) -> dict[str, Any]:
        """Everything about a person from every store, audited as an export."""
        data = await self._store.export(person.contact_id)
        for copy in self._copies:
            data[copy.name] = await copy.export(person)
        await self._store.audit("export", requested_by, None)
        return data

    async def erase(
        self,
        contact_id: int,
        requested_by: str,
        channel: str | None = None,
        confirmation: Confirmation | None = None,
    ) -> dict[str, int] | None:
        """Erase a person everywhere; PostgreSQL at once, the copies right after."""
        counts = await self._store.erase(contact_id, requested_by, channel, confirmation)
        if counts is not None:
            log.info("personal_data_erased", requested_by=requested_by, **counts)
        await self.finish_pending()
        return counts

    async def finish_pending(self) -> int:
        """Remove the copies of erased people that are still somewhere; how many people."""
        finished = 0
        for person in await self._store.pending_erasures():
            try:
                for copy in self._copies:
                    await copy.erase(person)
                if self._summaries is None:
                    continue  # the vectors belong to another process, which finishes the row
                await self._summaries.forget_contact(person.contact_id)
            except Exception:
                # The pending row stays; the next erasure or retention run tries again.
                log.exception("erasure_copies_failed", contact=person.contact_id)
                continue
            await self._store.finish_erasure(person.contact_id)
            finished += 1
        return finished

    async def apply_retention(self, now: datetime) -> RetentionResult:
        """Remove everything older than the retention period, in every store."""
        result = await self._store.apply_retention(
            now - self.retention, now - timedelta(days=TOMBSTONE_DAYS)
        )
        if self._summaries is not None:
            for contact_id in result.erased_contacts:
                await self._summaries.forget_contact(contact_id)
            for contact_id in result.trimmed_contacts:
                # The summaries of deleted conversations go; the rest are written again.
                await self._summaries.forget_contact(contact_id)
                for conversation_id, text in await self._store.summaries_of(contact_id):
                    await self._summaries.remember(contact_id, conversation_id, text)
        copies = {copy.name: await copy.expire(now - self.retention) for copy in self._copies}
        await self.finish_pending()
        log.info("retention_applied", **result.counts, **copies)
        return RetentionResult(
            result.counts, result.erased_contacts, result.trimmed_contacts, copies
        )
