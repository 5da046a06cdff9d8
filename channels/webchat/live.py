"""Open web chat sockets in this process, and the one Redis subscription that feeds them.

Every process subscribes to the same pub/sub channel and pushes each event to its own sockets
of that visitor, so a reply sent by a worker anywhere reaches the browser wherever it is
connected. Each socket sends the history first and then only events it has not sent yet.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import WSCloseCode, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.plug import sleep_or_stop
from channels.webchat.events import LIVE_CHANNEL, Event, recent_events

log = structlog.get_logger(__name__)
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0


class Visit:
    """One open socket of one visitor: frames go out in order, each message only once."""

    def __init__(self, visitor: str, ws: web.WebSocketResponse, redis: Redis) -> None:
        self.visitor = visitor
        self.ws = ws
        self._redis = redis
        self._frames: asyncio.Queue[Event | None] = asyncio.Queue()
        self._seen: set[tuple[str, str]] = set()
        self._writer: asyncio.Task[None] | None = None

    def start(self, ready: Event) -> None:
        """Send the ready frame (with the history), then whatever arrives."""
        history: list[Event] = ready.get("history", [])
        self._seen.update(_key(event) for event in history)
        self._writer = asyncio.create_task(self._write(ready))

    def push(self, frame: Event) -> None:
        """Queue a frame; a message the browser already has is dropped when it is sent."""
        self._frames.put_nowait(frame)

    async def catch_up(self) -> None:
        """Queue what was stored for the visitor lately (after the subscription was down)."""
        try:
            for event in await recent_events(self._redis, self.visitor):
                self.push(event)
        except (RedisError, OSError) as error:
            log.warning("webchat.catch_up_failed", error=repr(error))

    async def close(self) -> None:
        """Stop writing; frames still queued are dropped (the history has them)."""
        self._frames.put_nowait(None)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self, ready: Event) -> None:
        """The socket's only writer, so frames never interleave."""
        await self.ws.send_json(ready)
        while (frame := await self._frames.get()) is not None:
            if frame.get("type") == "message":
                key = _key(frame)
                if key in self._seen:
                    continue
                self._seen.add(key)
            if self.ws.closed:
                continue
            try:
                await self.ws.send_json(frame)
            except (ConnectionError, RuntimeError) as error:
                log.info("webchat.socket_gone", error=repr(error))


def _key(event: Event) -> tuple[str, str]:
    """What makes two message events the same message."""
    return str(event.get("from")), str(event.get("id"))


class LiveHub:
    """This process's sockets by visitor, fed by one subscription to the live channel."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._visits: dict[str, set[Visit]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        """Subscribe in the background, until close()."""
        self._task = asyncio.create_task(self._run())

    def join(self, visitor: str, ws: web.WebSocketResponse) -> Visit:
        """Register a socket before its history is read, so nothing falls in between."""
        visit = Visit(visitor, ws, self._redis)
        self._visits.setdefault(visitor, set()).add(visit)
        return visit

    def leave(self, visit: Visit) -> None:
        """Forget a closed socket."""
        visits = self._visits.get(visit.visitor)
        if visits is not None:
            visits.discard(visit)
            if not visits:
                del self._visits[visit.visitor]

    @property
    def sockets(self) -> int:
        """How many sockets are open in this process."""
        return sum(len(v) for v in self._visits.values())

    async def close_sockets(self, app: web.Application | None = None) -> None:
        """Close every socket (server shutdown); browsers reconnect to another process."""
        visits = [v for group in self._visits.values() for v in group]
        await asyncio.gather(
            *(v.ws.close(code=WSCloseCode.GOING_AWAY, message=b"restarting") for v in visits),
            return_exceptions=True,
        )

    async def close(self) -> None:
        """Stop the subscription."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        """Stay subscribed: after an outage, sockets catch up from their visitors' streams."""
        backoff = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                await self._listen(on_subscribed=self._catch_up_all)
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                log.warning("webchat.subscription_lost", error=repr(error))
                await sleep_or_stop(self._stop, backoff)
                backoff = min(backoff * 2, RETRY_MAX_SECONDS)
            else:
                backoff = RETRY_FIRST_SECONDS

    async def _listen(self, on_subscribed: Callable[[], Awaitable[None]]) -> None:
        """Subscribe and dispatch until stopped or the connection fails."""
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(LIVE_CHANNEL)
            self.subscribed.set()
            await on_subscribed()
            while not self._stop.is_set():
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._dispatch(message.get("data"))

    async def _catch_up_all(self) -> None:
        """Events published while we were not subscribed are in the streams."""
        visits = [v for group in self._visits.values() for v in group]
        await asyncio.gather(*(v.catch_up() for v in visits))

    def _dispatch(self, data: Any) -> None:
        """Hand an event to this process's sockets of its visitor."""
        try:
            envelope = json.loads(data)
            visitor, event = envelope["v"], envelope["e"]
        except (ValueError, TypeError, KeyError):
            log.warning("webchat.bad_live_event", data=repr(data)[:200])
            return
        for visit in tuple(self._visits.get(visitor, ())):
            visit.push(event)
