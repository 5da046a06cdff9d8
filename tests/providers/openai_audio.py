"""A local OpenAI-compatible server for POST /v1/audio/transcriptions (multipart in, JSON out)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import BodyPartReader, web

API_KEY = "test-key"


@dataclass(frozen=True)
class Upload:
    """One transcription request: the form fields and the uploaded file."""

    model: str
    filename: str
    content_type: str
    audio: bytes


@dataclass
class FakeTranscriptions:
    """Answers every transcription with `text`, or fails with `status`, after `delay` seconds."""

    text: str = "What time do you open on Saturday?"
    status: int = 200
    delay: float = 0.0
    uploads: list[Upload] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """OPENAI_BASE_URL for this server."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeTranscriptions:
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", self._handle)
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
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided", "invalid_request_error")
        fields, upload = await _read_form(request)
        if upload is None or "model" not in fields:
            return _error(400, "'file' and 'model' are required", "invalid_request_error")
        filename, content_type, audio = upload
        self.uploads.append(Upload(fields["model"], filename, content_type, audio))
        await asyncio.sleep(self.delay)
        if self.status != 200:
            return _error(self.status, "The server had an error", "server_error")
        return web.json_response({"text": self.text})


async def _read_form(
    request: web.Request,
) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    """The text fields and the one file of a multipart/form-data body."""
    fields: dict[str, str] = {}
    upload = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        assert isinstance(part, BodyPartReader)
        data = await part.read()
        if part.filename is not None:
            content_type = part.headers.get("Content-Type", "")
            upload = (part.filename, content_type, bytes(data))
        elif part.name is not None:
            fields[part.name] = data.decode()
    return fields, upload


def _error(status: int, message: str, kind: str) -> web.Response:
    """An error body shaped like OpenAI's."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status)
