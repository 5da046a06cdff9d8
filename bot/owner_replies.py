"""OwnerReplies: the owner's reply to a report approves, edits or rejects suggestions."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Protocol

import structlog

from bot.owner_commands import decisions_for, parse_commands
from core.learning import REPORT_THREAD
from core.messages import Choice, InboundMessage
from core.suggestion_store import Decision, Outcome, OwnerReport

log = structlog.get_logger(__name__)


class ReportDecisions(Protocol):
    """Reports and the decisions on their suggestions (core.suggestion_store)."""

    async def report(self, token: str) -> OwnerReport | None:
        """The report with this token; None when unknown."""
        ...

    async def apply_reply(
        self,
        provider_message_id: str,
        report: OwnerReport,
        sender: str,
        decisions: Sequence[Decision],
    ) -> list[Outcome] | None:
        """Apply once; None when this reply was applied already."""
        ...


class Publisher(Protocol):
    """Publishes approved suggestions to the knowledge base (bot.learned_knowledge)."""

    async def publish(self) -> int:
        """Write and index the learned FAQ; how many entries it has."""
        ...


class Confirmations(Protocol):
    """Sends the confirmation mail (channels.email.EmailSender: a route in, Message-IDs out)."""

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Send one threaded mail to the route `address`."""
        ...


class OwnerReplies:
    """Checks who replied to which report, applies the commands once, publishes, confirms."""

    def __init__(
        self,
        store: ReportDecisions,
        publisher: Publisher,
        staff_senders: Collection[str],
        confirmations: Confirmations | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._staff = {s.lower() for s in staff_senders}
        self._confirmations = confirmations

    async def handle(self, message: InboundMessage) -> None:
        """Apply one reply; unknown reports, other senders and replies read twice change nothing."""
        token = (message.thread_ref or "").removeprefix(REPORT_THREAD)
        report = await self._store.report(token) if token else None
        if report is None:
            log.warning("owner_reply_unknown_report", id=message.provider_message_id)
            return
        sender = message.external_user_id.lower()
        if sender not in self._staff:
            log.warning("owner_reply_not_from_staff", report=report.id)
            return
        parsed = parse_commands(message.text)
        decisions, out_of_range = decisions_for(parsed.commands, report.suggestion_ids)
        outcomes = await self._store.apply_reply(
            message.provider_message_id, report, sender, decisions
        )
        if outcomes is None:
            log.info("owner_reply_duplicate", report=report.id)
            return
        errors = [*parsed.errors, *out_of_range]
        problem = None
        if any(o.changed and o.action != "reject" for o in outcomes):
            try:
                await self._publisher.publish()
            except Exception as error:
                # The decisions stand; the owner learns the entries are not answered yet.
                log.exception("learned_faq_not_published", report=report.id)
                problem = f"The approved answers could not be added to the knowledge base: {error}"
        log.info(
            "owner_reply_applied",
            report=report.id,
            changed=sum(o.changed for o in outcomes),
            errors=len(errors),
        )
        text = confirmation_text(report, outcomes, errors, problem)
        await self._confirm(message, sender, text)

    async def _confirm(self, message: InboundMessage, sender: str, text: str) -> None:
        """Mail the confirmation in the reply's thread; a failure is logged, not retried."""
        if self._confirmations is None:
            log.info("owner_reply_unconfirmed", reason="no mail sender")
            return
        route = message.reply_to or json.dumps({"to": sender, "subject": "Owner report"})
        try:
            await self._confirmations.send(route, text, ())
        except Exception:
            # The decisions are applied and recorded; sending them again would change nothing.
            log.exception("owner_reply_confirmation_failed")


def confirmation_text(
    report: OwnerReport, outcomes: Sequence[Outcome], errors: Sequence[str], problem: str | None
) -> str:
    """What changed, what did not and why, numbered as in the report."""
    numbers = {sid: n for n, sid in enumerate(report.suggestion_ids, start=1)}
    done = [o for o in outcomes if o.changed]
    not_done = [o for o in outcomes if not o.changed]
    verbs = {"approve": "approved", "edit": "approved with your answer", "reject": "rejected"}
    parts: list[str] = []
    if done:
        lines = [
            f"{numbers.get(o.suggestion_id, '?')}. {verbs[o.action]}: {o.question}" for o in done
        ]
        parts.append("Done:\n" + "\n".join(lines))
    if not_done or errors:
        lines = [
            f"{numbers.get(o.suggestion_id, '?')}. not {verbs[o.action]}: {o.note}"
            for o in not_done
        ]
        parts.append("Not done:\n" + "\n".join([*lines, *errors]))
    if problem:
        parts.append(problem)
    elif any(o.changed and o.action != "reject" for o in done):
        parts.append("The bot answers the approved questions from now on.")
    if not outcomes and not errors:
        parts.append(
            "No command found in your reply. Write for example:\n"
            "approve 1 3\nedit 2: the better answer\nreject 4"
        )
    return "\n\n".join(parts)
