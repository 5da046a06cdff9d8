"""A PostgreSQL and a Valkey of one test module's own, for tests that stop and restart them.

The fixtures are module-scoped: each test module that asks for them gets its own servers, so
restarting them disturbs no other test. conftest.py makes them available to every module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from bot.services import Services


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServices]:
    """An embedded PostgreSQL of the module's own."""
    with EmbeddedServices(tmp_path_factory.mktemp("own-pg"), postgres=True, valkey=False) as pg:
        yield pg


@pytest.fixture(scope="module")
def own_valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServices]:
    """An embedded Valkey of the module's own (append-only file on, as the bot configures it)."""
    with EmbeddedServices(tmp_path_factory.mktemp("own-vk"), postgres=False, valkey=True) as vk:
        yield vk


@pytest.fixture(scope="module")
async def own_services(
    settings: Settings,
    own_postgres: EmbeddedServices,
    own_valkey: EmbeddedServices,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Services]:
    """The session's settings on the module's own PostgreSQL, Valkey and data folder, wired
    (the model loaded) with the knowledge base of those settings ingested."""
    changed = settings.model_copy(
        update={
            "database_url": SecretStr(own_postgres.database_url),
            "redis_url": SecretStr(own_valkey.redis_url),
            "data_dir": tmp_path_factory.mktemp("own-data"),
        }
    )
    async with Services(changed) as running:
        report = await running.ingestor.ingest([changed.knowledge_path])
        assert not report.failed, report.failed
        yield running
