"""XOAUTH2 access tokens from a refresh token, against a local token endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from channels.email.oauth2 import OAuth2Error, RefreshTokenSource


@pytest.fixture
async def token_endpoint() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    calls: list[dict[str, str]] = []

    async def token(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        calls.append(form)
        if form.get("refresh_token") != "good-refresh":
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Token has been revoked."},
                status=400,
            )
        return web.json_response(
            {"access_token": f"access-{len(calls)}", "expires_in": 3599, "token_type": "Bearer"}
        )

    app = web.Application()
    app.router.add_post("/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/token", calls
    await runner.cleanup()


async def test_an_access_token_is_fetched_once_and_reused(
    token_endpoint: tuple[str, list[dict[str, str]]],
) -> None:
    url, calls = token_endpoint
    source = RefreshTokenSource(url, "client-1", "shh", "good-refresh")
    assert await source() == "access-1"
    assert await source() == "access-1"
    assert calls == [
        {
            "grant_type": "refresh_token",
            "client_id": "client-1",
            "refresh_token": "good-refresh",
            "client_secret": "shh",
        }
    ]


async def test_a_revoked_refresh_token_says_why(
    token_endpoint: tuple[str, list[dict[str, str]]],
) -> None:
    url, _ = token_endpoint
    with pytest.raises(OAuth2Error, match="400: Token has been revoked"):
        await RefreshTokenSource(url, "client-1", None, "revoked")()
