"""Pytest fixtures for the provider fakes; import them into a conftest to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.providers.telegram_api import FakeTelegramAPI


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Telegram Bot API server, stopped after the test."""
    async with FakeTelegramAPI() as api:
        yield api
