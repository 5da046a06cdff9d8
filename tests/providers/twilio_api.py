"""A fake Twilio REST API (Messages, and the Content API when asked) on a local aiohttp server,
real wire format.

Point a real `twilio.rest.Client` at it with `client.api.base_url = fake.base_url`: the Messages
resource lives on the `api` domain (version 2010-04-01), whose `base_url` is read on every request.
The Content API lives on the `content` domain: `client.content.base_url = fake.base_url`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any

from aiohttp import web

_MAX_BODY = 1600
_DEFAULT_ERRORS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass(frozen=True, slots=True)
class TwilioCall:
    """One request the fake received: the account in its path and its decoded form."""

    account_sid: str
    form: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    code: int
    message: str


class FakeTwilioApi:
    """`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` on 127.0.0.1, a free port."""

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.calls: list[TwilioCall] = []
        self.accepted: list[dict[str, Any]] = []  # the message resources answered with 201
        self._plan: list[_Failure | None] = []  # None: let one request succeed
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.content_api = False
        """Whether POST /v1/Content creates contents (off: 404, as for an account without it)."""
        self.contents: list[dict[str, Any]] = []  # the content definitions created
        self.content_requests = 0  # every POST /v1/Content, refused or not

    def fail_next(
        self, status: int, code: int | None = None, message: str | None = None, after: int = 0
    ) -> None:
        """Answer a coming request with Twilio's error JSON, once `after` more have succeeded.

        Calls queue up: `fail_next(500); fail_next(400, 63016)` fails the next two requests.
        """
        default_code, default_message = _DEFAULT_ERRORS.get(status, (status, "Error"))
        self._plan.extend([None] * after)
        self._plan.append(
            _Failure(status, default_code if code is None else code, message or default_message)
        )

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and set `base_url`."""
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account_sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account_sid}.json", self._account)
        app.router.add_post("/v1/Content", self._create_content)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTwilioApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _create(self, request: web.Request) -> web.Response:
        account_sid = request.match_info["account_sid"]
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.calls.append(TwilioCall(account_sid, form))
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(401, 20003, "Authenticate")
        if account_sid != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        failure = self._plan.pop(0) if self._plan else None
        if failure is not None:
            return _error(failure.status, failure.code, failure.message)
        problem = _validate(form)
        if problem is not None:
            return _error(400, *problem)
        message = self._message(form)
        self.accepted.append(message)
        return web.json_response(message, status=201)

    async def _create_content(self, request: web.Request) -> web.Response:
        """POST /v1/Content: a JSON content definition; its SID and echo, or 404 when off."""
        self.content_requests += 1
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(401, 20003, "Authenticate")
        if not self.content_api:
            return _error(404, 20404, "The requested resource was not found")
        try:
            definition = json.loads(await request.read())
        except ValueError:
            return _error(400, 20001, "Invalid JSON")
        types = {k: v for k, v in (definition.get("types") or {}).items() if v is not None}
        if not types:
            return _error(400, 20001, "Content types are required")
        sid = "HX" + secrets.token_hex(16)
        self.contents.append({**definition, "types": types, "sid": sid})
        now = format_datetime(datetime.now(UTC))
        body = {
            "sid": sid,
            "account_sid": self.account_sid,
            "friendly_name": definition.get("friendly_name"),
            "language": definition.get("language"),
            "variables": definition.get("variables") or {},
            "types": types,
            "date_created": now,
            "date_updated": now,
            "url": f"{self.base_url}/v1/Content/{sid}",
            "links": {},
        }
        return web.json_response(body, status=201)

    async def _account(self, request: web.Request) -> web.Response:
        """The account resource, as `bot doctor` fetches it to check the credentials."""
        account_sid = request.match_info["account_sid"]
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(401, 20003, "Authenticate")
        if account_sid != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        now = format_datetime(datetime.now(UTC))
        return web.json_response(
            {
                "sid": account_sid,
                "friendly_name": "Test account",
                "status": "active",
                "type": "Full",
                "date_created": now,
                "date_updated": now,
                "uri": f"/2010-04-01/Accounts/{account_sid}.json",
            }
        )

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


def _validate(form: dict[str, str]) -> tuple[int, str] | None:
    """The checks Twilio makes that a bot's reply could fail, with Twilio's codes."""
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not form.get("From"):
        return 21603, "A 'From' phone number is required."
    if not form.get("Body") and not form.get("ContentSid"):
        return 21602, "Message body is required."
    if len(form.get("Body", "")) > _MAX_BODY:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    if form["From"].startswith("whatsapp:") != form["To"].startswith("whatsapp:"):
        return 21910, "Invalid From and To pair. From and To should be of the same channel"
    return None


def _error(status: int, code: int, message: str) -> web.Response:
    """Twilio's error document."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)
