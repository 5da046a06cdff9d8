"""The twilio library's async HTTP client, with JSON bodies sent as JSON.

The Content API takes a JSON document; the library's async client hands aiohttp the dict, which
aiohttp form-encodes under a JSON content type, and Twilio refuses it as invalid JSON. The
credentials go as the Authorization header aiohttp asks for (its `auth` is deprecated).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """AsyncTwilioHttpClient, except that a JSON request's body is serialised as JSON."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the library's signature)
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request; a dict under `Content-Type: application/json` goes as JSON text."""
        headers = dict(headers or {})
        if isinstance(data, dict) and headers.get("Content-Type") == "application/json":
            data = json.dumps(data)
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )
