"""Webhook routes: authenticate, parse, hand to ingress, answer at once. Nothing waits for work."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from bot.ingress import Ingress
from bot.metrics import Metrics
from channels import telegram, whatsapp
from channels.base import Parsed, PayloadError
from core.messages import ChannelName

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TELEGRAM_PATH = "/webhooks/telegram"
TWILIO_PATH = "/webhooks/twilio"
TWILIO_STATUS_PATH = "/webhooks/twilio/status"
TWILIO_DEBUGGER_PATH = "/webhooks/twilio/debugger"


@dataclass(frozen=True, slots=True)
class TelegramWebhook:
    """What the Telegram route needs: the secret Telegram echoes, and who the bot is."""

    secret: str
    bot_username: str | None
    bot_id: int | None


@dataclass(frozen=True, slots=True)
class TwilioWebhook:
    """What the Twilio routes need: the token that signs requests and our public base URL."""

    auth_token: str
    public_base_url: str


def telegram_routes(
    config: TelegramWebhook, ingress: Ingress, metrics: Metrics
) -> list[web.RouteDef]:
    """The Telegram update route."""

    async def updates(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        channel = ChannelName.TELEGRAM
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), config.secret.encode()):
            ingress.reject(channel, "bad_secret")
            return web.json_response({"error": "missing or wrong secret token"}, status=401)
        try:
            data = json.loads(await request.read())
            parsed = telegram.parse_update(data, config.bot_username, config.bot_id)
        # RecursionError: JSON nested past the decoder's reach, which no Telegram update is.
        except (ValueError, PayloadError, RecursionError) as error:
            ingress.reject(channel, "bad_payload")
            return web.json_response({"error": f"not a Telegram update: {error}"}, status=400)
        response = await _accept(ingress, channel, parsed, web.Response())
        metrics.ack_seconds.labels(channel.value).observe(time.perf_counter() - started)
        return response

    return [web.post(TELEGRAM_PATH, updates)]


def twilio_routes(config: TwilioWebhook, ingress: Ingress, metrics: Metrics) -> list[web.RouteDef]:
    """The Twilio inbound-message and status-callback routes."""

    async def checked_form(request: web.Request) -> dict[str, str] | web.Response:
        """The posted form, or the response refusing it."""
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        # Twilio signs the URL it called, which behind a proxy is our public one, not ours.
        url = config.public_base_url.rstrip("/") + request.path_qs
        signature = request.headers.get("X-Twilio-Signature")
        if not whatsapp.is_valid_signature(config.auth_token, url, params, signature):
            ingress.reject(ChannelName.WHATSAPP, "bad_signature")
            return web.json_response({"error": "missing or wrong X-Twilio-Signature"}, status=403)
        return params

    async def inbound(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        channel = ChannelName.WHATSAPP
        params = await checked_form(request)
        if isinstance(params, web.Response):
            return params
        try:
            parsed = whatsapp.parse_inbound(params)
        except PayloadError as error:
            ingress.reject(channel, "bad_payload")
            return web.json_response({"error": str(error)}, status=400)
        ok = web.Response(text=whatsapp.EMPTY_TWIML, content_type="text/xml")
        response = await _accept(ingress, channel, parsed, ok)
        metrics.ack_seconds.labels(channel.value).observe(time.perf_counter() - started)
        return response

    def report(parse: Callable[[Mapping[str, str]], Parsed]) -> Handler:
        """A route for Twilio's reports about us (delivery statuses, debugger events)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            channel = ChannelName.WHATSAPP
            params = await checked_form(request)
            if isinstance(params, web.Response):
                return params
            try:
                parsed = parse(params)
            except PayloadError as error:
                ingress.reject(channel, "bad_payload")
                return web.json_response({"error": str(error)}, status=400)
            return await _accept(ingress, channel, parsed, web.Response(status=204))

        return handler

    return [
        web.post(TWILIO_PATH, inbound),
        web.post(TWILIO_STATUS_PATH, report(whatsapp.parse_status)),
        web.post(TWILIO_DEBUGGER_PATH, report(whatsapp.parse_debugger_event)),
    ]


async def _accept(
    ingress: Ingress, channel: ChannelName, parsed: Parsed, ok: web.Response
) -> web.Response:
    """Hand over; a storage outage answers 503 so the provider retries later."""
    try:
        await ingress.accept(channel, parsed)
    except (RedisError, OSError) as error:
        log.error("ingress_unavailable", channel=channel.value, error=str(error))
        return web.json_response({"error": "temporarily unavailable"}, status=503)
    return ok
