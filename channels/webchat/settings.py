"""Web chat's settings block: on or off, the token secret, the sites that may embed it."""

from __future__ import annotations

from pydantic import SecretStr, field_validator

from channels.settings import ChannelSettings
from channels.webchat.events import normalize_origin


class WebChatSettings(ChannelSettings):
    """WEBCHAT_* settings."""

    # Web chat: the widget on the business's own site and the /try page (bot serve).
    webchat_enabled: bool = True
    # Signs the visitor tokens browsers keep; unset, one is made and kept in PostgreSQL.
    webchat_secret: SecretStr | None = None
    # Sites (origins, comma-separated) allowed to embed the widget; the bot's own always is.
    webchat_allowed_origins: str = ""

    @field_validator("webchat_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(
                "expected at least 16 random characters, e.g. from: openssl rand -hex 32"
            )
        return value

    @field_validator("webchat_allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                normalize_origin(item)  # its ValueError names the entry and the expected form
        return value

    @property
    def webchat_origins(self) -> frozenset[str]:
        """Other sites allowed to embed the web chat widget, as browsers name them."""
        items = self.webchat_allowed_origins.split(",")
        return frozenset(normalize_origin(item) for item in items if item.strip())
