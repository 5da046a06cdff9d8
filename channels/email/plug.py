"""Email as a plug: the mailbox read over IMAP (customers and staff replies), SMTP out."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from channels.email import NAME
from channels.email.doctor import check_imap, check_smtp
from channels.email.imap import ImapAccount, WatermarkStore
from channels.email.ingress import EmailIngress
from channels.email.mailbox import smtp_mailer, token_source
from channels.email.notices import EmailNotices
from channels.email.polling import EmailPoller
from channels.email.sending import EmailSender
from channels.email.settings import EmailSettings, email_problems
from channels.plug import Check, OpenChannel, PlugContext
from channels.settings import ChannelSettings


class EmailPlug:
    """The email channel."""

    name = NAME
    settings = EmailSettings
    messaging = True
    asks_ratings = False  # a mail asking for stars after every answer reads as spam
    setup = "EMAIL_ADDRESS with the IMAP_* and SMTP_* settings"

    def enabled(self, settings: ChannelSettings) -> bool:
        """Whether the bot can send mail (it reads its mailbox too when IMAP is set)."""
        return isinstance(settings, EmailSettings) and settings.smtp_enabled

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Mail settings that cannot work together."""
        assert isinstance(settings, EmailSettings)
        return email_problems(settings)

    async def open(self, context: PlugContext) -> OpenChannel:
        """The sender; when listening and IMAP is set, the mailbox poller."""
        s = context.settings
        assert isinstance(s, EmailSettings) and s.email_address is not None
        oauth2 = token_source(s)
        mailer = smtp_mailer(s, oauth2)
        assert mailer is not None  # email is opened only with SMTP configured
        sender = EmailSender(mailer, s.email_address, s.email_name or s.business_name)
        opened = OpenChannel(sender=sender)
        if not (context.listen and s.email_enabled):
            return opened
        assert s.imap_host is not None
        account = ImapAccount(
            host=s.imap_host,
            port=s.imap_port,
            username=s.imap_username or s.email_address,
            password=s.imap_password.get_secret_value() if s.imap_password else None,
            use_tls=s.imap_tls,
            folder=s.imap_folder,
            oauth2=oauth2,
        )
        handler = EmailIngress(
            context.intake,
            context.redis,
            own_addresses=[s.email_address],
            staff_addresses=s.staff_senders,
            max_per_sender_per_hour=s.email_max_per_sender_per_hour,
            notices=EmailNotices(sender, context.redis),
            max_bytes=s.max_email_bytes,
            max_attachments=s.max_email_attachments,
        )
        opened.pollers.append(
            EmailPoller(
                account,
                handler.handle,
                WatermarkStore(context.pool, account),
                context.redis,
                poll_seconds=s.email_poll_seconds,
                max_bytes=s.max_email_bytes,
                too_large=handler.too_large,
            )
        )
        staff = f"; handoffs go to {s.staff_email}" if s.staff_email else ""
        opened.report.append(
            f"Email {s.email_address}: reading {s.imap_folder} on {s.imap_host}{staff}"
        )
        return opened

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """SMTP when set; IMAP when the mailbox is read."""
        assert isinstance(settings, EmailSettings)
        found: list[tuple[str, Awaitable[Check]]] = []
        if settings.smtp_host:
            found.append(("SMTP", check_smtp(settings)))
        if settings.email_enabled:
            found.append(("IMAP", check_imap(settings)))
        return found

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """The bot's own mailbox address."""
        assert isinstance(settings, EmailSettings)
        return [settings.email_address] if settings.email_address else []

    def contact_ids(self, value: str) -> list[str]:
        """An address as written, and in lower case."""
        return [value, value.lower()] if "@" in value else []

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Mail may always be sent."""
        return True

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """Mail kept aside is kept as a message already; nothing raw to read."""
        return None


PLUG = EmailPlug()
