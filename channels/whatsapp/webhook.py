"""Twilio's webhook routes: check the signature, parse the form, hand it over, answer at once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from channels.base import Parsed, PayloadError
from channels.plug import Intake
from channels.webhook import hand_over
from channels.whatsapp import NAME
from channels.whatsapp.twilio import (
    EMPTY_TWIML,
    is_valid_signature,
    parse_debugger_event,
    parse_inbound,
    parse_status,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TWILIO_PATH = "/webhooks/twilio"
TWILIO_STATUS_PATH = "/webhooks/twilio/status"
TWILIO_DEBUGGER_PATH = "/webhooks/twilio/debugger"


@dataclass(frozen=True, slots=True)
class TwilioWebhook:
    """What the Twilio routes need: the token that signs requests and our public base URL."""

    auth_token: str
    public_base_url: str


def twilio_routes(config: TwilioWebhook, intake: Intake) -> list[web.RouteDef]:
    """The Twilio inbound-message, status-callback and debugger routes."""
    return [
        web.post(TWILIO_PATH, _inbound(config, intake)),
        web.post(TWILIO_STATUS_PATH, _report(config, intake, parse_status)),
        web.post(TWILIO_DEBUGGER_PATH, _report(config, intake, parse_debugger_event)),
    ]


async def _checked_form(
    config: TwilioWebhook, intake: Intake, request: web.Request
) -> dict[str, str] | web.Response:
    """The posted form, or the response refusing it."""
    form = await request.post()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    # Twilio signs the URL it called, which behind a proxy is our public one, not ours.
    url = config.public_base_url.rstrip("/") + request.path_qs
    signature = request.headers.get("X-Twilio-Signature")
    if not is_valid_signature(config.auth_token, url, params, signature):
        intake.reject(NAME, "bad_signature")
        return web.json_response({"error": "missing or wrong X-Twilio-Signature"}, status=403)
    return params


def _inbound(config: TwilioWebhook, intake: Intake) -> Handler:
    """The route for a customer's message."""

    async def inbound(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        params = await _checked_form(config, intake, request)
        if isinstance(params, web.Response):
            return params
        try:
            parsed = parse_inbound(params)
        except PayloadError as error:
            intake.reject(NAME, "bad_payload")
            return web.json_response({"error": str(error)}, status=400)
        ok = web.Response(text=EMPTY_TWIML, content_type="text/xml")
        response = await hand_over(intake, NAME, parsed, ok)
        intake.acked(NAME, time.perf_counter() - started)
        return response

    return inbound


def _report(
    config: TwilioWebhook, intake: Intake, parse: Callable[[Mapping[str, str]], Parsed]
) -> Handler:
    """A route for Twilio's reports about us (delivery statuses, debugger events)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        params = await _checked_form(config, intake, request)
        if isinstance(params, web.Response):
            return params
        try:
            parsed = parse(params)
        except PayloadError as error:
            intake.reject(NAME, "bad_payload")
            return web.json_response({"error": str(error)}, status=400)
        return await hand_over(intake, NAME, parsed, web.Response(status=204))

    return handler
