"""The web chat widget in a real headless Chromium (Debian's, driven by Playwright).

Skipped only outside CI when Chromium is not installed (`apt-get install chromium`); CI
installs it. `make screenshots` refreshes docs/webchat.png from the screenshot test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

from bot.runtime import Runtime
from bot.services import Services
from tests.integration.bot_harness import running_bot
from tests.integration.webchat_client import close_webchat_handoffs, staff_reply

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None and os.environ.get("CI") != "true",
        reason="Chromium is not installed (apt-get install chromium)",
    ),
]
DOCS = Path(__file__).resolve().parents[2] / "docs"
WAIT_MS = 30_000
SATURDAY = "What time do you open on Saturday?"


@pytest.fixture(autouse=True)
async def no_handoffs_left_behind(services: Services) -> AsyncIterator[None]:
    yield
    await close_webchat_handoffs(services.storage.pool)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest.fixture
async def shop_site() -> AsyncIterator[ShopSite]:
    site = ShopSite()
    await site.start()
    yield site
    await site.stop()


class ShopSite:
    """The business's own website on another origin, with the widget's one script tag."""

    def __init__(self) -> None:
        self.bot_url = ""
        self._runner: web.AppRunner | None = None
        self.origin = ""

    async def start(self) -> None:
        async def home(request: web.Request) -> web.Response:
            tag = f'<script src="{self.bot_url}/webchat/widget.js" data-lang="ms" async></script>'
            return web.Response(
                text=f"<!doctype html><title>Shop</title><h1>Kedai kami</h1>{tag}",
                content_type="text/html",
            )

        app = web.Application()
        app.add_routes([web.get("/", home)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        # Another host name than the bot's 127.0.0.1: another origin, as on the internet.
        self.origin = f"http://localhost:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def bot(services: Services, shop_site: ShopSite) -> AsyncIterator[Runtime]:
    async with running_bot(services, webchat_allowed_origins=shop_site.origin) as runtime:
        shop_site.bot_url = f"http://127.0.0.1:{runtime.port}"
        yield runtime


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="en-SG", viewport={"width": 1100, "height": 760})
    opened = await context.new_page()
    yield opened
    await context.close()


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    """Into docs/ with UPDATE_SCREENSHOTS=1 (`make screenshots`), else a temporary folder."""
    target = (DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path) / name
    target.parent.mkdir(exist_ok=True)
    await page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000


def try_url(bot: Runtime) -> str:
    return f"http://127.0.0.1:{bot.port}/try"


async def ask(page: Page, text: str) -> None:
    await page.locator("#sgbot-input").fill(text)
    await page.locator("#sgbot-input").press("Enter")


async def test_ask_reload_and_ask_for_a_person(bot: Runtime, page: Page) -> None:
    await page.goto(try_url(bot))
    await expect(page.locator(".welcome")).to_have_text("Hello! How can we help you today?")
    await ask(page, SATURDAY)
    answers = page.locator(".message.from-bot:not(.welcome) .bubble")
    await expect(answers.last).to_contain_text("On Saturday we open at 8:00 am", timeout=WAIT_MS)
    await expect(page.locator(".typing")).to_be_hidden()

    await page.reload()
    messages = page.locator(".messages .message:not(.welcome) .bubble")
    await expect(messages).to_have_count(2, timeout=WAIT_MS)
    await expect(messages.first).to_have_text(SATURDAY)
    await expect(messages.last).to_contain_text("8:00 am")

    await page.get_by_role("button", name="Talk to a person").click()
    await expect(answers.last).to_contain_text(
        "I've asked a member of our team to reply to you here", timeout=WAIT_MS
    )
    # The customer's side shows the button's words, not the command behind them.
    await expect(page.locator(".from-customer .bubble").last).to_have_text("Talk to a person")

    # Staff answer the handoff email: their reply appears in the chat.
    token = await page.evaluate(
        "Object.entries(localStorage).find(([key]) => key.startsWith('sgbot-webchat:'))[1]"
    )
    await staff_reply(bot, token.partition(".")[0], "Hi, this is Mei. How can I help?")
    await expect(answers.last).to_have_text("Hi, this is Mei. How can I help?", timeout=WAIT_MS)

    # A person has the conversation: the bot stays quiet and its typing indicator goes away.
    await ask(page, "Can I change my order?")
    await expect(page.locator(".typing")).to_be_visible()
    await expect(page.locator(".typing")).to_be_hidden(timeout=WAIT_MS)
    await expect(answers).to_have_count(3)


async def test_quick_replies_are_buttons_that_pick_the_answer(bot: Runtime, page: Page) -> None:
    await page.goto(try_url(bot))
    # Saturday, Sunday and weekday hours differ: a clear case for choices, not a guess.
    await ask(page, "opening hours")
    sunday = page.locator(".choices button", has_text="What are your Sunday opening hours?")
    await expect(sunday).to_be_visible(timeout=WAIT_MS)
    await sunday.click()
    answers = page.locator(".message.from-bot:not(.welcome) .bubble")
    await expect(answers.last).to_contain_text("On Sunday we are open", timeout=WAIT_MS)
    await expect(page.locator(".choices button")).to_have_count(0)


async def test_messages_are_shown_as_text_never_as_markup(bot: Runtime, page: Page) -> None:
    await page.goto(try_url(bot))
    attack = '<img src=x onerror="window.pwned=1"><b>bold</b> &amp;'
    await ask(page, attack)
    await expect(page.locator(".from-customer .bubble").last).to_have_text(attack)
    answers = page.locator(".message.from-bot:not(.welcome) .bubble")
    await expect(answers.last).to_be_visible(timeout=WAIT_MS)
    await page.reload()
    await expect(page.locator(".from-customer .bubble").first).to_have_text(attack)
    assert await page.evaluate("window.pwned") is None
    assert await page.locator(".messages img, .messages b").count() == 0


async def test_the_widget_works_on_an_allowed_site_in_its_language(
    bot: Runtime, shop_site: ShopSite, page: Page
) -> None:
    await page.goto(shop_site.origin)
    launcher = page.get_by_role("button", name="Berbual dengan kami")
    await launcher.click()
    await expect(page.get_by_role("button", name="Hantar")).to_be_visible()
    await ask(page, SATURDAY)
    answers = page.locator(".message.from-bot:not(.welcome) .bubble")
    await expect(answers.last).to_contain_text("8:00 am", timeout=WAIT_MS)


async def test_a_site_not_allowed_gets_no_chat(
    services: Services, shop_site: ShopSite, page: Page
) -> None:
    async with running_bot(services) as bot:  # the shop's site is not in its allowed origins
        shop_site.bot_url = f"http://127.0.0.1:{bot.port}"
        await page.goto(shop_site.origin)
        await page.get_by_role("button", name="Berbual dengan kami").click()
        status = page.locator(".status")
        await expect(status).to_have_text("Sambungan terputus. Mencuba semula…", timeout=WAIT_MS)
        assert await page.locator(".messages .message:not(.welcome)").count() == 0


async def test_keyboard_phone_and_chinese(bot: Runtime, browser: Browser) -> None:
    context = await browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    try:
        await page.goto(try_url(bot))
        panel = page.locator(".panel")
        await expect(panel).to_be_visible()
        box = await panel.bounding_box()
        assert box is not None and box["width"] == 390 and box["height"] == 844
        await expect(page.get_by_role("button", name="发送")).to_be_visible()
        await expect(page.locator("#sgbot-input")).to_be_focused()

        await page.keyboard.press("Escape")
        await expect(panel).to_be_hidden()
        launcher = page.get_by_role("button", name="与我们聊天")
        await expect(launcher).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#sgbot-input")).to_be_focused()
        await page.keyboard.type("我要人工客服")
        await page.keyboard.press("Enter")
        answers = page.locator(".message.from-bot:not(.welcome) .bubble")
        await expect(answers.last).to_contain_text(
            "我已请我们的团队成员在这里回复您", timeout=WAIT_MS
        )
    finally:
        await context.close()


async def test_screenshot(services: Services, page: Page, tmp_path: Path) -> None:
    """The picture in the README: `make screenshots` writes it to docs/webchat.png."""
    async with running_bot(services, business_name="Pandan Lantern Bakehouse") as bot:
        await page.set_viewport_size({"width": 1100, "height": 860})
        await page.goto(try_url(bot))
        await ask(page, SATURDAY)
        answers = page.locator(".message.from-bot:not(.welcome) .bubble")
        await expect(answers.last).to_contain_text("8:00 am", timeout=WAIT_MS)
        await ask(page, "opening hours")
        await expect(page.locator(".choices button")).to_have_count(3, timeout=WAIT_MS)
        await screenshot(page, "webchat.png", tmp_path)
