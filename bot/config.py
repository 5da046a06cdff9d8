"""Settings from the environment and an optional .env, validated once at start."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any, Literal, cast

from dotenv import dotenv_values
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from bot import sample_business
from bot.business_settings import BusinessSettings
from bot.report.when import parse_report_at
from bot.thresholds import DEFAULT_THRESHOLDS
from channels.email.settings import EmailSettings
from channels.registry import plugs
from channels.settings import ChannelSettings, http_url
from core.consent import PrivacyNotice
from core.embedding import BUNDLED_MODEL, BUNDLED_MODELS, E5_SMALL, MINILM

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line per problem."""


class Settings(EmailSettings, BusinessSettings):
    """Every setting the bot reads; names match the environment variables.

    The mail settings are the email channel's block: handoffs and owner reports go by mail
    whichever channels customers use. Each other channel's block is added by `settings_class`.
    """

    # Words that hand a conversation to a person at once (comma-separated, any language).
    escalation_keywords: str = "refund, allergy, allergic"

    data_dir: Path = Path("data")
    knowledge_path: Path = Path("knowledge_base/sample")
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = Field("knowledge", pattern=r"^[A-Za-z0-9_-]+$")
    embedded_vector_engine: Literal["edge", "local"] = "edge"

    # all-MiniLM-L6-v2 (English), multilingual-e5-small, or a local sentence-transformers folder.
    embedding_model: str = BUNDLED_MODEL
    embedding_int8: bool = False
    # The bundled MiniLM is exported to ONNX once and kept here (default: DATA_DIR/models).
    model_cache_dir: Path | None = None
    # None means the value chosen on validation data for the model in use (see thresholds).
    answer_threshold: float | None = Field(None, ge=0.0, le=1.0)
    choice_threshold: float | None = Field(None, ge=0.0, le=1.0)
    # Unset: the model's own (DEFAULT_THRESHOLDS), 0.02 for MiniLM.
    answer_margin: float = Field(0.02, ge=0.0, le=1.0)

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(15.0, gt=0)
    # With an OpenAI key, WhatsApp and Telegram voice notes are transcribed on the same endpoint
    # and answered like text. OpenAI takes files up to 25 MB; Telegram lets bots fetch 20 MB.
    transcribe_voice: bool = True
    transcription_model: str = "whisper-1"
    transcribe_max_bytes: int = Field(20 * 1024 * 1024, ge=1, le=25 * 1024 * 1024)
    transcribe_max_seconds: int = Field(300, ge=1)
    # Fetching and transcribing together; the customer's lock (60 s) must outlast it.
    transcribe_timeout_seconds: float = Field(30.0, gt=0, le=50)

    memory_turns: int = Field(12, ge=1, le=200)
    memory_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    retention_days: int = Field(365, ge=1)
    # Local time of the daily retention run (one process runs it, however many there are).
    retention_at: time = time(3, 30)
    # The privacy notice shown on first contact: ours in the customer's language with a link
    # to PRIVACY_URL, or the business's own CONSENT_TEXT. With REQUIRE_CONSENT the bot answers
    # only after an explicit yes; without it, going on counts as agreeing.
    require_consent: bool = False
    host: str = "0.0.0.0"
    worker_concurrency: int = Field(32, ge=1, le=1000)
    # More messages than this from one sender within the window get one notice, then silence.
    flood_limit: int = Field(20, ge=1)
    flood_window_seconds: int = Field(10, ge=1)
    # When set, /metrics and /readyz want "Authorization: Bearer <key>".
    metrics_api_key: SecretStr | None = None
    # A queue entry idle this long is taken over by another worker (its worker died).
    reclaim_after_seconds: float = Field(30.0, gt=0)
    # A reply being sent is held this long; longer than every retry of one send together.
    send_lease_seconds: float = Field(600.0, gt=0)
    # On SIGTERM/SIGINT, work in hand gets this long; the rest is left for the next process.
    # Well under Docker's 10 s before it kills.
    stop_grace_seconds: float = Field(5.0, ge=0, le=60)

    # A conversation a person took over returns to the bot after this much silence.
    human_idle_minutes: int = Field(240, ge=1)
    handoff_check_seconds: float = Field(30.0, gt=0)
    # The weekly owner report to STAFF_EMAIL: weekday and local time ("mon 09:00"); an empty
    # value or "off" sends none. Replies to it approve suggested answers (bot kb suggestions).
    report_at: str = "mon 09:00"
    # Ask "How did we do?" once the bot answered and the customer was quiet this long; 0: never.
    rating_after_minutes: int = Field(30, ge=0)
    # A message this soon after a rating, that the knowledge base does not answer, is its comment.
    rating_comment_minutes: int = Field(10, ge=1)
    # A customer is asked for a rating at most once in this many days.
    rating_every_days: int = Field(7, ge=1)
    # Approved suggestions are written here and indexed at once (default: in DATA_DIR).
    learned_faq_path: Path | None = None
    # How often replies set aside while a provider was failing are tried again (when due).
    deferred_check_seconds: float = Field(30.0, gt=0)

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"

    _sample_business: bool = PrivateAttr(False)

    @field_validator("report_at")
    @classmethod
    def _report_time(cls, value: str) -> str:
        parse_report_at(value)  # its ValueError says what is expected
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("expected a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("openai_base_url", "qdrant_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("embedding_model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        named = {m.lower(): m for m in BUNDLED_MODELS} | {"minilm": MINILM}
        if value.strip().lower() in named:
            return named[value.strip().lower()]
        if not Path(value).expanduser().is_dir():
            raise ValueError(
                f"expected {' or '.join(BUNDLED_MODELS)} (bundled), or the folder of a local "
                "sentence-transformers model"
            )
        return value

    @model_validator(mode="after")
    def _int8_fits_model(self) -> Settings:
        if self.embedding_int8 and self.embedding_model == E5_SMALL:
            raise ValueError(
                f"EMBEDDING_INT8 applies to sentence-transformers models; {E5_SMALL} is already "
                "4-bit: set EMBEDDING_INT8=false"
            )
        if "answer_margin" not in self.model_fields_set:  # the model's own, like thresholds
            self.answer_margin = self._model_defaults[2]
        return self

    @property
    def _model_defaults(self) -> tuple[float, float, float]:
        """Answer threshold, choice threshold and margin chosen for the configured model."""
        model = self.embedding_model if self.embedding_model in BUNDLED_MODELS else MINILM
        return DEFAULT_THRESHOLDS[(model, self.embedding_int8)]

    @model_validator(mode="after")
    def _sample_business_unless_set(self) -> Settings:
        # The default hours would contradict what the sample knowledge base answers.
        if not {"business_name", "business_hours"} & self.model_fields_set and (
            sample_business.is_sample_knowledge(self.knowledge_path)
        ):
            self.business_name = sample_business.NAME
            self.business_hours = sample_business.HOURS
            self._sample_business = True
        return self

    @property
    def uses_sample_business(self) -> bool:
        """Whether the name and hours are the sample business's, because neither was set."""
        return self._sample_business

    @model_validator(mode="after")
    def _channels_consistent(self) -> Settings:
        problems = [line for plug in plugs() for line in plug.problems(self)]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def privacy_notice_text(self) -> str | None:
        """The business's own notice (CONSENT_TEXT); None: ours, in the customer's language."""
        return self.consent_text or None

    @property
    def privacy_notice(self) -> PrivacyNotice:
        """The notice customers get on first contact, and whether it needs their yes."""
        return PrivacyNotice(
            self.privacy_url or "",
            required=self.require_consent,
            custom_text=self.privacy_notice_text,
        )

    @property
    def report_schedule(self) -> tuple[int, time] | None:
        """When the weekly owner report goes out: (weekday, Monday 0, local time); None: never."""
        return parse_report_at(self.report_at)

    @property
    def models_dir(self) -> Path:
        """Where the exported embedding model is kept."""
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def learned_faq(self) -> Path:
        """The knowledge file approved suggestions are written to."""
        return self.learned_faq_path or self.data_dir / "learned-faq.yaml"

    @property
    def thresholds(self) -> tuple[float, float]:
        """Answer and choice thresholds: configured, or chosen on validation data (bench/)."""
        answer, choice, _ = self._model_defaults
        return (
            answer if self.answer_threshold is None else self.answer_threshold,
            choice if self.choice_threshold is None else self.choice_threshold,
        )

    @property
    def llm_enabled(self) -> bool:
        """Whether an OpenAI-compatible endpoint is configured."""
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())

    @property
    def voice_enabled(self) -> bool:
        """Whether voice notes are transcribed: an OpenAI-compatible endpoint, not turned off."""
        return self.llm_enabled and self.transcribe_voice


def _set_but_empty(name: str) -> bool:
    """A setting written with an empty value in the environment or .env (which means "off"
    for REPORT_AT, while empty values elsewhere mean "the default")."""
    if name in os.environ:
        return os.environ[name].strip() == ""
    values = dotenv_values(".env") if Path(".env").is_file() else {}
    return name in values and not (values[name] or "").strip()


def settings_class() -> type[Settings]:
    """The bot's settings with every registered channel's block: one class per set of plugs."""
    blocks = tuple(p.settings for p in plugs() if not issubclass(Settings, p.settings))
    if blocks not in _COMPOSED:
        bases = cast(tuple[type[Settings], ...], (Settings, *blocks))
        _COMPOSED[blocks] = create_model("Settings", __base__=bases)
    return _COMPOSED[blocks]


_COMPOSED: dict[tuple[type[ChannelSettings], ...], type[Settings]] = {}


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings; raise ConfigError with one line per bad setting."""
    if "report_at" not in overrides and _set_but_empty("REPORT_AT"):
        overrides["report_at"] = "off"
    try:
        return settings_class()(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_errors(error)) from None


def describe_errors(error: ValidationError) -> str:
    """One line per problem: setting name, offending value (never a secret), expectation."""
    lines = []
    for item in error.errors():
        if not item["loc"]:  # a check across several settings, already phrased per line
            lines.append(str(item["msg"]).removeprefix("Value error, "))
            continue
        name = str(item["loc"][0])
        shown = "<hidden>" if _is_secret(name) else repr(item.get("input"))
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"Setting {name.upper()}={shown} is invalid: {message}")
    return "\n".join(lines)


def _is_secret(name: str) -> bool:
    """Whether a setting holds a secret (typed SecretStr in whichever block declares it)."""
    field = settings_class().model_fields.get(name)
    return field is not None and "SecretStr" in repr(field.annotation)
