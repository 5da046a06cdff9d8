"""Web chat end to end through the real server and workers, over a real WebSocket and HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.services import Services
from channels.webchat.events import MAX_FRAME_BYTES
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle
from tests.integration.webchat_client import chat_socket, close_webchat_handoffs, staff_reply

pytestmark = pytest.mark.integration
SHOP_SITE = "https://www.pandan-lantern.test"
SATURDAY = "What time do you open on Saturday?"
SATURDAY_ANSWER = "On Saturday we open at 8:00 am"


@pytest.fixture(autouse=True)
async def no_handoffs_left_behind(services: Services) -> AsyncIterator[None]:
    yield
    await close_webchat_handoffs(services.storage.pool)


@pytest.fixture
async def bot(services: Services) -> AsyncIterator[Runtime]:
    async with running_bot(services, webchat_allowed_origins=SHOP_SITE) as runtime:
        yield runtime


def url(runtime: Runtime, path: str) -> str:
    return f"http://127.0.0.1:{runtime.port}{path}"


async def request(
    runtime: Runtime, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url(runtime, path), **kwargs) as response,
    ):
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, dict(response.headers), body


async def test_the_answer_comes_over_the_socket_and_a_reload_shows_the_history(
    bot: Runtime,
) -> None:
    assert bot.port is not None
    async with chat_socket(bot.port, origin=SHOP_SITE) as browser:
        ready = await browser.hello()
        assert ready["history"] == [] and ready["business"] == "Test Bakery"
        asked = await browser.say(SATURDAY)
        await browser.next(lambda f: f == {"type": "handled", "id": asked})
        answer = await browser.bot_says(SATURDAY_ANSWER)
        token = browser.token
    assert token is not None

    async with chat_socket(bot.port, origin=SHOP_SITE) as reloaded:
        again = await reloaded.hello(token)
    history = again["history"]
    assert again["token"] == token
    assert [(m["from"], m["id"]) for m in history] == [("customer", asked), ("bot", answer["id"])]
    assert history[0]["text"] == SATURDAY and SATURDAY_ANSWER in history[1]["text"]


async def test_tampered_or_foreign_tokens_are_refused(bot: Runtime) -> None:
    assert bot.port is not None
    async with chat_socket(bot.port) as browser:
        await browser.hello()
        token = browser.token
    assert token is not None
    visitor, _, signature = token.partition(".")
    forged = [
        f"{visitor[:-1]}{'A' if visitor[-1] != 'A' else 'B'}.{signature}",
        f"{visitor}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        visitor,
        "not-a-token",
    ]
    for bad in forged:
        async with chat_socket(bot.port) as browser:
            await browser.ws.send_json({"type": "hello", "token": bad})
            await browser.ws.receive()
            assert browser.ws.close_code == 4401
        status, _, body = await request(
            bot, "GET", "/webchat/history", headers={"Authorization": f"Bearer {bad}"}
        )
        assert (status, body) == (401, {"error": "bad_token"})


async def test_only_allowed_sites_and_the_bot_itself_may_open_the_chat(bot: Runtime) -> None:
    assert bot.port is not None
    for allowed in (SHOP_SITE, PUBLIC_URL, f"http://127.0.0.1:{bot.port}", None):
        async with chat_socket(bot.port, origin=allowed) as browser:
            await browser.hello()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with chat_socket(bot.port, origin="https://evil.example"):
            pass
    assert refused.value.status == 403

    status, headers, _ = await request(
        bot, "OPTIONS", "/webchat/messages", headers={"Origin": SHOP_SITE}
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == SHOP_SITE
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    for path in ("/webchat/messages", "/webchat/session"):
        status, headers, _ = await request(
            bot, "POST", path, headers={"Origin": "https://evil.example"}, json={}
        )
        assert status == 403 and "Access-Control-Allow-Origin" not in headers


async def test_without_a_socket_messages_go_over_http_and_replies_wait_in_the_history(
    bot: Runtime,
) -> None:
    origin = {"Origin": SHOP_SITE}
    status, headers, session = await request(bot, "POST", "/webchat/session", headers=origin)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == SHOP_SITE
    auth = {**origin, "Authorization": f"Bearer {session['token']}"}
    message = {"id": "http-fallback-1", "text": SATURDAY}
    status, _, body = await request(bot, "POST", "/webchat/messages", headers=auth, json=message)
    assert (status, body) == (202, {"type": "accepted", "id": "http-fallback-1"})

    history: list[dict[str, Any]] = []

    async def answered() -> bool:
        nonlocal history
        _, _, body = await request(bot, "GET", "/webchat/history", headers=auth)
        history = body["history"]
        return any(m["from"] == "bot" for m in history)

    await wait_for_async(answered)
    assert [m["from"] for m in history] == ["customer", "bot"]
    assert SATURDAY_ANSWER in history[1]["text"]
    # The same message again (a retried POST) is not answered twice.
    await request(bot, "POST", "/webchat/messages", headers=auth, json=message)
    await settle()
    _, _, body = await request(bot, "GET", "/webchat/history", headers=auth)
    assert len(body["history"]) == 2


async def test_a_reply_reaches_the_socket_held_by_another_server_process(
    services: Services,
) -> None:
    async with (
        running_bot(services, workers=1) as answering,
        running_bot(services, workers=0) as holding_the_socket,
    ):
        assert holding_the_socket.port is not None and answering.port is not None
        async with chat_socket(holding_the_socket.port) as browser:
            await browser.hello()
            await browser.say(SATURDAY)
            await browser.bot_says(SATURDAY_ANSWER)


async def test_staff_replies_reach_the_browser_and_the_bot_stays_quiet(bot: Runtime) -> None:
    assert bot.port is not None
    async with chat_socket(bot.port) as browser:
        await browser.hello()
        await browser.say("/human")
        await browser.bot_says("I've asked a member of our team to reply to you here")
        visitor = (browser.token or "").partition(".")[0]
        await staff_reply(bot, visitor, "Hi, this is Mei from the shop. Your cake is ready.")
        await browser.bot_says("this is Mei from the shop")

        before = len(browser.bot_messages())
        said = await browser.say("Thank you Mei, I will come at 3pm")
        await browser.next(lambda f: f == {"type": "handled", "id": said})
        await settle()
        assert len(browser.bot_messages()) == before  # a person has the conversation


async def test_oversized_malformed_and_flooding_messages_are_refused(
    services: Services,
) -> None:
    async with running_bot(services, flood_limit=2, flood_window_seconds=60) as bot:
        assert bot.port is not None
        async with chat_socket(bot.port) as browser:
            await browser.hello()
            huge = {"type": "message", "id": "too-big-1", "text": "x" * MAX_FRAME_BYTES}
            await browser.ws.send_json(huge)
            await browser.next(lambda f: f == {"type": "error", "code": "too_large"})
            await browser.ws.send_json({"type": "message", "id": "no", "text": "hi"})
            bad = await browser.next(lambda f: f == {**f, "type": "error", "id": "no"})
            assert bad["code"] == "bad_message"

            ids = [await browser.say(f"Do you sell kueh number {n}?") for n in range(3)]
            await browser.bot_says("sending messages very quickly")
            await browser.ws.send_json({"type": "message", "id": "one-too-many", "text": "hi"})
            refused = await browser.next(
                lambda f: f == {**f, "type": "error", "id": "one-too-many"}
            )
            assert refused["code"] == "rate_limited"
            assert len(ids) == 3


async def test_one_address_cannot_mint_visitors_without_limit(bot: Runtime) -> None:
    # Behind a local reverse proxy the visitor's address is the forwarded one.
    proxy = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
    statuses = [
        (await request(bot, "POST", "/webchat/session", headers=proxy))[0] for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


async def test_the_try_page_and_the_widget_are_served(bot: Runtime) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(url(bot, "/try")) as page:
            text = await page.text()
            assert page.status == 200 and "Content-Security-Policy" in page.headers
            assert "Try the Test Bakery support bot" in text
            assert f"{PUBLIC_URL}/webchat/widget.js" in text
        async with session.get(url(bot, "/webchat/widget.js")) as script:
            assert script.status == 200 and script.content_type == "text/javascript"
            assert "textContent" in await script.text()
        async with session.get(url(bot, "/webchat/widget.css")) as css:
            assert css.status == 200 and css.content_type == "text/css"


async def wait_for_async(condition: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Like wait_for, for a condition that must be awaited."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.2)
