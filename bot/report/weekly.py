"""The weekly report job: every process schedules it, one of them sends each week's mail."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from bot.config import Settings
from bot.handoffs import MailIdentity
from bot.report.build import build_report
from bot.report.chart import draw_chart
from bot.report.mail import compose_mail
from bot.report.mailer import report_identity
from bot.report.period import Period, iso_week, week_before
from bot.report.store import mark_sent, record_report
from bot.report.unanswered import QuestionEmbedder
from bot.scheduled_runs import ScheduledRuns
from channels.base import SendError
from channels.email.mailbox import smtp_mailer

log = structlog.get_logger(__name__)
JOB = "owner_report"


class Mailer(Protocol):
    """Sends one mail (channels.email.SmtpMailer)."""

    async def send(self, message: EmailMessage) -> None:
        """Hand the mail to the server; SendError when it will not take it."""
        ...


@dataclass(frozen=True, slots=True)
class ReportSetup:
    """Who the report is for, from whom, and when it goes out."""

    business: str
    staff_email: str
    identity: MailIdentity
    zone: ZoneInfo
    weekday: int
    hour: int
    minute: int


class WeeklyReport:
    """Builds, records and mails the owner report for the week before."""

    def __init__(
        self,
        setup: ReportSetup,
        pool: asyncpg.Pool,
        embedder: QuestionEmbedder,
        mailer: Mailer,
        runner: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.setup = setup
        self._pool = pool
        self._embedder = embedder
        self._mailer = mailer
        self._runs = ScheduledRuns(pool, runner)
        self._clock = clock

    @property
    def cron(self) -> dict[str, Any]:
        """APScheduler cron fields for the weekday and local time (the scheduler's zone)."""
        s = self.setup
        return {"day_of_week": s.weekday, "hour": s.hour, "minute": s.minute}

    async def run(self) -> bool:
        """Send this week's report unless another process has; errors are logged, not raised."""
        now = self._clock()
        slot = iso_week(now, self.setup.zone)
        try:
            if not await self._runs.claim(JOB, slot):
                log.info("owner_report_sent_elsewhere", week=slot)
                return False
            # A run that fails after the claim is not retried this week (as retention).
            token = await self.send(week_before(now, self.setup.zone))
            await self._runs.finish(JOB, slot)
        except Exception:
            log.exception("owner_report_failed", week=slot)
            return False
        log.info("owner_report_sent", week=slot, report=token[:8])
        return True

    async def send(self, period: Period) -> str:
        """Build the report for `period`, record it with a new token, mail it; the token."""
        s = self.setup
        report = await build_report(self._pool, self._embedder, period, s.business)
        chart = await asyncio.to_thread(draw_chart, report.current.days)
        token = secrets.token_hex(16)
        message = compose_mail(report, s.identity, s.staff_email, token, chart)
        # Recorded first, so a reply can never name a report the database does not know.
        await record_report(
            self._pool,
            token,
            period,
            s.staff_email,
            report.suggestions,
            s.identity.report_id(token),
        )
        await send_with_retries(self._mailer, message)
        await mark_sent(self._pool, token)
        return token


async def send_with_retries(
    mailer: Mailer, message: EmailMessage, attempts: int = 3, pause: float = 60.0
) -> None:
    """Send, trying again after `pause` seconds while the server says a retry can help.

    The report goes out once a week: a mail server that is briefly away (greylisting, a
    restart) must not cost the owner the week's report.
    """
    for attempt in range(1, attempts + 1):
        try:
            await mailer.send(message)
            return
        except SendError as error:
            if not error.retryable or attempt == attempts:
                raise
            log.warning("owner_report_send_retry", reason=error.reason, attempt=attempt)
            await asyncio.sleep(pause)


def weekly_report(
    settings: Settings,
    pool: asyncpg.Pool,
    embedder: QuestionEmbedder,
    runner: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> WeeklyReport | None:
    """The job, or None when REPORT_AT is off or STAFF_EMAIL or SMTP is not configured."""
    when, mailer = settings.report_schedule, smtp_mailer(settings)
    if when is None or not settings.staff_email or mailer is None:
        return None
    weekday, at = when
    setup = ReportSetup(
        business=settings.business_name,
        staff_email=settings.staff_email,
        identity=report_identity(settings),
        zone=settings.zone,
        weekday=weekday,
        hour=at.hour,
        minute=at.minute,
    )
    return WeeklyReport(setup, pool, embedder, mailer, runner, clock)
