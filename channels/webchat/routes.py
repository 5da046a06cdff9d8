"""Web chat routes: the widget and /try page, the socket, and the HTTP fallback.

Checks come in a fixed order, as for webhooks: origin (403) -> token (401) -> size (413) ->
parse (400) -> hand to ingress -> answer. Nothing here decides what to reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import structlog
from aiohttp import WSMsgType, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.base import PayloadError
from channels.plug import Intake
from channels.webchat import NAME
from channels.webchat import events as webchat
from channels.webchat.events import MAX_FRAME_BYTES, Event, VisitorTokens, origin_allowed
from channels.webchat.http import (
    CLOSE_BAD_HELLO,
    CLOSE_BAD_TOKEN,
    CLOSE_TOO_MANY,
    client_address,
    close_unavailable,
    json_body,
    loads,
    read_hello,
    refused_origin,
)
from channels.webchat.live import LiveHub
from channels.webchat.pages import WIDGET_FILES, WebChatPages
from channels.webchat.store import WebChatStore
from core.outages import OUTAGES

log = structlog.get_logger(__name__)
TRY_PATH = "/try"
SOCKET_PATH = "/webchat/socket"
SESSION_PATH = "/webchat/session"
HISTORY_PATH = "/webchat/history"
MESSAGES_PATH = "/webchat/messages"
CHANNEL = NAME
_DOWN: tuple[type[BaseException], ...] = (RedisError, *OUTAGES)
"""Redis or PostgreSQL not answering: the browser is told to come back shortly."""
_STATUS_OF_ANSWER = {"accepted": 202, "bad_message": 400, "rate_limited": 429}
"""HTTP status for a posted message, by the answer's code (or type); anything else is 503."""


@dataclass(frozen=True, slots=True)
class WebChatConfig:
    """What the web chat routes need besides ingress and storage."""

    tokens: VisitorTokens
    allowed_origins: frozenset[str]
    business_name: str
    public_base_url: str | None = None
    privacy_url: str | None = None
    consent_text: str | None = None
    new_visitors_per_minute: int = 30
    """From one network address; more get 429 (a script minting visitors past the flood limit)."""


def webchat_routes(
    config: WebChatConfig,
    ingress: Intake,
    redis: Redis,
    store: WebChatStore,
    hub: LiveHub,
) -> list[web.RouteDef]:
    """The /try page, the widget's files, its socket and its HTTP fallback."""
    return WebChatRoutes(config, ingress, redis, store, hub).routes()


