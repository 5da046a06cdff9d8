"""Web chat routes: the widget and /try page, the socket, and the HTTP fallback.

Checks come in a fixed order, as for webhooks: origin (403) -> token (401) -> size (413) ->
parse (400) -> hand to ingress -> answer. Nothing here decides what to reply.
"""

from __future__ import annotations

import html
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.base import PayloadError
from channels.plug import Intake
from channels.webchat import NAME
from channels.webchat import events as webchat
from channels.webchat.events import MAX_FRAME_BYTES, Event, VisitorTokens, origin_allowed
from channels.webchat.live import LiveHub
from channels.webchat.store import WebChatStore
from core.outages import OUTAGES

log = structlog.get_logger(__name__)
TRY_PATH = "/try"
SOCKET_PATH = "/webchat/socket"
SESSION_PATH = "/webchat/session"
HISTORY_PATH = "/webchat/history"
MESSAGES_PATH = "/webchat/messages"
STATIC = Path(__file__).parent / "static"
HELLO_TIMEOUT_SECONDS = 10.0
CHANNEL = NAME
# Close codes the widget understands: forget the token and start again, or wait.
CLOSE_BAD_TOKEN = 4401
CLOSE_TOO_MANY = 4429
CLOSE_BAD_HELLO = 4400
_FILES = {
    "/webchat/widget.js": ("webchat.js", "text/javascript"),
    "/webchat/widget.css": ("webchat.css", "text/css"),
    "/webchat/try.css": ("try.css", "text/css"),
}
_DOWN: tuple[type[BaseException], ...] = (RedisError, *OUTAGES)
"""Redis or PostgreSQL not answering: the browser is told to come back shortly."""
_TRY_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


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
    files = {path: ((STATIC / name).read_bytes(), kind) for path, (name, kind) in _FILES.items()}
    page = Template((STATIC / "try.html").read_text(encoding="utf-8"))

    def cors(request: web.Request) -> dict[str, str] | None:
        """Headers letting an allowed page read the answer; None for a page not allowed."""
        origin = request.headers.get("Origin")
        own = {request.host}
        if config.public_base_url:
            own.add(urlsplit(config.public_base_url).netloc)
        if not origin_allowed(origin, config.allowed_origins, own):
            ingress.reject(CHANNEL, "bad_origin")
            return None
        if origin is None:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def refused_origin() -> web.Response:
        return web.json_response(
            {"error": "this site is not allowed to use the chat (WEBCHAT_ALLOWED_ORIGINS)"},
            status=403,
        )

    def visitor_of(request: web.Request) -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        visitor = config.tokens.visitor_of(token)
        if visitor is None:
            ingress.reject(CHANNEL, "bad_token")
        return visitor

    async def new_visitor(request: web.Request) -> tuple[str, str] | None:
        """A new visitor and token, unless this address made too many just now."""
        key = f"webchat:new:{client_address(request)}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=60, nx=True)  # a fixed one-minute window from the first
            pipe.incr(key)
            _, count = await pipe.execute()
        if int(count) > config.new_visitors_per_minute:
            ingress.reject(CHANNEL, "too_many_visitors")
            return None
        return config.tokens.new_visitor()

    async def ready(visitor: str, token: str) -> Event:
        """History and what the widget shows around it."""
        history = await store.history(visitor)
        known = {(e["from"], e["id"]) for e in history}
        # Replies announced a moment ago may not be marked sent in PostgreSQL yet.
        recent = await webchat.recent_events(redis, visitor)
        history += [e for e in recent if (e.get("from"), e.get("id")) not in known]
        return {
            "type": "ready",
            "token": token,
            "history": history,
            "business": config.business_name,
            "privacy_url": config.privacy_url,
            "consent_text": config.consent_text,
        }

    async def receive(visitor: str, data: object) -> Event:
        """Queue one message from a browser; the frame that answers it."""
        client_id = data.get("id") if isinstance(data, dict) else None
        try:
            message = webchat.parse_message(visitor, data, datetime.now(UTC))
        except PayloadError as error:
            ingress.reject(CHANNEL, "bad_payload")
            return {"type": "error", "id": client_id, "code": "bad_message", "detail": str(error)}
        try:
            await webchat.echo_customer(redis, message)
            outcome = await ingress.accept(CHANNEL, message)
        except (RedisError, OSError) as error:
            log.error("ingress_unavailable", channel=CHANNEL.value, error=str(error))
            return {"type": "error", "id": client_id, "code": "unavailable"}
        if outcome != "queued":
            return {"type": "error", "id": client_id, "code": "rate_limited"}
        return {"type": "accepted", "id": client_id}

    async def try_page(request: web.Request) -> web.Response:
        base = (config.public_base_url or f"{request.scheme}://{request.host}").rstrip("/")
        body = page.substitute(
            business=html.escape(config.business_name), base=html.escape(base, quote=True)
        )
        headers = {"Content-Security-Policy": _TRY_CSP, "X-Content-Type-Options": "nosniff"}
        return web.Response(text=body, content_type="text/html", headers=headers)

    async def static(request: web.Request) -> web.Response:
        body, kind = files[request.path]
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=headers)

    async def preflight(request: web.Request) -> web.Response:
        headers = cors(request)
        if headers is None:
            return refused_origin()
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)

    async def session(request: web.Request) -> web.Response:
        headers = cors(request)
        if headers is None:
            return refused_origin()
        data = await _json_body(request)
        token = data.get("token") if isinstance(data, dict) else None
        try:
            if token:
                visitor = config.tokens.visitor_of(token)
                if visitor is None:
                    ingress.reject(CHANNEL, "bad_token")
                    return web.json_response({"error": "bad_token"}, status=401, headers=headers)
                return web.json_response(await ready(visitor, token), headers=headers)
            made = await new_visitor(request)
            if made is None:
                return web.json_response({"error": "rate_limited"}, status=429, headers=headers)
            return web.json_response(await ready(*made), headers=headers)
        except (RedisError, OSError) as error:
            log.error("webchat_unavailable", error=str(error))
            return web.json_response({"error": "unavailable"}, status=503, headers=headers)

    async def history(request: web.Request) -> web.Response:
        headers = cors(request)
        if headers is None:
            return refused_origin()
        visitor = visitor_of(request)
        if visitor is None:
            return web.json_response({"error": "bad_token"}, status=401, headers=headers)
        return web.json_response({"history": await store.history(visitor)}, headers=headers)

    async def messages(request: web.Request) -> web.Response:
        headers = cors(request)
        if headers is None:
            return refused_origin()
        visitor = visitor_of(request)
        if visitor is None:
            return web.json_response({"error": "bad_token"}, status=401, headers=headers)
        if request.content_length is None:
            return web.json_response({"error": "length_required"}, status=411, headers=headers)
        if request.content_length > MAX_FRAME_BYTES:
            ingress.reject(CHANNEL, "too_large")
            return web.json_response({"error": "too_large"}, status=413, headers=headers)
        answer = await receive(visitor, await _json_body(request))
        status = {"accepted": 202, "bad_message": 400, "rate_limited": 429}
        code = status.get(str(answer.get("code", answer["type"])), 503)
        return web.json_response(answer, status=code, headers=headers)

    async def socket(request: web.Request) -> web.StreamResponse:
        if cors(request) is None:
            return refused_origin()
        ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=4 * MAX_FRAME_BYTES)
        await ws.prepare(request)
        hello = await _hello(ws)
        token = hello.get("token") if hello is not None else None
        if hello is None or not isinstance(token, str | None):
            await ws.close(code=CLOSE_BAD_HELLO, message=b"expected a hello")
            return ws
        if token:
            visitor = config.tokens.visitor_of(token)
            if visitor is None:
                ingress.reject(CHANNEL, "bad_token")
                await ws.close(code=CLOSE_BAD_TOKEN, message=b"bad token")
                return ws
        else:
            try:
                made = await new_visitor(request)
            except _DOWN as error:
                return await _unavailable(ws, error)
            if made is None:
                await ws.close(code=CLOSE_TOO_MANY, message=b"too many new visitors")
                return ws
            visitor, token = made
        visit = hub.join(visitor, ws)
        try:
            try:
                visit.start(await ready(visitor, token))
            except _DOWN as error:
                return await _unavailable(ws, error)
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                if len(frame.data.encode()) > MAX_FRAME_BYTES:
                    ingress.reject(CHANNEL, "too_large")
                    visit.push({"type": "error", "code": "too_large"})
                    continue
                data = _loads(frame.data)
                if isinstance(data, dict) and data.get("type") == "message":
                    visit.push(await receive(visitor, data))
        finally:
            hub.leave(visit)
            await visit.close()
        return ws

    return [
        web.get(TRY_PATH, try_page),
        *(web.get(path, static) for path in _FILES),
        web.get(SOCKET_PATH, socket),
        web.post(SESSION_PATH, session),
        web.get(HISTORY_PATH, history),
        web.post(MESSAGES_PATH, messages),
        *(web.options(path, preflight) for path in (SESSION_PATH, HISTORY_PATH, MESSAGES_PATH)),
    ]


async def _unavailable(ws: web.WebSocketResponse, error: BaseException) -> web.WebSocketResponse:
    """Storage is down: close so the widget tries again in a moment."""
    log.error("webchat_unavailable", error=repr(error))
    await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again later")
    return ws


async def _hello(ws: web.WebSocketResponse) -> dict[str, object] | None:
    """The browser's first frame, {"type": "hello", "token": ... or null}; None if not that."""
    try:
        frame = await ws.receive(timeout=HELLO_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    if frame.type is not WSMsgType.TEXT or len(frame.data) > 1000:
        return None
    data = _loads(frame.data)
    if not isinstance(data, dict) or data.get("type") != "hello":
        return None
    return data


async def _json_body(request: web.Request) -> object:
    """The request's JSON, or None when there is none or it does not parse."""
    if not request.can_read_body:
        return None
    return _loads(await request.text())


def _loads(text: str) -> object:
    """JSON, or None."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def client_address(request: web.Request) -> str:
    """Who is asking: the peer, or behind a local reverse proxy the address it forwards."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    if forwarded and _is_local(peer):
        return forwarded
    return peer


def _is_local(address: str) -> bool:
    """A loopback or private address: a proxy of ours, not a visitor."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private
