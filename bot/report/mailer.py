"""The mailbox identity reports come from, from settings."""

from __future__ import annotations

from bot.config import Settings
from bot.handoffs import MailIdentity


def report_identity(settings: Settings) -> MailIdentity:
    """The mailbox reports come from (EMAIL_ADDRESS, named EMAIL_NAME or the business)."""
    assert settings.email_address is not None
    return MailIdentity(settings.email_address, settings.email_name or settings.business_name)
