"""The bot's mailbox from settings: XOAUTH2 tokens, the SMTP mailer and a threaded sender."""

from __future__ import annotations

from channels.email.oauth2 import RefreshTokenSource
from channels.email.sending import EmailSender, SmtpAccount, SmtpMailer
from channels.email.settings import EmailSettings


def token_source(settings: EmailSettings) -> RefreshTokenSource | None:
    """XOAUTH2 access tokens for the mailbox (IMAP and SMTP), when EMAIL_OAUTH2_* are set."""
    s = settings
    if not s.oauth2_enabled:
        return None
    assert s.email_oauth2_token_url and s.email_oauth2_client_id
    assert s.email_oauth2_refresh_token is not None
    secret = s.email_oauth2_client_secret
    return RefreshTokenSource(
        s.email_oauth2_token_url,
        s.email_oauth2_client_id,
        secret.get_secret_value() if secret else None,
        s.email_oauth2_refresh_token.get_secret_value(),
    )


def smtp_mailer(
    settings: EmailSettings, oauth2: RefreshTokenSource | None = None
) -> SmtpMailer | None:
    """The SMTP mailer the settings describe (password, or XOAUTH2 through `oauth2` or a
    token source of its own); None without SMTP."""
    s = settings
    if not s.smtp_enabled or s.email_address is None or s.smtp_host is None:
        return None
    oauth2 = oauth2 or token_source(s)
    smtp_password = s.smtp_password or s.imap_password
    return SmtpMailer(
        SmtpAccount(
            host=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or (s.email_address if smtp_password or oauth2 else None),
            password=smtp_password.get_secret_value() if smtp_password else None,
            security=s.smtp_security,
            oauth2=oauth2,
        )
    )


def mail_sender(settings: EmailSettings) -> EmailSender | None:
    """Threaded mail from the bot's address and name; None without SMTP."""
    mailer = smtp_mailer(settings)
    if mailer is None or settings.email_address is None:
        return None
    name = settings.email_name or settings.business_name
    return EmailSender(mailer, settings.email_address, name)
