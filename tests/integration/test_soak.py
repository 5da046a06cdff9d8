"""Soak: thousands of messages on every channel through the real server while faults hit it.

One `bot serve` runtime (webhooks, IMAP poller, two in-process workers) and one `bot worker`
subprocess share a PostgreSQL and a Valkey of this module's own. Customers write on Telegram
(webhook), WhatsApp (signed Twilio webhooks) and email (mails appended to Dovecot); some updates
are delivered twice, some must not be answered (edits, membership changes, auto-replies,
newsletters, delivery reports). Meanwhile the providers throttle and fail, SMTP refuses mail for a
while, Valkey and PostgreSQL restart and the worker subprocess is killed with SIGKILL.

At the end every inbound message has exactly one reply, matched message by message through the
database to what the fake providers accepted, per recipient; nothing else was sent; ignored
events are counted as ignored; the queue is empty and nothing was dead-lettered.

SOAK_MESSAGES (default 3000) sets the number of distinct messages to answer, SOAK_SEED the
random seed. A summary of the run is printed (run pytest with -s to see it among other output).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

import bot.queue.delivery
from bot.embedded.servers import EmbeddedServices
from bot.queue.inbound import DEAD_LETTERS
from bot.services import Services
from channels.email.polling import EmailPoller
from tests.integration.bot_harness import running_bot, settle, wait_for
from tests.integration.soak_faults import (
    Faults,
    kill_mid_send,
    refuse_mail,
    restart,
    worker_process,
)
from tests.integration.soak_traffic import (
    BOT_MAILBOX,
    PASSWORD,
    Ledger,
    Traffic,
    accepted_replies,
    email_customer,
    email_robot,
    recorded_replies,
    status_reporter,
    telegram_customer,
    whatsapp_customer,
)
from tests.integration.test_whatsapp_flow import SENDER
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]
MESSAGES = int(os.environ.get("SOAK_MESSAGES", "3000"))
SEED = int(os.environ.get("SOAK_SEED", "20240611"))
RATE = 30.0
"""Messages per second the customers write, about what this bot answers on two busy cores."""
RECLAIM_SECONDS = 2.0
LEASE_SECONDS = 10.0
CHANNELS = ("telegram", "whatsapp", "email")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        server.add_user(BOT_MAILBOX, PASSWORD)
        yield server


def customers(traffic: Traffic, window: float) -> list[Coroutine[Any, Any, None]]:
    """A few hundred conversations: six messages each on Telegram and WhatsApp, three by email."""
    mails = max(6, MESSAGES // 25)
    telegrams = (MESSAGES - mails) * 3 // 5
    whatsapps = MESSAGES - mails - telegrams
    dup = 0.05
    return [
        *(
            telegram_customer(traffic, 610_000_001 + n, 6, window, dup)
            for n in range(telegrams // 6)
        ),
        *(
            whatsapp_customer(traffic, f"whatsapp:+6591{n:06d}", 6, window, dup)
            for n in range(whatsapps // 6)
        ),
        *(
            email_customer(traffic, f"soak-{n}@customer.test", 3, window, dup)
            for n in range(mails // 3)
        ),
        *(email_robot(traffic, n, window) for n in range(max(2, mails // 20))),
    ]


async def inject_faults(
    faults: Faults,
    w: float,
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioApi,
    smtp: SmtpServer,
    valkey: EmbeddedServices,
    postgres: EmbeddedServices,
    kill: Callable[[], Awaitable[str]],
) -> None:
    """One fault after another over the window `w`; bursts are shorter than a round of retries."""

    def tg(*failures: tuple[int, int | None]) -> Callable[[], Awaitable[str]]:
        async def inject() -> str:
            for status, retry_after in failures:
                telegram.fail_next("sendMessage", status=status, retry_after=retry_after)
            return ", ".join(str(status) for status, _ in failures)

        return inject

    def tw(*statuses: int) -> Callable[[], Awaitable[str]]:
        async def inject() -> str:
            for status in statuses:
                twilio.fail_next(status)
            return ", ".join(map(str, statuses))

        return inject

    await faults.at(0.08 * w, "Telegram 429", tg((429, 1), (429, 1), (429, 2)))
    await faults.at(0.12 * w, "Twilio 5xx/429", tw(500, 503, 429))
    await faults.at(0.18 * w, "Valkey restart", lambda: restart(valkey, 1.5))
    await faults.at(0.30 * w, "SIGKILL", kill)
    await faults.at(0.42 * w, "Telegram 5xx", tg((500, None), (502, None)))
    await faults.at(0.50 * w, "PostgreSQL restart", lambda: restart(postgres, 2.0))
    await faults.at(0.65 * w, "SMTP refusing", lambda: refuse_mail(smtp, 4.0))
    await faults.at(0.75 * w, "Twilio 429/5xx", tw(429, 429, 500))
    await faults.at(0.80 * w, "Telegram 429", tg((429, 2), (503, None)))


async def test_soak(
    own_services: Services,
    own_postgres: EmbeddedServices,
    own_valkey: EmbeddedServices,
    dovecot: Dovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    # A reply set aside during the SMTP outage is tried again in seconds, not minutes.
    monkeypatch.setattr(bot.queue.delivery, "DEFER_FIRST", bot.queue.delivery.DEFER_FIRST / 30)
    window = max(20.0, MESSAGES / RATE)
    ledger = Ledger()
    async with (
        FakeTelegramAPI() as tg_main,
        FakeTelegramAPI(first_message_id=50_000_001) as tg_worker,
        FakeTwilioApi() as tw_main,
        FakeTwilioApi(tw_main.account_sid, tw_main.auth_token) as tw_worker,
    ):
        tg_apis, tw_apis = (tg_main, tg_worker), (tw_main, tw_worker)
        with SmtpServer(logins={BOT_MAILBOX: PASSWORD}) as smtp:
            async with (
                worker_process(
                    own_services,
                    tg_worker,
                    tw_worker,
                    smtp,
                    tmp_path,
                    reclaim_seconds=RECLAIM_SECONDS,
                    lease_seconds=LEASE_SECONDS,
                ) as process,
                running_bot(
                    own_services,
                    workers=2,
                    reclaim_after_seconds=RECLAIM_SECONDS,
                    send_lease_seconds=LEASE_SECONDS,
                    deferred_check_seconds=1.0,
                    telegram_bot_token=SecretStr(TOKEN),
                    telegram_api_url=tg_main.base_url,
                    telegram_rate_per_second=1000.0,
                    twilio_account_sid=tw_main.account_sid,
                    twilio_auth_token=SecretStr(tw_main.auth_token),
                    twilio_whatsapp_from=SENDER,
                    twilio_api_url=tw_main.base_url,
                    twilio_rate_per_second=1000.0,
                    **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD, email_poll_seconds=0.5),
                ) as runtime,
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session,
            ):
                [poller] = [p for p in runtime.channels.pollers if isinstance(p, EmailPoller)]
                await asyncio.wait_for(poller.ready.wait(), timeout=30)
                assert runtime.port is not None
                traffic = Traffic(session, runtime.port, tw_main.auth_token, dovecot, ledger, SEED)
                faults = Faults(traffic.started)
                stop_reports = asyncio.Event()
                reporter = asyncio.create_task(
                    status_reporter(
                        traffic,
                        lambda: [str(m["sid"]) for api in tw_apis for m in api.accepted],
                        stop_reports,
                    )
                )

                async def kill() -> str:
                    return await kill_mid_send(process, tg_worker, tmp_path / "worker.log")

                await asyncio.gather(
                    inject_faults(
                        faults, window, tg_main, tw_main, smtp, own_valkey, own_postgres, kill
                    ),
                    *customers(traffic, window),
                )
                while traffic.extra:
                    await asyncio.gather(*list(traffic.extra))
                posted = time.monotonic()
                expected = sum(len(ids) for ids in ledger.answered.values())

                def replies() -> int:
                    sent = accepted_replies(tg_apis, tw_apis, smtp)
                    return sum(len(pairs) for pairs in sent.values())

                with suppress(AssertionError):  # the checks below say what is missing
                    await wait_for(lambda: replies() >= expected, within=120)
                # Longer than a lease and a reclaim: a second reply would have gone out by now.
                await settle(LEASE_SECONDS + RECLAIM_SECONDS)
                stop_reports.set()
                await reporter
                drained = time.monotonic()
                redis = own_services.storage.redis
                depth = await runtime.queue.depth()
                group = runtime.queue.group
                pending = (await redis.xpending(runtime.queue.stream, group))["pending"]
                dead = await redis.xlen(DEAD_LETTERS)
                metrics = runtime.metrics.registry
        sent = accepted_replies(tg_apis, tw_apis, smtp)

    pool = own_services.storage.pool
    recorded = await recorded_replies(pool)
    outbound = await pool.fetchval("SELECT count(*) FROM messages WHERE direction = 'outbound'")
    waits = await pool.fetchrow(
        "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY s) AS p, max(s) AS top"
        " FROM (SELECT extract(epoch FROM o.sent_at - i.created_at) AS s FROM messages o"
        " JOIN messages i ON o.in_reply_to = i.id) AS waits"
    )
    statuses = dict(
        await pool.fetch(
            "SELECT provider_message_id, status FROM deliveries"
            " WHERE provider_message_id = ANY($1::text[])",
            ledger.reported,
        )
    )

    lines = [
        f"soak: {expected} messages to answer, seed {SEED}, {drained - began:.0f}s"
        f" (posting {posted - traffic.started:.0f}s, then {drained - posted:.0f}s to finish)"
    ]
    for channel in CHANNELS:
        ignored = sum(n for (c, _), n in ledger.ignored.items() if c == channel)
        retries = metrics.get_sample_value("bot_send_retries_total", {"channel": channel}) or 0
        lines.append(
            f"  {channel:8} {len(ledger.answered[channel]):5} messages in"
            f" {ledger.conversations[channel]:3} conversations, {len(sent[channel]):5} replies,"
            f" {ledger.duplicates[channel]:3} duplicates, {ignored:3} ignored;"
            f" {ledger.reposts[channel]:3} webhooks re-posted, {retries:3.0f} sends retried"
        )
    (p50, p99), top = waits["p"] or (0, 0), waits["top"] or 0
    lines.append(
        f"  replied within {p50:.1f}s (median), {p99:.1f}s (99%), {top:.1f}s (slowest);"
        f" {len(ledger.reported)} WhatsApp delivery reports; faults:"
    )
    lines += [f"    {entry}" for entry in faults.log]
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    wanted = {(c, i) for c, ids in ledger.answered.items() for i in ids}
    missing, unexpected = sorted(wanted - set(recorded)), sorted(set(recorded) - wanted)
    assert not missing and not unexpected, f"missing {missing[:5]}, unexpected {unexpected[:5]}"
    wrong = [(k, v) for k, v in recorded.items() if len(v) != 1 or v[0][0] != "sent" or not v[0][1]]
    assert not wrong, f"{len(wrong)} messages without exactly one sent reply: {wrong[:5]}"
    assert outbound == len(wanted)
    for channel in CHANNELS:
        # Every reply a provider accepted is the recorded delivery of one answered message ...
        parts = Counter(p for (c, _), [(_, ps)] in recorded.items() if c == channel for p in ps)
        assert Counter(pid for _, pid in sent[channel]) == parts, f"{channel}: unrecorded sends"
        # ... and each customer got exactly as many replies as they sent messages.
        got = Counter(recipient for recipient, _ in sent[channel])
        owed = ledger.expected_per_recipient(channel)
        wrong_counts = {r: (got[r], owed[r]) for r in got | owed if got[r] != owed[r]}
        assert not wrong_counts, f"{channel} (got, expected) replies: {wrong_counts}"
    for (channel, reason), count in ledger.ignored.items():
        labels = {"channel": channel, "reason": reason}
        assert metrics.get_sample_value("bot_updates_ignored_total", labels) == count, labels
    assert set(statuses.values()) <= {"delivered"} and len(statuses) == len(ledger.reported)
    assert (depth, pending, dead) == (0, 0, 0), "queue not empty, or entries dead-lettered"
    assert len(faults.log) == 9 and process.returncode == -signal.SIGKILL
