"""The aiohttp application: channel webhooks, health, readiness and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from bot.metrics import Metrics
from bot.queue import InboundQueue

log = structlog.get_logger(__name__)
Check = Callable[[], Awaitable[object]]
READY_TIMEOUT_SECONDS = 2.0


def build_app(
    routes: list[web.RouteDef],
    checks: Mapping[str, Check],
    metrics: Metrics,
    queue: InboundQueue,
) -> web.Application:
    """An application with the given webhook routes plus /healthz, /readyz and /metrics."""
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": report},
            status=200 if ready else 503,
        )

    async def metrics_view(request: web.Request) -> web.Response:
        try:
            metrics.queue_depth.set(await queue.depth())
        except Exception as error:  # the rest of the metrics are still worth serving
            log.warning("queue_depth_unavailable", error=str(error))
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})

    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_view),
            *routes,
        ]
    )
    return app


async def _probe(check: Check) -> str:
    """'ok', or what went wrong, within a bounded time."""
    try:
        await asyncio.wait_for(check(), timeout=READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timed out"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    return "ok"
