"""Health, readiness and metrics routes, with and without the metrics key."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.metrics import Metrics
from bot.server import build_app


class _Queue:
    async def depth(self) -> int:
        return 3


async def _ok() -> None:
    return None


async def _broken() -> None:
    raise ConnectionRefusedError("no route to qdrant")


async def test_metrics_and_readiness_need_the_key_when_one_is_set() -> None:
    app = build_app([], {"postgresql": _ok}, Metrics(), _Queue(), metrics_key="s3cret")  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/metrics")).status == 401
        assert (await client.get("/readyz")).status == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        good = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert good.status == 200 and "bot_queue_depth 3.0" in await good.text()


async def test_readiness_names_the_failing_dependency() -> None:
    app = build_app([], {"postgresql": _ok, "qdrant": _broken}, Metrics(), _Queue())  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 503
    assert body["checks"] == {
        "postgresql": "ok",
        "qdrant": "ConnectionRefusedError: no route to qdrant",
    }
