"""Fake chat: JSON webhooks in, replies kept in a list; a complete channel plug, nothing more."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from channels.base import PayloadError, SendError
from channels.plug import Check, Intake, OpenChannel, PlugContext
from channels.settings import ChannelSettings
from channels.webhook import hand_over
from core.messages import ChannelName, Choice, InboundMessage

NAME = ChannelName.define("fakechat", "Fake chat")
PATH = "/webhooks/fakechat"


class FakeChatSettings(ChannelSettings):
    """FAKECHAT_* settings."""

    fakechat_token: SecretStr | None = None


class FakeChatSender:
    """Keeps what the bot sends, as a provider's API would receive it."""

    channel = NAME

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, tuple[Choice, ...]]] = []

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Record the reply; an address the provider would not know is refused."""
        if not address:
            raise SendError("no address", retryable=False)
        self.sent.append((address, text, choices))
        return [f"fake-{len(self.sent)}"]

    async def acknowledge(self, message: InboundMessage) -> None:
        """Nothing to acknowledge."""

    def texts_to(self, user: str) -> list[str]:
        """What the user received, in order."""
        return [text for address, text, _ in self.sent if address == user]


def parse(data: Any) -> InboundMessage:
    """A posted JSON object {"id", "user", "text"} as a message."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("id", "user")):
        raise PayloadError("expected {id, user, text}")
    return InboundMessage(
        channel=NAME,
        external_user_id=data["user"],
        provider_message_id=data["id"],
        text=str(data.get("text") or ""),
        received_at=datetime.now(UTC),
        display_name=data.get("name"),
    )


def routes(token: str, intake: Intake) -> list[web.RouteDef]:
    """The webhook: a bearer token, a JSON body."""

    async def inbound(request: web.Request) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            intake.reject(NAME, "bad_token")
            return web.json_response({"error": "wrong token"}, status=401)
        try:
            message = parse(await request.json())
        except (ValueError, PayloadError) as error:
            intake.reject(NAME, "bad_payload")
            return web.json_response({"error": str(error)}, status=400)
        return await hand_over(intake, NAME, message, web.json_response({"ok": True}))

    return [web.post(PATH, inbound)]


class FakeChatPlug:
    """The fake chat channel."""

    name = NAME
    settings = FakeChatSettings
    messaging = True
    asks_ratings = False
    setup = "FAKECHAT_TOKEN"

    def __init__(self) -> None:
        self.sender = FakeChatSender()

    def enabled(self, settings: ChannelSettings) -> bool:
        """Whether FAKECHAT_TOKEN is set."""
        return isinstance(settings, FakeChatSettings) and settings.fakechat_token is not None

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Nothing can contradict itself here."""
        return []

    async def open(self, context: PlugContext) -> OpenChannel:
        """The recording sender; the webhook when listening."""
        s = context.settings
        assert isinstance(s, FakeChatSettings) and s.fakechat_token is not None
        opened = OpenChannel(sender=self.sender)
        if context.listen:
            opened.routes += routes(s.fakechat_token.get_secret_value(), context.intake)
            opened.report.append(f"Fake chat: webhook at {s.base_url}{PATH}")
        return opened

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """Nothing to reach."""
        return []

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """None."""
        return []

    def contact_ids(self, value: str) -> list[str]:
        """Fake chat users are named fc-<something>."""
        return [value] if value.startswith("fc-") else []

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Always."""
        return True

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """Nothing is kept aside raw."""
        return None
