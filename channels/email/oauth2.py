"""OAuth 2.0 access tokens for XOAUTH2 mail login, from a refresh token (Google, Microsoft 365)."""

from __future__ import annotations

import asyncio
import time

import aiohttp


class OAuth2Error(Exception):
    """The token endpoint refused or answered nonsense."""


class RefreshTokenSource:
    """Exchanges a refresh token for access tokens, reusing each until shortly before expiry."""

    def __init__(
        self, token_url: str, client_id: str, client_secret: str | None, refresh_token: str
    ) -> None:
        self._url = token_url
        self._form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": refresh_token,
            **({"client_secret": client_secret} if client_secret else {}),
        }
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        """A valid access token."""
        async with self._lock:
            if self._token is None or time.monotonic() > self._expires - 60:
                await self._refresh()
            assert self._token is not None
            return self._token

    async def _refresh(self) -> None:
        """Ask the token endpoint for a new access token."""
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self._url, data=self._form) as response,
        ):
            payload = await response.json(content_type=None)
        if response.status != 200 or not isinstance(payload, dict) or "access_token" not in payload:
            detail = payload.get("error_description") if isinstance(payload, dict) else payload
            raise OAuth2Error(f"token endpoint answered {response.status}: {detail}")
        self._token = str(payload["access_token"])
        self._expires = time.monotonic() + float(payload.get("expires_in", 3600))
