"""Stopping in bounded time: waits that end when the process is asked to stop, and the signals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator

import structlog

log = structlog.get_logger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Waits:
    """Waits that give way to a stop: the tasks inside one are cancelled the moment it comes.

    Waiting for another entry's turn or between a provider's retries makes no progress that
    a stop should wait for; what was waiting is left for the next process to take up.
    """

    def __init__(self) -> None:
        self._waiting: set[asyncio.Task[object]] = set()
        self.stopping = False

    @contextlib.asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        """Mark the current task as only waiting for the duration of the block."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to cancel, nothing to mark
            yield
            return
        if self.stopping:
            raise asyncio.CancelledError
        self._waiting.add(task)
        try:
            yield
        finally:
            self._waiting.discard(task)

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep, given up when the process stops."""
        async with self.waiting():
            await asyncio.sleep(seconds)

    def stop(self) -> int:
        """Cancel every task that is only waiting; how many there were."""
        self.stopping = True
        waiting = list(self._waiting)
        for task in waiting:
            task.cancel()
        return len(waiting)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM (docker stop, systemd) or SIGINT; a second signal exits at once.

    SIGINT is taken over too: a process started in the background has it ignored otherwise.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first(signum: int) -> None:
        if stop.is_set():
            log.warning("stopping_now", signal=signal.Signals(signum).name)
            os._exit(1)  # no clean-up on purpose: the operator asked twice
        stop.set()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, first, signum)
    return stop
