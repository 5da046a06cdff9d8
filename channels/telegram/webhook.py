"""Telegram's webhook route: check the secret, parse the update, hand it over, answer at once."""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass

from aiohttp import web

from channels.base import PayloadError
from channels.plug import Intake
from channels.telegram import NAME
from channels.telegram.updates import parse_update
from channels.webhook import hand_over

TELEGRAM_PATH = "/webhooks/telegram"


@dataclass(frozen=True, slots=True)
class TelegramWebhook:
    """What the Telegram route needs: the secret Telegram echoes, and who the bot is."""

    secret: str
    bot_username: str | None
    bot_id: int | None


def telegram_routes(config: TelegramWebhook, intake: Intake) -> list[web.RouteDef]:
    """The Telegram update route."""

    async def updates(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), config.secret.encode()):
            intake.reject(NAME, "bad_secret")
            return web.json_response({"error": "missing or wrong secret token"}, status=401)
        try:
            data = json.loads(await request.read())
            parsed = parse_update(data, config.bot_username, config.bot_id)
        # RecursionError: JSON nested past the decoder's reach, which no Telegram update is.
        except (ValueError, PayloadError, RecursionError) as error:
            intake.reject(NAME, "bad_payload")
            return web.json_response({"error": f"not a Telegram update: {error}"}, status=400)
        response = await hand_over(intake, NAME, parsed, web.Response())
        intake.acked(NAME, time.perf_counter() - started)
        return response

    return [web.post(TELEGRAM_PATH, updates)]
