"""Web chat's pure parts: visitor tokens, origins, what a browser may send, and the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.config import ConfigError, load_settings
from channels.base import PayloadError, SendError
from channels.webchat.events import (
    VisitorTokens,
    WebChatSender,
    client_id_of,
    normalize_origin,
    origin_allowed,
    parse_message,
)
from channels.webchat.routes import client_address
from core.messages import ChannelName

SECRET = "a-test-secret-of-some-length"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_a_token_names_its_visitor_and_nothing_else_does() -> None:
    tokens = VisitorTokens(SECRET)
    visitor, token = tokens.new_visitor()
    assert tokens.visitor_of(token) == visitor
    assert tokens.token_for(visitor) == token
    other_visitor, other_token = tokens.new_visitor()
    assert other_visitor != visitor

    name, _, signature = token.partition(".")
    flipped = "B" if name[0] == "A" else "A"
    tampered = [
        f"{flipped}{name[1:]}.{signature}",  # someone else's id with our signature
        f"{name}.{signature[:-2]}",
        f"{name}.{other_token.partition('.')[2]}",  # another visitor's signature
        name,
        f"{name}.",
        "",
        "x" * 500,
        None,
        42,
    ]
    assert [tokens.visitor_of(t) for t in tampered] == [None] * len(tampered)
    assert VisitorTokens("another-secret-altogether").visitor_of(token) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        VisitorTokens("short")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://www.Example.sg/", "https://www.example.sg"),
        ("https://shop.sg:443", "https://shop.sg"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        (" https://a.sg ", "https://a.sg"),
    ],
)
def test_origins_are_compared_as_browsers_send_them(given: str, expected: str) -> None:
    assert normalize_origin(given) == expected


@pytest.mark.parametrize(
    "bad", ["www.shop.sg", "https://shop.sg/chat", "https://*.shop.sg", "ftp://shop.sg", "*", ""]
)
def test_what_is_not_an_origin_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        normalize_origin(bad)


def test_only_allowed_sites_and_the_bot_itself_may_use_the_chat() -> None:
    allowed = frozenset({"https://www.shop.sg"})
    own = {"support.shop.sg", "127.0.0.1:8080"}
    assert origin_allowed("https://www.shop.sg", allowed, own)
    assert origin_allowed("https://WWW.shop.sg:443", allowed, own)
    assert origin_allowed("https://support.shop.sg", allowed, own)
    assert origin_allowed("http://127.0.0.1:8080", allowed, own)
    assert origin_allowed(None, allowed, own)  # not a browser page: the token still counts
    for refused in (
        "https://shop.sg",
        "http://www.shop.sg",  # another scheme is another origin
        "https://www.shop.sg:8443",
        "https://www.shop.sg.evil.example",
        "http://127.0.0.1:9090",
        "null",
        "garbage",
    ):
        assert not origin_allowed(refused, allowed, own), refused


def test_a_browser_message_becomes_an_inbound_message_of_its_visitor() -> None:
    message = parse_message("visitor-0123456789", {"id": "abcdef12", "text": "Hi"}, NOW)
    assert message.channel == ChannelName("webchat")
    assert message.external_user_id == "visitor-0123456789"
    assert message.provider_message_id == "visitor-0123456789:abcdef12"
    assert client_id_of(message) == "abcdef12"
    assert (message.text, message.choice_entry_id, message.received_at) == ("Hi", None, NOW)
    picked = parse_message(
        "visitor-0123456789", {"id": "abcdef13", "text": "Fee?", "choice": "delivery-fee"}, NOW
    )
    assert picked.choice_entry_id == "delivery-fee"
    # Long texts are the core's to trim (it says so); the frame size is the hard limit.
    assert len(parse_message("v" * 20, {"id": "abcdef14", "text": "x" * 9000}, NOW).text) == 9000


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "hello",
        {"text": "no id"},
        {"id": "short", "text": "id too short"},
        {"id": "has spaces in it", "text": "hi"},
        {"id": "a" * 65, "text": "id too long"},
        {"id": "abcdef12"},
        {"id": "abcdef12", "text": 42},
        {"id": "abcdef12", "text": "   "},
        {"id": "abcdef12", "text": "hi", "choice": 7},
        {"id": "abcdef12", "text": "hi", "choice": "x" * 201},
    ],
)
def test_malformed_browser_messages_are_refused(data: Any) -> None:
    with pytest.raises(PayloadError):
        parse_message("visitor-0123456789", data, NOW)


class _DownPipeline:
    async def __aenter__(self) -> _DownPipeline:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        def command(*args: Any, **kwargs: Any) -> None:
            return None

        return command

    async def execute(self) -> None:
        raise RedisConnectionError("Connection refused")


class _DownRedis:
    def pipeline(self, transaction: bool = True) -> _DownPipeline:
        return _DownPipeline()


async def test_the_sender_refuses_what_is_not_a_visitor_and_retries_a_redis_outage() -> None:
    sender = WebChatSender(_DownRedis())  # type: ignore[arg-type]
    with pytest.raises(SendError) as not_a_visitor:
        await sender.send("whatsapp:+6591234567", "Hello", ())
    assert not not_a_visitor.value.retryable
    with pytest.raises(SendError) as outage:
        await sender.send("visitor-0123456789", "Hello", ())
    assert outage.value.retryable


class _Transport:
    def __init__(self, peer: str) -> None:
        self._peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self._peer, 40000) if name == "peername" else default


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("8.8.4.4", "", "8.8.4.4"),
        ("8.8.4.4", "198.51.100.1", "8.8.4.4"),  # only our own proxy is believed
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the hop our proxy saw
    ],
)
def test_the_visitor_address_behind_a_local_proxy(peer: str, forwarded: str, expected: str) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/webchat/session", headers, transport=_Transport(peer))
    assert client_address(request) == expected


def test_webchat_settings_fail_fast_with_one_line_each() -> None:
    settings = load_settings(webchat_allowed_origins="https://www.shop.sg/, http://localhost:3000")
    assert settings.webchat_origins == {"https://www.shop.sg", "http://localhost:3000"}
    assert settings.webchat_enabled and settings.webchat_secret is None
    with pytest.raises(ConfigError) as bad_origin:
        load_settings(webchat_allowed_origins="https://www.shop.sg, shop.sg")
    assert str(bad_origin.value) == (
        "Setting WEBCHAT_ALLOWED_ORIGINS='https://www.shop.sg, shop.sg' is invalid: "
        "'shop.sg' is not an origin such as https://www.example.sg"
    )
    with pytest.raises(ConfigError) as short:
        load_settings(webchat_secret="tooshort")
    assert "WEBCHAT_SECRET=<hidden>" in str(short.value) and "tooshort" not in str(short.value)
