"""WhatsApp through Twilio as a plug: webhooks in, the async REST client out."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import phonenumbers
from twilio.rest import Client

from channels.plug import Check, OpenChannel, PlugContext
from channels.settings import ChannelSettings
from channels.whatsapp import NAME
from channels.whatsapp.audio import TwilioAudio
from channels.whatsapp.content import ContentTemplates, PostgresContentStore
from channels.whatsapp.doctor import check_twilio
from channels.whatsapp.http import TwilioHttpClient
from channels.whatsapp.settings import WhatsAppSettings, whatsapp_problems
from channels.whatsapp.twilio import WhatsAppSender
from channels.whatsapp.webhook import (
    TWILIO_DEBUGGER_PATH,
    TWILIO_PATH,
    TWILIO_STATUS_PATH,
    TwilioWebhook,
    twilio_routes,
)

WHATSAPP_WINDOW = timedelta(hours=23)
"""WhatsApp takes free-form messages for 24 hours after the customer's last; an hour to spare."""
CONTACT_REGION = "SG"
"""Numbers an owner types without a country code are read as Singapore numbers."""


class WhatsAppPlug:
    """The WhatsApp channel through Twilio."""

    name = NAME
    settings = WhatsAppSettings
    messaging = True
    asks_ratings = True
    setup = "the TWILIO_* settings"

    def enabled(self, settings: ChannelSettings) -> bool:
        """Whether TWILIO_ACCOUNT_SID is set (the others are then required)."""
        return isinstance(settings, WhatsAppSettings) and settings.whatsapp_enabled

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Twilio settings that are incomplete."""
        assert isinstance(settings, WhatsAppSettings)
        return whatsapp_problems(settings)

    async def open(self, context: PlugContext) -> OpenChannel:
        """The sender; when listening, the webhook routes."""
        s = context.settings
        assert isinstance(s, WhatsAppSettings)
        assert s.twilio_account_sid and s.twilio_auth_token
        assert s.twilio_whatsapp_from and s.public_base_url
        token = s.twilio_auth_token.get_secret_value()
        http_client = TwilioHttpClient()
        context.stack.push_async_callback(http_client.close)
        client = Client(s.twilio_account_sid, token, http_client=http_client)
        if s.twilio_api_url:
            client.api.base_url = s.twilio_api_url
            client.content.base_url = s.twilio_api_url
        session = await context.stack.enter_async_context(aiohttp.ClientSession())
        base = s.public_base_url.rstrip("/")
        opened = OpenChannel(
            sender=WhatsAppSender(
                client,
                s.twilio_whatsapp_from,
                status_callback_url=base + TWILIO_STATUS_PATH,
                rate_per_second=s.twilio_rate_per_second,
                template_sid=s.twilio_reopen_template_sid,
                contents=(
                    ContentTemplates(client, PostgresContentStore(context.pool))
                    if s.twilio_buttons
                    else None
                ),
            ),
            audio=TwilioAudio(session, s.twilio_account_sid, token, s.twilio_api_url),
        )
        if context.listen:
            opened.routes += twilio_routes(TwilioWebhook(token, base), context.intake)
            opened.report.append(
                f"WhatsApp {s.twilio_whatsapp_from}: set the Twilio sender's webhook to "
                f"{base}{TWILIO_PATH} (status callbacks go to {base}{TWILIO_STATUS_PATH}; "
                f"optionally point the Twilio debugger webhook at {base}{TWILIO_DEBUGGER_PATH})"
            )
        return opened

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """Twilio accepts the credentials; the account is active."""
        assert isinstance(settings, WhatsAppSettings)
        return [("WhatsApp (Twilio)", check_twilio(settings))]

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """The WhatsApp number customers write to."""
        assert isinstance(settings, WhatsAppSettings)
        return [settings.twilio_whatsapp_from] if settings.twilio_whatsapp_from else []

    def contact_ids(self, value: str) -> list[str]:
        """A phone number as WhatsApp ids are stored: with and without the prefix."""
        try:
            number = phonenumbers.parse(value, CONTACT_REGION)
        except phonenumbers.NumberParseException:
            return []
        if not phonenumbers.is_valid_number(number):
            return []
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return [f"whatsapp:{e164}", e164]

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Only within 24 hours of the customer's last message."""
        return last_inbound is not None and last_inbound > now - WHATSAPP_WINDOW

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """Twilio forms are always parsed into messages; nothing raw is kept aside."""
        return None


PLUG = WhatsAppPlug()
