"""Email's settings block: the bot's mailbox (IMAP in, SMTP out) and the staff who answer."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from channels.settings import ChannelSettings

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailSettings(ChannelSettings):
    """EMAIL_*, IMAP_*, SMTP_* and STAFF_* settings."""

    # Handoffs go to this address; staff answer by replying.
    staff_email: str | None = None
    # Other addresses whose replies to handoffs are accepted (comma-separated).
    staff_addresses: str = ""
    # Email: the bot's own mailbox, read over IMAP and written from over SMTP.
    email_address: str | None = None
    email_name: str | None = None
    imap_host: str | None = None
    imap_port: int = Field(993, ge=1, le=65535)
    imap_tls: bool = True
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    email_poll_seconds: float = Field(60.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    email_oauth2_token_url: str | None = None
    email_oauth2_client_id: str | None = None
    email_oauth2_client_secret: SecretStr | None = None
    email_oauth2_refresh_token: SecretStr | None = None
    email_max_per_sender_per_hour: int = Field(10, ge=1)
    # Mail over this size (bytes, as the server stores it: attachments count a third more than
    # their files) is not downloaded; the sender is told, and it stays flagged in the mailbox.
    max_email_bytes: int = Field(10 * 1024 * 1024, ge=10_000)
    # Attachments recorded per mail; the text is still answered and the sender told of the rest.
    max_email_attachments: int = Field(10, ge=0)

    @field_validator("staff_email", "email_address")
    @classmethod
    def _valid_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("expected an email address such as staff@example.com")
        return value

    @property
    def email_enabled(self) -> bool:
        """Whether the bot reads its mailbox (customers' email and staff replies)."""
        return self.email_address is not None and self.imap_host is not None

    @property
    def smtp_enabled(self) -> bool:
        """Whether the bot can send email (replies and handoffs)."""
        return self.email_address is not None and self.smtp_host is not None

    @property
    def oauth2_enabled(self) -> bool:
        """Whether mail logins use XOAUTH2 instead of passwords."""
        return self.email_oauth2_refresh_token is not None

    @property
    def staff_senders(self) -> set[str]:
        """Addresses whose replies to handoffs reach customers."""
        extra = {a.strip().lower() for a in self.staff_addresses.split(",") if a.strip()}
        return extra | ({self.staff_email.lower()} if self.staff_email else set())


def email_problems(s: EmailSettings) -> list[str]:
    """Email settings that cannot work together, one line each."""
    problems = []
    if (s.imap_host or s.smtp_host) and s.email_address is None:
        problems.append("IMAP_HOST/SMTP_HOST need EMAIL_ADDRESS, the bot's own mailbox address")
    if s.email_address and s.imap_host and not (s.imap_password or s.oauth2_enabled):
        problems.append("IMAP_HOST needs IMAP_PASSWORD (or the EMAIL_OAUTH2_* settings)")
    if s.email_address and s.imap_host and not s.smtp_host:
        problems.append("reading mail (IMAP_HOST) needs SMTP_HOST too, to answer it")
    if s.staff_email and not s.smtp_enabled:
        problems.append(
            "STAFF_EMAIL needs EMAIL_ADDRESS and SMTP_HOST to send handoffs"
            " (and IMAP_HOST for staff replies to reach customers)"
        )
    oauth = [s.email_oauth2_token_url, s.email_oauth2_client_id, s.email_oauth2_refresh_token]
    if any(oauth) and not all(oauth):
        problems.append(
            "XOAUTH2 needs EMAIL_OAUTH2_TOKEN_URL, EMAIL_OAUTH2_CLIENT_ID and "
            "EMAIL_OAUTH2_REFRESH_TOKEN together"
        )
    return problems
