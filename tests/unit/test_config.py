from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    business = ("BUSINESS_NAME", "BUSINESS_HOURS", "KNOWLEDGE_PATH")
    for name in ("TIMEZONE", *business, "DATABASE_URL", "OPENAI_API_KEY", "STAFF_EMAIL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_singapore() -> None:
    settings = load_settings()
    assert settings.timezone == "Asia/Singapore"
    assert settings.schedule.periods_on(6) == ()
    assert not settings.llm_enabled


def test_bad_timezone_names_setting_value_and_expectation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.count("\n") == 0
    assert "TIMEZONE='Mars/Olympus'" in message
    assert "Asia/Singapore" in message


def test_bad_hours_explain_the_syntax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_HOURS", "mon-fri 9-6")
    with pytest.raises(ConfigError, match=r"BUSINESS_HOURS=.*HH:MM-HH:MM"):
        load_settings()


def test_secret_value_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@db/shop")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)
    assert "DATABASE_URL=<hidden>" in str(caught.value)


def test_every_bad_setting_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Nowhere")
    monkeypatch.setenv("STAFF_EMAIL", "not-an-address")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert any(line.startswith("Setting STAFF_EMAIL=") for line in lines)


def test_secret_repr_hides_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-verysecret")
    settings = load_settings()
    assert settings.llm_enabled
    assert "sk-verysecret" not in repr(settings)


def test_thresholds_follow_the_model_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().thresholds == (0.48, 0.43)
    monkeypatch.setenv("EMBEDDING_MODEL", "all-MiniLM-L6-v2")
    assert load_settings().thresholds == (0.64, 0.59)
    monkeypatch.setenv("EMBEDDING_INT8", "true")
    assert load_settings().thresholds == (0.595, 0.545)
    monkeypatch.setenv("ANSWER_THRESHOLD", "0.7")
    assert load_settings().thresholds == (0.7, 0.545)


def test_empty_threshold_in_env_file_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSWER_THRESHOLD", "")
    assert load_settings().thresholds[0] == 0.48


def test_env_example_copied_to_env_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url is None and not settings.llm_enabled
    assert settings.thresholds == (0.48, 0.43)  # both models, until calibrated


SID = "AC" + "0123456789abcdef" * 2


def test_no_channel_settings_means_no_channels() -> None:
    settings = load_settings()
    assert not settings.telegram_enabled and not settings.whatsapp_enabled


def test_half_configured_twilio_names_what_is_missing() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(twilio_account_sid=SID, public_base_url="https://bot.example.com")
    assert str(caught.value) == (
        "WhatsApp through Twilio needs TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM as well"
    )


def test_whatsapp_needs_a_public_url() -> None:
    with pytest.raises(ConfigError, match="needs PUBLIC_BASE_URL"):
        load_settings(
            twilio_account_sid=SID, twilio_auth_token="t", twilio_whatsapp_from="+6591234567"
        )


def test_bad_twilio_values_explain_the_expected_form() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(twilio_account_sid="12345", twilio_whatsapp_from="91234567")
    lines = str(caught.value).splitlines()
    assert any(line.startswith("Setting TWILIO_ACCOUNT_SID='12345'") for line in lines)
    assert any("whatsapp:+6591234567" in line for line in lines)


def test_telegram_mode_follows_the_public_url() -> None:
    polling = load_settings(telegram_bot_token="1:abc")
    assert polling.telegram_enabled and not polling.telegram_uses_webhook
    webhook = load_settings(telegram_bot_token="1:abc", public_base_url="https://b.example")
    assert webhook.telegram_uses_webhook


def test_contradictory_telegram_settings_stop_the_start() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(telegram_mode="webhook")
    assert str(caught.value).splitlines() == [
        "TELEGRAM_MODE=webhook is set but TELEGRAM_BOT_TOKEN is not",
        "TELEGRAM_MODE=webhook needs PUBLIC_BASE_URL (or use TELEGRAM_MODE=polling)",
    ]
    with pytest.raises(ConfigError, match="only to https:// URLs"):
        load_settings(telegram_bot_token="1:abc", public_base_url="http://b.example")


def test_the_bot_token_is_never_shown() -> None:
    settings = load_settings(telegram_bot_token="123:secret-token")
    assert "secret-token" not in repr(settings)


def test_email_limits_default_and_reject_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.max_email_bytes, settings.max_email_attachments) == (10 * 1024 * 1024, 10)
    monkeypatch.setenv("MAX_EMAIL_BYTES", "100")
    monkeypatch.setenv("MAX_EMAIL_ATTACHMENTS", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "Setting MAX_EMAIL_BYTES",
        "Setting MAX_EMAIL_ATTACHMENTS",
    ]


SAMPLE = Path(__file__).resolve().parents[2] / "knowledge_base" / "sample"


def test_the_sample_knowledge_base_keeps_the_sample_business_from_a_copied_env_example(
    tmp_path: Path,
) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text() + f"\nKNOWLEDGE_PATH={SAMPLE}/\n")
    settings = load_settings()
    assert settings.uses_sample_business
    assert settings.business_name == "Pandan Lantern Bakehouse"
    assert settings.schedule.periods_on(0) == ()  # closed on Mondays, as the sample says
    assert settings.model_copy(update={"port": 0}).uses_sample_business


@pytest.mark.parametrize(
    "explicit",
    [
        {"business_name": "Tan's Tuition Centre"},
        {"business_hours": "mon-sun 10:00-22:00"},
    ],
)
def test_either_business_setting_given_wins_over_the_sample(explicit: dict[str, str]) -> None:
    settings = load_settings(knowledge_path=SAMPLE, **explicit)
    assert not settings.uses_sample_business
    assert settings.business_name == explicit.get("business_name", "Our Shop")
    assert settings.schedule.periods_on(0) != ()  # Monday: the default or the given hours


def test_another_knowledge_folder_keeps_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(knowledge_path=tmp_path)
    assert not settings.uses_sample_business and settings.business_name == "Our Shop"


def test_report_at_is_a_weekday_and_a_local_time() -> None:
    assert load_settings().report_schedule == (0, time(9, 0))  # Monday 09:00 by default
    assert load_settings(report_at="Friday 17:30").report_schedule == (4, time(17, 30))
    assert load_settings(report_at="off").report_schedule is None


@pytest.mark.parametrize("value", ["monday", "mon 25:00", "someday 09:00", "09:00"])
def test_a_wrong_report_at_says_what_is_expected(value: str) -> None:
    with pytest.raises(ConfigError, match=r"REPORT_AT=.*'mon 09:00'"):
        load_settings(report_at=value)


def test_an_empty_report_at_turns_the_report_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("REPORT_AT=\nBUSINESS_NAME=\n")
    assert load_settings().report_schedule is None
    assert load_settings().business_name == "Our Shop"  # elsewhere, empty still means default
    monkeypatch.setenv("REPORT_AT", "tue 08:15")
    assert load_settings().report_schedule == (1, time(8, 15))  # the environment wins
    monkeypatch.setenv("REPORT_AT", "")
    assert load_settings().report_schedule is None
