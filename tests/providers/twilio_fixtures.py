"""Pytest fixtures for the fake Twilio API and a real async Twilio client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from twilio.rest import Client

from channels.whatsapp.http import TwilioHttpClient
from tests.providers.twilio_api import FakeTwilioApi


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilioApi]:
    """A running fake Twilio REST API with a fresh account; stopped after the test."""
    async with FakeTwilioApi() as api:
        yield api


@pytest.fixture
async def twilio_client(twilio_api: FakeTwilioApi) -> AsyncIterator[Client]:
    """The real twilio Client on the async HTTP client, talking to `twilio_api`; closed after."""
    http_client = TwilioHttpClient()
    client = Client(
        twilio_api.account_sid, twilio_api.auth_token, http_client=http_client, environment={}
    )
    client.api.base_url = twilio_api.base_url
    client.content.base_url = twilio_api.base_url
    try:
        yield client
    finally:
        await http_client.close()
