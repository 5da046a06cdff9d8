"""A browser's side of the web chat socket, spoken by a test: hello, send, read frames."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from bot.runtime import Runtime
from core.messages import ChannelName, InboundMessage
from tests.integration.bot_harness import close_handoffs

Frame = dict[str, Any]


class ChatSocket:
    """One open socket; every frame the server sent is kept in `frames`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.token: str | None = None
        self.history: list[Frame] = []

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                async with self._arrived:
                    self.frames.append(message.json())
                    self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def hello(self, token: str | None = None) -> Frame:
        """Start the conversation (a new visitor without a token); the ready frame."""
        await self.ws.send_json({"type": "hello", "token": token})
        ready = await self.next(lambda f: f["type"] == "ready")
        self.token, self.history = ready["token"], ready["history"]
        return ready

    async def say(self, text: str, choice: str | None = None) -> str:
        """Send a message; its id, once the server accepted it."""
        client_id = secrets.token_hex(8)
        await self.ws.send_json(
            {"type": "message", "id": client_id, "text": text, "choice": choice}
        )
        answer = await self.next(lambda f: f.get("id") == client_id and f["type"] != "message")
        assert answer["type"] == "accepted", answer
        return client_id

    async def next(self, wanted: Any, within: float = 30.0, after: int = 0) -> Frame:
        """The first frame (from index `after`) that `wanted` accepts, waiting for it."""

        def found() -> Frame | None:
            return next((f for f in self.frames[after:] if wanted(f)), None)

        async with asyncio.timeout(within), self._arrived:
            while (frame := found()) is None:
                if self.ws.closed and self._reader.done():
                    raise AssertionError(f"socket closed ({self.ws.close_code}); got {self.frames}")
                await self._arrived.wait()
            return frame

    async def bot_says(self, containing: str, within: float = 30.0) -> Frame:
        """The bot's message containing a text."""
        return await self.next(
            lambda f: f["type"] == "message" and f["from"] == "bot" and containing in f["text"],
            within,
        )

    def bot_messages(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "message" and f["from"] == "bot"]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


@asynccontextmanager
async def chat_socket(
    port: int, origin: str | None = None, **headers: str
) -> AsyncIterator[ChatSocket]:
    """A socket to the bot on 127.0.0.1:port, as a page on `origin` opens it."""
    if origin is not None:
        headers["Origin"] = origin
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://127.0.0.1:{port}/webchat/socket", headers=headers) as ws,
    ):
        socket = ChatSocket(ws)
        try:
            yield socket
        finally:
            await socket.close()


async def close_webchat_handoffs(pool: asyncpg.Pool) -> None:
    """Close the handoffs web chat tests opened without a staff mailbox to send them to, so a
    later test's dispatcher does not email them first."""
    await close_handoffs(pool, ChannelName("webchat"))


async def staff_reply(bot: Runtime, visitor: str, text: str) -> None:
    """What the email path hands over when staff answer the visitor's handoff."""
    token = await bot.services.storage.pool.fetchval(
        "SELECT e.token FROM escalations e JOIN conversations c ON c.id = e.conversation_id"
        " JOIN channel_identities ci ON ci.contact_id = c.contact_id"
        " WHERE ci.channel = 'webchat' AND ci.external_id = $1",
        visitor,
    )
    message = InboundMessage(
        channel=ChannelName.STAFF,
        external_user_id="owner@example.test",
        provider_message_id=f"<{uuid.uuid4()}@example.test>",
        text=text,
        received_at=datetime.now(UTC),
        thread_ref=token,
    )
    await bot.ingress.accept(ChannelName.STAFF, message)
