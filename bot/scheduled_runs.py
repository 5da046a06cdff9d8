"""Once-per-slot claims for jobs every bot process schedules, so one process runs each slot."""

from __future__ import annotations

import asyncpg


class ScheduledRuns:
    """Rows in PostgreSQL's scheduled_runs: (job, slot) is claimed by the first process only."""

    def __init__(self, pool: asyncpg.Pool, runner: str) -> None:
        self._pool = pool
        self.runner = runner

    async def claim(self, job: str, slot: str) -> bool:
        """True for the one process that takes this job's slot; False for every other."""
        taken = await self._pool.fetchval(
            "INSERT INTO scheduled_runs (job, slot, runner) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            job,
            slot,
            self.runner,
        )
        return bool(taken)

    async def finish(self, job: str, slot: str) -> None:
        """Note that the claimed run completed (a row without it shows a run that died)."""
        await self._pool.execute(
            "UPDATE scheduled_runs SET finished_at = now() WHERE job = $1 AND slot = $2",
            job,
            slot,
        )
