"""The bot's SMTP mailer and mailbox identity from settings, for the report job."""

from __future__ import annotations

from bot.config import Settings
from bot.handoffs import MailIdentity
from bot.oauth2 import RefreshTokenSource
from channels.email import SmtpAccount, SmtpMailer


def report_identity(settings: Settings) -> MailIdentity:
    """The mailbox reports come from (EMAIL_ADDRESS, named EMAIL_NAME or the business)."""
    assert settings.email_address is not None
    return MailIdentity(settings.email_address, settings.email_name or settings.business_name)


def smtp_mailer(settings: Settings) -> SmtpMailer:
    """The same SMTP account the email channel sends with (bot/channel_setup.py)."""
    s = settings
    assert s.email_address is not None and s.smtp_host is not None
    oauth2 = None
    if s.oauth2_enabled:
        assert s.email_oauth2_token_url and s.email_oauth2_client_id
        assert s.email_oauth2_refresh_token is not None
        secret = s.email_oauth2_client_secret
        oauth2 = RefreshTokenSource(
            s.email_oauth2_token_url,
            s.email_oauth2_client_id,
            secret.get_secret_value() if secret else None,
            s.email_oauth2_refresh_token.get_secret_value(),
        )
    password = s.smtp_password or s.imap_password
    return SmtpMailer(
        SmtpAccount(
            host=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or (s.email_address if password or oauth2 else None),
            password=password.get_secret_value() if password else None,
            security=s.smtp_security,
            oauth2=oauth2,
        )
    )
