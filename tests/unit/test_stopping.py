"""Stop signals: the first asks for a clean stop, a second exits at once; waits give way."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot import stopping
from bot.stopping import Waits, stop_on_signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_first_signal_sets_stop_and_a_second_exits_at_once(
    signum: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    loop = asyncio.get_running_loop()
    try:
        stop = stop_on_signals()
        os.kill(os.getpid(), signum)
        await asyncio.wait_for(stop.wait(), timeout=5)
        assert exits == []
        os.kill(os.getpid(), signum)
        for _ in range(100):
            if exits:
                break
            await asyncio.sleep(0.01)
        assert exits == [1]
    finally:
        for handled in stopping.STOP_SIGNALS:
            loop.remove_signal_handler(handled)


async def test_a_stop_cancels_what_is_only_waiting_and_nothing_else() -> None:
    waits = Waits()

    async def waiting() -> None:
        async with waits.waiting():
            await asyncio.sleep(60)

    async def working() -> str:
        await asyncio.sleep(0.05)
        return "done"

    idle, busy = asyncio.create_task(waiting()), asyncio.create_task(working())
    await asyncio.sleep(0.01)
    assert waits.stop() == 1
    assert await busy == "done"
    with pytest.raises(asyncio.CancelledError):
        await idle
    with pytest.raises(asyncio.CancelledError):
        await waits.sleep(1)  # after a stop, a new wait gives way at once
