"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real wire format.

Point a real `telegram.Bot(token, base_url=api.base_url)` at it. PTB builds URLs as
base_url + token + "/" + method and POSTs form-encoded parameters whose non-string values are
JSON-encoded; the server decodes them back into Bot API types and records every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Shop Helper",
    "username": "ShopHelperBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_INTS = {"chat_id", "offset", "limit", "timeout", "message_id", "cache_time", "max_connections"}
_JSON = {"reply_markup", "reply_parameters", "allowed_updates", "entities", "link_preview_options"}
_BOOLS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}
_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    """One request the bot made: the Bot API method and its decoded parameters."""

    method: str
    params: dict[str, Any]


@dataclass
class _Failure:
    skip: int
    status: int
    body: dict[str, Any] = field(default_factory=dict)


class FakeTelegramAPI:
    """The Bot API methods the bot uses, with recorded calls and injectable failures."""

    def __init__(
        self, token: str = TOKEN, max_poll: float = 1.0, first_message_id: int = 5001
    ) -> None:
        self.token = token
        self.max_poll = max_poll
        self.calls: list[Call] = []
        self.accepted: list[dict[str, Any]] = []  # the messages sendMessage answered ok with
        self.webhook_url = ""
        self.webhook_error = ""  # what getWebhookInfo reports as the last delivery error
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(100_000_001)
        self._message_ids = itertools.count(first_message_id)
        self._failures: dict[str, list[_Failure]] = {}
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._holds: dict[str, asyncio.Event] = {}
        self.held = asyncio.Event()
        self.failing_chats: dict[int, int] = {}
        """Chats every sendMessage to fails with this HTTP status, until removed."""
        self.files: dict[str, bytes] = {}
        """What getFile knows by file_id, downloaded from /file/bot<token>/<file_path>."""
        self.downloads: list[str] = []

    @property
    def base_url(self) -> str:
        """The `base_url` for `telegram.Bot`: PTB appends the token, then "/<method>"."""
        return f"http://127.0.0.1:{self.port}/bot"

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for getUpdates (an update_id is assigned when missing)."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._arrived.set()
        return int(update["update_id"])

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        skip: int = 0,
    ) -> None:
        """Make a coming call of `method` (after `skip` successful ones) fail like Telegram does."""
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or (
            f"Too Many Requests: retry after {retry_after}"
            if status == 429
            else _DESCRIPTIONS.get(status, "Error")
        )
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": text}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method, []).append(_Failure(skip, status, body))

    def hold_next(self, method: str) -> asyncio.Event:
        """Make the next call of `method` hang until the returned event is set, then fail."""
        gate = asyncio.Event()
        self._holds[method] = gate
        return gate

    async def __aenter__(self) -> FakeTelegramAPI:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._arrived.set()  # wake any long poll so the server can close
        for gate in self._holds.values():
            gate.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _decode(request)
        self.calls.append(Call(method, params))
        gate = self._holds.pop(method, None)
        if gate is not None:
            # The caller hangs here, as on a stalled network; it never counts as delivered.
            self.held.set()
            await gate.wait()
            return _error(502, "Bad Gateway")
        failure = self._take_failure(method)
        if failure is not None:
            return web.json_response(failure.body, status=failure.status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result: web.Response = await handler(params)
        return result

    def _take_failure(self, method: str) -> _Failure | None:
        pending = self._failures.get(method)
        if not pending:
            return None
        if pending[0].skip > 0:
            pending[0].skip -= 1
            return None
        return pending.pop(0)

    async def _download(self, request: web.Request) -> web.Response:
        """A file's bytes, as the Bot API's file URL serves them."""
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        file_id = path.removeprefix("voice/").removesuffix(".oga")
        if file_id not in self.files:
            return _error(404, "Not Found")
        self.downloads.append(file_id)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _m_getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"voice/{file_id}.oga",
            }
        )

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self.failing_chats:
            status = self.failing_chats[chat_id]
            return _error(status, _DESCRIPTIONS.get(status, "Error"))
        chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat_id, "type": chat_type},
            "date": int(time.time()),
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters")
        if reply:
            message["reply_to_message"] = {
                "message_id": reply["message_id"],
                "chat": message["chat"],
                "date": message["date"] - 1,
            }
        self.accepted.append(message)
        return _ok(message)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired")
        return _ok(True)

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook_url = str(params.get("url", ""))
        return _ok(True, "Webhook was set")

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_error:
            info |= {"last_error_date": int(time.time()), "last_error_message": self.webhook_error}
        return _ok(info)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return _ok(True, "Webhook was deleted")

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the offset
        timeout = min(float(params.get("timeout") or 0), self.max_poll)
        if not self._updates and timeout > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return _ok(list(itertools.islice(self._updates, limit)))


async def _decode(request: web.Request) -> dict[str, Any]:
    """Parameters as the Bot API sees them: from the query, a JSON body or a form body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    if request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        if key in _JSON:
            params[key] = json.loads(value)
        elif key in _BOOLS:
            params[key] = value.lower() in ("true", "1")
        elif key in _INTS and re.fullmatch(r"-?\d+", value):
            params[key] = int(value)
    return params


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body)


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)
