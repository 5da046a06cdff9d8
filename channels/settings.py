"""The settings every channel may read, and the checks channel settings share."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def http_url(value: str | None) -> str | None:
    """An http(s) URL as given; ValueError saying what is expected otherwise."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value


class ChannelSettings(BaseSettings):
    """What the bot's settings hold for every channel; each channel adds its own block."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,  # "SETTING=" means "use the default", so no validator sees ""
    )

    business_name: str = Field("Our Shop", min_length=1)
    public_base_url: str | None = None
    port: int = Field(8080, ge=0, le=65535)
    privacy_url: str | None = None
    consent_text: str | None = None

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @property
    def base_url(self) -> str:
        """Where this server is reached: the public URL, else localhost on its port."""
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")
