"""Web chat as a plug: replies are kept for the browser; listening processes hold its sockets."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from channels.plug import Check, OpenChannel, PlugContext
from channels.settings import ChannelSettings
from channels.webchat import NAME
from channels.webchat.events import VisitorTokens, WebChatSender
from channels.webchat.live import LiveHub
from channels.webchat.routes import TRY_PATH, WebChatConfig, webchat_routes
from channels.webchat.settings import WebChatSettings
from channels.webchat.store import WebChatStore


class WebChatPlug:
    """The web chat channel: the widget on the business's site and the /try page."""

    name = NAME
    settings = WebChatSettings
    messaging = False  # it needs no account, so alone it does not count as a configured channel
    asks_ratings = True
    setup = "WEBCHAT_ENABLED (on by default)"

    def enabled(self, settings: ChannelSettings) -> bool:
        """On unless WEBCHAT_ENABLED=false."""
        return isinstance(settings, WebChatSettings) and settings.webchat_enabled

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Nothing to contradict: each setting is checked on its own."""
        return []

    async def open(self, context: PlugContext) -> OpenChannel:
        """The sender; when listening, the page, the widget's files, socket and routes."""
        s = context.settings
        assert isinstance(s, WebChatSettings)
        opened = OpenChannel(sender=WebChatSender(context.redis))
        if not context.listen:
            return opened
        store = WebChatStore(context.pool)
        secret = s.webchat_secret
        tokens = VisitorTokens(secret.get_secret_value() if secret else await store.secret())
        hub = LiveHub(context.redis)
        hub.start()
        context.stack.push_async_callback(hub.close)
        opened.on_shutdown.append(hub.close_sockets)
        config = WebChatConfig(
            tokens=tokens,
            allowed_origins=s.webchat_origins,
            business_name=s.business_name,
            public_base_url=s.public_base_url,
            privacy_url=s.privacy_url,
            consent_text=s.consent_text,
        )
        opened.routes += webchat_routes(config, context.intake, context.redis, store, hub)
        others = ", ".join(sorted(s.webchat_origins)) or "none yet (WEBCHAT_ALLOWED_ORIGINS)"
        opened.report.append(
            f"Web chat: try it at {s.base_url}{TRY_PATH}; other sites allowed to embed it: {others}"
        )
        return opened

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """Nothing outside this server to reach."""
        return []

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """None: the widget is on the business's own site."""
        return []

    def contact_ids(self, value: str) -> list[str]:
        """Visitors are known only by the ids the widget made; typed as webchat:<id>."""
        return []

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Replies are kept until the visitor's browser fetches them."""
        return True

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """Visitor frames are parsed into messages; nothing raw is kept aside."""
        return None


PLUG = WebChatPlug()
