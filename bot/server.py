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
    health = _HealthRoutes(checks, metrics, queue, metrics_key)
    app.add_routes(
        [
            web.get("/healthz", health.healthz),
            web.get("/readyz", health.readyz),
            web.get("/metrics", health.metrics_view),
            *routes,
        ]
    )
    return app


class _HealthRoutes:
    """Liveness, readiness and metrics, the last two behind the metrics key when one is set."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        metrics: Metrics,
        queue: InboundQueue,
        metrics_key: str | None,
    ) -> None:
        self._checks = checks
        self._metrics = metrics
        self._queue = queue
        self._metrics_key = metrics_key

    async def healthz(self, request: web.Request) -> web.Response:
        """Alive: the process answers."""
        return web.json_response({"status": "alive"})

    async def readyz(self, request: web.Request) -> web.Response:
        """Ready when every check answers in time; each check's result either way."""
        if (denied := self._refused(request)) is not None:
            return denied
        checks = self._checks
        results = await asyncio.gather(*(_probe(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": report},
            status=200 if ready else 503,
        )

    async def metrics_view(self, request: web.Request) -> web.Response:
        """The Prometheus metrics, with the queue depth read now."""
        if (denied := self._refused(request)) is not None:
            return denied
        metrics = self._metrics
        try:
            metrics.queue_depth.set(await self._queue.depth())
        except Exception as error:  # the rest of the metrics are still worth serving
            log.warning("queue_depth_unavailable", error=str(error))
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})

    def _refused(self, request: web.Request) -> web.Response | None:
        """401 unless the request carries the key (when one is configured)."""
        if self._metrics_key is None:
            return None
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), self._metrics_key.encode()):
            return None
        return web.json_response(
            {"error": "send the metrics key as 'Authorization: Bearer <key>'"}, status=401
        )


async def _probe(check: Check) -> str:
    """'ok', or what went wrong, within a bounded time."""
    try:
        await asyncio.wait_for(check(), timeout=READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timed out"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    return "ok"
