"""A local server for Twilio MediaUrls: media bytes behind the account's HTTP basic auth."""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web


@dataclass
class FakeTwilioMedia:
    """Serves `media[name]` at /Media/<name> to the account SID and auth token only."""

    account_sid: str
    auth_token: str
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    refused: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        """The MediaUrl a webhook would carry for `name`."""
        return f"http://127.0.0.1:{self.port}/Media/{name}"

    async def __aenter__(self) -> FakeTwilioMedia:
        app = web.Application()
        app.router.add_get("/Media/{name}", self._handle)
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
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        expected = "Basic " + b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            self.refused += 1
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        name = request.match_info["name"]
        if name not in self.media:
            return web.json_response({"code": 20404, "message": "Not found"}, status=404)
        self.fetched.append(name)
        body, content_type = self.media[name]
        return web.Response(body=body, content_type=content_type)
