"""The LLM composer with the real openai client against a local chat-completions server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web
from openai import AsyncOpenAI

from core.compose import ComposeRequest, OfflineComposer, Thresholds
from core.language import Language
from core.llm_compose import LlmComposer
from core.memory import Turn
from core.store import ContactProfile
from tests.fakes import ranking

pytestmark = pytest.mark.integration


@dataclass
class FakeOpenAI:
    """Speaks POST /v1/chat/completions; records each request body."""

    reply: str = "We open at 8:00 am on Saturday."
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer test-key"
        self.requests.append(await request.json())
        await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response(
                {"error": {"message": "boom", "type": "server_error"}}, status=self.status
            )
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.requests[-1]["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.reply},
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        return web.Response(text=json.dumps(body), content_type="application/json")


@pytest.fixture
async def server() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


def composer(base_url: str, timeout: float = 5.0) -> LlmComposer:
    client = AsyncOpenAI(api_key="test-key", base_url=base_url, timeout=timeout, max_retries=0)
    return LlmComposer(
        client, "test-model", "Pandan Lantern", OfflineComposer(Thresholds(0.6, 0.3))
    )


REQUEST = ComposeRequest(
    "what time open saturday",
    ranking(
        0.9, ("hours-saturday", "Saturday 8:00 am to 6:00 pm."), ("hours-sunday", "Sunday 8 to 3.")
    ),
    history=(Turn("customer", "hello"), Turn("bot", "Hello!")),
    profile=ContactProfile(7, "Siti", "en", True, ("Asked: delivery fees.",)),
)


async def test_prompt_carries_knowledge_history_and_profile(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    result = await composer(url).compose(REQUEST)
    assert result.text == "We open at 8:00 am on Saturday."
    assert not result.escalate
    sent = fake.requests[0]
    assert sent["model"] == "test-model"
    system = sent["messages"][0]["content"]
    assert "Saturday 8:00 am to 6:00 pm." in system and "ONLY" in system
    assert "Siti" in system and "delivery fees" in system
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][-1]["content"] == "what time open saturday"


async def test_prompt_names_the_customers_language(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    malay = replace(REQUEST, question="pukul berapa buka hari sabtu", language=Language.MS)
    await composer(url).compose(malay)
    await composer(url).compose(REQUEST)
    first, second = (r["messages"][0]["content"] for r in fake.requests)
    assert "Reply briefly in Malay" in first
    assert "Reply briefly in English" in second


async def test_model_saying_no_answer_escalates(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.reply = "NO_ANSWER"
    result = await composer(url).compose(REQUEST)
    assert result.escalate and "don't know" in result.text


async def test_server_error_falls_back_to_offline_answer(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.status = 500
    result = await composer(url).compose(REQUEST)
    assert result.text == "Saturday 8:00 am to 6:00 pm."


async def test_timeout_falls_back_to_offline_answer(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    fake.delay = 2.0
    result = await composer(url, timeout=0.3).compose(REQUEST)
    assert result.text == "Saturday 8:00 am to 6:00 pm."


async def test_nothing_relevant_is_never_sent_to_the_model(server: tuple[FakeOpenAI, str]) -> None:
    fake, url = server
    low = ComposeRequest("gearbox repair?", ranking(0.1, ("hours-saturday", "Sat 8-6")))
    result = await composer(url).compose(low)
    assert result.escalate
    assert fake.requests == []
