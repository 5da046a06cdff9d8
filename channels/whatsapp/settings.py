"""WhatsApp's settings block: the Twilio account, the sender number, the reopen template."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from channels.settings import ChannelSettings, http_url

_TWILIO_FIELDS = ("twilio_account_sid", "twilio_auth_token", "twilio_whatsapp_from")


class WhatsAppSettings(ChannelSettings):
    """TWILIO_* settings."""

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str | None = None
    """Twilio's REST API elsewhere (a local fake in tests)."""
    twilio_rate_per_second: float = Field(10.0, gt=0)
    # Approved WhatsApp template (Content SID, HX...) that invites a customer to write back
    # when staff answer after WhatsApp's 24-hour window.
    twilio_reopen_template_sid: str | None = None
    # "Did you mean" choices and ratings as WhatsApp buttons (Content API); numbered text when
    # off or refused.
    twilio_buttons: bool = True

    @field_validator("twilio_account_sid")
    @classmethod
    def _twilio_sid(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", value):
            raise ValueError("expected the Account SID from the Twilio console: AC + 32 hex digits")
        return value

    @field_validator("twilio_whatsapp_from")
    @classmethod
    def _whatsapp_number(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(whatsapp:)?\+[1-9][0-9]{6,14}", value):
            raise ValueError("expected the sender in E.164 form, e.g. whatsapp:+6591234567")
        return value

    @field_validator("twilio_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @property
    def whatsapp_enabled(self) -> bool:
        """Whether the WhatsApp (Twilio) channel is configured."""
        return self.twilio_account_sid is not None


def whatsapp_problems(s: WhatsAppSettings) -> list[str]:
    """Twilio settings that are incomplete, one line each."""
    problems = []
    missing = [name.upper() for name in _TWILIO_FIELDS if getattr(s, name) is None]
    if 0 < len(missing) < len(_TWILIO_FIELDS):
        problems.append(f"WhatsApp through Twilio needs {', '.join(missing)} as well")
    if not missing and s.public_base_url is None:
        problems.append(
            "WhatsApp through Twilio needs PUBLIC_BASE_URL: Twilio delivers messages only to a "
            "webhook it can reach, e.g. https://bot.example.com"
        )
    return problems
