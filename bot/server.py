"""The aiohttp application: channel webhooks, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from bot.metrics import Metrics
from bot.queue.inbound import InboundQueue

log = structlog.get_logger(__name__)
Check = Callable[[], Awaitable[object]]
READY_TIMEOUT_SECONDS = 2.0


def build_app(
    routes: list[web.RouteDef],
    checks: Mapping[str, Check],
    metrics: Metrics,
    queue: InboundQueue,
    metrics_key: str | None = None,
) -> web.Application:
    """An application with the given webhook routes plus /healthz, /readyz and /metrics.

    With `metrics_key`, /metrics and /readyz (which names internal failures) want it as a
    bearer token; /healthz stays open for load balancers.
    """
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    def refused(request: web.Request) -> web.Response | None:
        """401 unless the request carries the key (when one is configured)."""
        if metrics_key is None:
            return None
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), metrics_key.encode()):
            return None
        return web.json_response(
            {"error": "send the metrics key as 'Authorization: Bearer <key>'"}, status=401
        )

    async def readyz(request: web.Request) -> web.Response:
        if (denied := refused(request)) is not None:
            return denied
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": report},
            status=200 if ready else 503,
        )

    async def metrics_view(request: web.Request) -> web.Response:
        if (denied := refused(request)) is not None:
            return denied
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