class WebChatRoutes:
    """The web chat's handlers, sharing the checks every request goes through."""

    def __init__(
        self,
        config: WebChatConfig,
        ingress: Intake,
        redis: Redis,
        store: WebChatStore,
        hub: LiveHub,
    ) -> None:
        self.config = config
        self.ingress = ingress
        self.redis = redis
        self.store = store
        self.hub = hub
        self.pages = WebChatPages(config.business_name, config.public_base_url)

    def routes(self) -> list[web.RouteDef]:
        """Every web chat route, with CORS preflight for the ones other sites call."""
        return [
            web.get(TRY_PATH, self.pages.try_page),
            *(web.get(path, self.pages.static) for path in WIDGET_FILES),
            web.get(SOCKET_PATH, self.socket),
            web.post(SESSION_PATH, self.session),
            web.get(HISTORY_PATH, self.history),
            web.post(MESSAGES_PATH, self.messages),
            *(
                web.options(path, self.preflight)
                for path in (SESSION_PATH, HISTORY_PATH, MESSAGES_PATH)
            ),
        ]

    def _cors(self, request: web.Request) -> dict[str, str] | None:
        """Headers letting an allowed page read the answer; None for a page not allowed."""
        origin = request.headers.get("Origin")
        own = {request.host}
        if self.config.public_base_url:
            own.add(urlsplit(self.config.public_base_url).netloc)
        if not origin_allowed(origin, self.config.allowed_origins, own):
            self.ingress.reject(CHANNEL, "bad_origin")
            return None
        if origin is None:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _visitor_of_header(self, request: web.Request) -> str | None:
        """The visitor the bearer token names; None (and counted) for a bad token."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return self._visitor_of(token)

    def _visitor_of(self, token: str) -> str | None:
        """The visitor a token names; None (and counted) for a bad token."""
        visitor = self.config.tokens.visitor_of(token)
        if visitor is None:
            self.ingress.reject(CHANNEL, "bad_token")
        return visitor

    async def _new_visitor(self, request: web.Request) -> tuple[str, str] | None:
        """A new visitor and token, unless this address made too many just now."""
        key = f"webchat:new:{client_address(request)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=60, nx=True)  # a fixed one-minute window from the first
            pipe.incr(key)
            _, count = await pipe.execute()
        if int(count) > self.config.new_visitors_per_minute:
            self.ingress.reject(CHANNEL, "too_many_visitors")
            return None
        return self.config.tokens.new_visitor()

    async def _ready(self, visitor: str, token: str) -> Event:
        """History and what the widget shows around it."""
        history = await self.store.history(visitor)
        known = {(e["from"], e["id"]) for e in history}
        # Replies announced a moment ago may not be marked sent in PostgreSQL yet.
        recent = await webchat.recent_events(self.redis, visitor)
        history += [e for e in recent if (e.get("from"), e.get("id")) not in known]
        return {
            "type": "ready",
            "token": token,
            "history": history,
            "business": self.config.business_name,
            "privacy_url": self.config.privacy_url,
            "consent_text": self.config.consent_text,
        }

    async def _receive(self, visitor: str, data: object) -> Event:
        """Queue one message from a browser; the frame that answers it."""
        client_id = data.get("id") if isinstance(data, dict) else None
        try:
            message = webchat.parse_message(visitor, data, datetime.now(UTC))
        except PayloadError as error:
            self.ingress.reject(CHANNEL, "bad_payload")
            return {"type": "error", "id": client_id, "code": "bad_message", "detail": str(error)}
        try:
            await webchat.echo_customer(self.redis, message)
            outcome = await self.ingress.accept(CHANNEL, message)
        except (RedisError, OSError) as error:
            log.error("ingress_unavailable", channel=CHANNEL.value, error=str(error))
            return {"type": "error", "id": client_id, "code": "unavailable"}
        if outcome != "queued":
            return {"type": "error", "id": client_id, "code": "rate_limited"}
        return {"type": "accepted", "id": client_id}

    async def preflight(self, request: web.Request) -> web.Response:
        """CORS preflight for the HTTP fallback."""
        headers = self._cors(request)
        if headers is None:
            return refused_origin()
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)

    async def session(self, request: web.Request) -> web.Response:
        """Resume a visitor by token, or start a new one: the history and widget settings."""
        headers = self._cors(request)
        if headers is None:
            return refused_origin()
        data = await json_body(request)
        token = data.get("token") if isinstance(data, dict) else None
        try:
            if token:
                visitor = self._visitor_of(token)
                if visitor is None:
                    return web.json_response({"error": "bad_token"}, status=401, headers=headers)
                return web.json_response(await self._ready(visitor, token), headers=headers)
            made = await self._new_visitor(request)
            if made is None:
                return web.json_response({"error": "rate_limited"}, status=429, headers=headers)
            return web.json_response(await self._ready(*made), headers=headers)
        except (RedisError, OSError) as error:
            log.error("webchat_unavailable", error=str(error))
            return web.json_response({"error": "unavailable"}, status=503, headers=headers)

    async def history(self, request: web.Request) -> web.Response:
        """The visitor's conversation so far."""
        headers = self._cors(request)
        if headers is None:
            return refused_origin()
        visitor = self._visitor_of_header(request)
        if visitor is None:
            return web.json_response({"error": "bad_token"}, status=401, headers=headers)
        return web.json_response({"history": await self.store.history(visitor)}, headers=headers)

    async def messages(self, request: web.Request) -> web.Response:
        """One message posted over HTTP, for browsers without a socket."""
        headers = self._cors(request)
        if headers is None:
            return refused_origin()
        visitor = self._visitor_of_header(request)
        if visitor is None:
            return web.json_response({"error": "bad_token"}, status=401, headers=headers)
        if request.content_length is None:
            return web.json_response({"error": "length_required"}, status=411, headers=headers)
        if request.content_length > MAX_FRAME_BYTES:
            self.ingress.reject(CHANNEL, "too_large")
            return web.json_response({"error": "too_large"}, status=413, headers=headers)
        answer = await self._receive(visitor, await json_body(request))
        code = _STATUS_OF_ANSWER.get(str(answer.get("code", answer["type"])), 503)
        return web.json_response(answer, status=code, headers=headers)

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """The widget's live connection: a hello, then messages both ways."""
        if self._cors(request) is None:
            return refused_origin()
        ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=4 * MAX_FRAME_BYTES)
        await ws.prepare(request)
        greeted = await self._greet(request, ws)
        if greeted is not None:
            await self._converse(ws, *greeted)
        return ws

    async def _greet(
        self, request: web.Request, ws: web.WebSocketResponse
    ) -> tuple[str, str] | None:
        """The visitor and token from the browser's hello; None once the socket is closed."""
        hello = await read_hello(ws)
        token = hello.get("token") if hello is not None else None
        if hello is None or not isinstance(token, str | None):
            await ws.close(code=CLOSE_BAD_HELLO, message=b"expected a hello")
            return None
        if token:
            visitor = self._visitor_of(token)
            if visitor is None:
                await ws.close(code=CLOSE_BAD_TOKEN, message=b"bad token")
                return None
            return visitor, token
        try:
            made = await self._new_visitor(request)
        except _DOWN as error:
            await close_unavailable(ws, error)
            return None
        if made is None:
            await ws.close(code=CLOSE_TOO_MANY, message=b"too many new visitors")
        return made

    async def _converse(self, ws: web.WebSocketResponse, visitor: str, token: str) -> None:
        """Send the history, then queue each message the browser sends until it goes."""
        visit = self.hub.join(visitor, ws)
        try:
            try:
                visit.start(await self._ready(visitor, token))
            except _DOWN as error:
                await close_unavailable(ws, error)
                return
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                if len(frame.data.encode()) > MAX_FRAME_BYTES:
                    self.ingress.reject(CHANNEL, "too_large")
                    visit.push({"type": "error", "code": "too_large"})
                    continue
                data = loads(frame.data)
                if isinstance(data, dict) and data.get("type") == "message":
                    visit.push(await self._receive(visitor, data))
        finally:
            self.hub.leave(visit)
            await visit.close()
