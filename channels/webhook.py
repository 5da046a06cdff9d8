"""What every webhook route does once it has parsed a call: hand it over, answer at once."""

from __future__ import annotations

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from channels.base import Parsed
from channels.plug import Intake
from core.messages import ChannelName

log = structlog.get_logger(__name__)


async def hand_over(
    intake: Intake, channel: ChannelName, parsed: Parsed, ok: web.Response
) -> web.Response:
    """Hand over; a storage outage answers 503 so the provider retries later."""
    try:
        await intake.accept(channel, parsed)
    except (RedisError, OSError) as error:
        log.error("ingress_unavailable", channel=channel.value, error=str(error))
        return web.json_response({"error": "temporarily unavailable"}, status=503)
    return ok
