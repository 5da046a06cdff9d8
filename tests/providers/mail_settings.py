"""The bot's email settings for a mailbox on the test Dovecot and the test SMTP server."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from tests.providers.dovecot import Dovecot
from tests.providers.smtp_server import SmtpServer


def mail_settings(
    dovecot: Dovecot, smtp: SmtpServer, address: str, password: str, **changes: Any
) -> dict[str, Any]:
    """Settings (keyword arguments) reading `address` on `dovecot` every 0.2 s and sending
    through `smtp`, both plain text on 127.0.0.1 with the mailbox password; `changes` add
    settings or replace these."""
    return {
        "email_address": address,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_tls": False,
        "imap_password": SecretStr(password),
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "email_poll_seconds": 0.2,
        **changes,
    }
