"""Web chat wire details: the hello frame, closing a socket, JSON bodies, who is asking."""

from __future__ import annotations

import ipaddress
import json

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

# Named as the routes' logger so log filters set up for the web chat keep matching.
log = structlog.get_logger("channels.webchat.routes")
HELLO_TIMEOUT_SECONDS = 10.0
# Close codes the widget understands: forget the token and start again, or wait.
CLOSE_BAD_TOKEN = 4401
CLOSE_TOO_MANY = 4429
CLOSE_BAD_HELLO = 4400


async def close_unavailable(ws: web.WebSocketResponse, error: BaseException) -> None:
    """Storage is down: close so the widget tries again in a moment."""
    log.error("webchat_unavailable", error=repr(error))
    await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again later")


async def read_hello(ws: web.WebSocketResponse) -> dict[str, object] | None:
    """The browser's first frame, {"type": "hello", "token": ... or null}; None if not that."""
    try:
        frame = await ws.receive(timeout=HELLO_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    if frame.type is not WSMsgType.TEXT or len(frame.data) > 1000:
        return None
    data = loads(frame.data)
    if not isinstance(data, dict) or data.get("type") != "hello":
        return None
    return data


async def json_body(request: web.Request) -> object:
    """The request's JSON, or None when there is none or it does not parse."""
    if not request.can_read_body:
        return None
    return loads(await request.text())


def loads(text: str) -> object:
    """JSON, or None."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def refused_origin() -> web.Response:
    """403 for a page not in WEBCHAT_ALLOWED_ORIGINS."""
    return web.json_response(
        {"error": "this site is not allowed to use the chat (WEBCHAT_ALLOWED_ORIGINS)"},
        status=403,
    )


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
