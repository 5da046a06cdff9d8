"""Daily jobs scheduled by every process run in one of them: claims on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.runtime import Runtime
from bot.scheduled_runs import ScheduledRuns
from bot.services import Services

pytestmark = pytest.mark.integration


async def test_one_of_many_processes_claims_a_slot(services: Services) -> None:
    pool = services.storage.pool
    job = f"job-{uuid.uuid4().hex[:8]}"
    runners = [ScheduledRuns(pool, f"host-{n}") for n in range(6)]
    taken = await asyncio.gather(*(r.claim(job, "2026-11-24") for r in runners))
    assert sum(taken) == 1
    winner = runners[taken.index(True)]
    row = await pool.fetchrow("SELECT runner, finished_at FROM scheduled_runs WHERE job = $1", job)
    assert row["runner"] == winner.runner and row["finished_at"] is None
    await winner.finish(job, "2026-11-24")
    assert await pool.fetchval("SELECT finished_at FROM scheduled_runs WHERE job = $1", job)
    # The next day is a new slot; the same day stays taken.
    assert await runners[0].claim(job, "2026-11-25")
    assert not await winner.claim(job, "2026-11-24")


async def test_retention_fired_in_three_processes_runs_once(services: Services) -> None:
    pool = services.storage.pool
    day_runs = "SELECT count(*) FROM scheduled_runs WHERE job = 'retention'"
    audits = "SELECT count(*) FROM privacy_audit WHERE action = 'retention'"
    await pool.execute("DELETE FROM scheduled_runs WHERE job = 'retention'")
    before = await pool.fetchval(audits)
    runtimes = [Runtime(services, listen=False, workers=0) for _ in range(3)]
    for n, runtime in enumerate(runtimes):
        runtime.name = f"machine-{n}"
    await asyncio.gather(*(r._apply_retention() for r in runtimes))
    assert await pool.fetchval(day_runs) == 1
    assert await pool.fetchval(audits) == before + 1
    row = await pool.fetchrow(
        "SELECT runner, finished_at FROM scheduled_runs WHERE job = 'retention'"
    )
    assert row["runner"] in {"machine-0", "machine-1", "machine-2"} and row["finished_at"]
    # Fired again the same day (a restarted process catching up), it still runs no more.
    await runtimes[0]._apply_retention()
    assert await pool.fetchval(audits) == before + 1
