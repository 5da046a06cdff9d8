"""Real services for integration tests: embedded PostgreSQL and Valkey, Qdrant Edge, the model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings, settings_class
from bot.embedded.servers import EmbeddedServices
from bot.services import Services
from tests.integration.own_storage import own_postgres, own_services, own_valkey
from tests.providers.fixtures import telegram_api
from tests.providers.twilio_fixtures import twilio_api, twilio_client

__all__ = ["telegram_api", "twilio_api", "twilio_client"]  # fixtures for every integration test
__all__ += ["own_postgres", "own_services", "own_valkey"]  # for modules that restart storage

REPO = Path(__file__).resolve().parents[2]
SAMPLE_KB = REPO / "knowledge_base" / "sample"


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServices]:
    """One embedded PostgreSQL and Valkey for the whole session."""
    services = EmbeddedServices(tmp_path_factory.mktemp("embedded"), postgres=True, valkey=True)
    services.start()
    yield services
    services.stop()


@pytest.fixture(scope="session")
def settings(embedded: EmbeddedServices, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the session's services, with a fresh vector index folder."""
    return settings_class()(
        business_name="Test Bakery",
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=SecretStr(embedded.database_url),
        redis_url=SecretStr(embedded.redis_url),
        knowledge_path=SAMPLE_KB,
        # Open around the clock, so handoffs go out at once whenever the tests run; tests of
        # after-hours behaviour bring their own calendar and clock.
        business_hours="mon-sun 00:00-24:00",
        public_holidays=False,
    )


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    """The fully wired bot (model loaded once), with the sample knowledge base ingested."""
    async with Services(settings) as running:
        report = await running.ingestor.ingest([SAMPLE_KB])
        assert not report.failed, report.failed
        await running.calibrate()  # as `bot chat` does after its first-run ingestion
        yield running
