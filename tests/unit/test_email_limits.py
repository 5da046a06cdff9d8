"""Email size and attachment limits: what is queued, who is told, and that each is told once."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from channels.base import Ignored, Parsed, SendError
from channels.email.ingress import EmailIngress, header_section
from channels.email.notices import EmailNotices, notice_language, size_text
from channels.email.parsing import parse_email
from channels.email.polling import HEADER_BYTES
from channels.email.sending import dropped_attachments, reply_route, to_inbound
from core.language import Language
from core.messages import ChannelName, Choice, InboundMessage

SHOP = "hello@bakery.test"


class FakeRedis:
    """The few commands the email ingress and its notices use."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def incr(self, key: str) -> int:
        self.values[key] = int(self.values.get(key, 0)) + 1
        return int(self.values[key])

    async def expire(self, key: str, seconds: int) -> bool:
        return True

    async def set(self, key: str, value: str, nx: bool = False, ex: int | None = None) -> bool:
        if nx and key in self.values:
            return False
        self.values[key] = value
        return True

    async def delete(self, key: str) -> int:
        return 1 if self.values.pop(key, None) is not None else 0


class FakeIngress:
    def __init__(self) -> None:
        self.accepted: list[tuple[ChannelName, Parsed]] = []

    async def accept(self, channel: ChannelName, parsed: Parsed) -> str:
        self.accepted.append((channel, parsed))
        return "queued" if isinstance(parsed, InboundMessage) else "ignored"


class FakeSender:
    channel = ChannelName("email")

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], str]] = []
        self.fail: SendError | None = None

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        if self.fail is not None:
            raise self.fail
        self.sent.append((json.loads(address), text))
        return ["<notice@bakery.test>"]

    async def acknowledge(self, message: InboundMessage) -> None:
        """Nothing to acknowledge."""


def mail(
    body: str = "What time do you open on Saturday?",
    attachments: int = 0,
    subject: str = "Saturday",
    headers: dict[str, str] | None = None,
    padding: int = 0,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Mei <mei@customer.test>"
    message["To"] = SHOP
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = value
    message.set_content(body)
    for n in range(attachments):
        message.add_attachment(b"\xff" * (padding or 10), "image", "jpeg", filename=f"cake{n}.jpg")
    return message


@pytest.fixture
def parts() -> tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis]:
    ingress, sender, redis = FakeIngress(), FakeSender(), FakeRedis()
    handler = EmailIngress(
        ingress,  # type: ignore[arg-type]
        redis,  # type: ignore[arg-type]
        own_addresses=[SHOP],
        staff_addresses=["boss@bakery.test"],
        max_per_sender_per_hour=3,
        notices=EmailNotices(sender, redis),  # type: ignore[arg-type]
        max_bytes=20_000,
        max_attachments=2,
    )
    return handler, ingress, sender, redis


def test_to_inbound_keeps_the_first_attachments_and_the_text() -> None:
    raw = mail(attachments=5).as_bytes()
    parsed = parse_email(raw)
    message = to_inbound(parsed, raw, max_attachments=2)
    assert isinstance(message, InboundMessage)
    assert [a.name for a in message.attachments] == ["cake0.jpg", "cake1.jpg"]
    assert message.text == "What time do you open on Saturday?"
    assert dropped_attachments(parsed, 2) == 3
    assert dropped_attachments(parsed, 5) == 0
    unlimited = to_inbound(parsed, raw)
    assert isinstance(unlimited, InboundMessage) and len(unlimited.attachments) == 5


def test_the_stored_reply_route_masks_an_nric_in_the_subject_and_name() -> None:
    raw = mail(subject="Booking, NRIC S1234567D", headers={"From": "S1234567D <a@b.test>"})
    parsed = parse_email(raw.as_bytes())
    route = json.loads(reply_route(parsed))
    assert (route["subject"], route["name"]) == ("Booking, NRIC *****567D", "*****567D")


def test_a_mail_of_attachments_alone_is_still_answered_under_a_zero_limit() -> None:
    raw = mail(body="", subject="", attachments=2).as_bytes()
    message = to_inbound(parse_email(raw), raw, max_attachments=0)
    assert isinstance(message, InboundMessage)
    assert message.text == "" and message.attachments == ()


async def test_too_many_attachments_queue_the_text_and_say_how_many_were_left(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, _ = parts
    question = mail(attachments=5)
    await handler.handle(1, question.as_bytes())
    [(channel, message)] = ingress.accepted
    assert channel == ChannelName("email") and isinstance(message, InboundMessage)
    assert len(message.attachments) == 2
    assert message.attachments_dropped == 3  # the reply says so, in the customer's language
    assert sender.sent == []  # no separate notice: one reply per mail


async def test_within_the_attachment_limit_nobody_is_told(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, _ = parts
    await handler.handle(1, mail(attachments=2).as_bytes())
    [(_, message)] = ingress.accepted
    assert isinstance(message, InboundMessage) and len(message.attachments) == 2
    assert sender.sent == []


async def test_a_failed_attachment_notice_does_not_fail_the_mail(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, redis = parts
    sender.fail = SendError("SMTP 451", retryable=True)
    await handler.handle(1, mail(attachments=3).as_bytes())
    assert isinstance(ingress.accepted[0][1], InboundMessage)
    assert not any(key.startswith("email:notice:") for key in redis.values)


async def test_a_mail_over_the_size_limit_is_not_parsed_and_its_sender_is_told(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, _ = parts
    big = mail(attachments=1, padding=60_000)
    raw = big.as_bytes()
    await handler.handle(7, raw)  # the server did not say the size: the handler checks it too
    [(_, ignored)] = ingress.accepted
    assert isinstance(ignored, Ignored) and ignored.reason == "too_large"
    assert ignored.detail == f"{len(raw)} B; told mei@customer.test"
    [(route, text)] = sender.sent
    assert route["in_reply_to"] == big["Message-ID"] and route["subject"] == "Saturday"
    assert text.startswith(f"Sorry, your email is too large for us to read ({size_text(len(raw))};")
    assert "we accept up to 20 KB" in text
    await handler.too_large(7, header_section(raw), len(raw))
    assert len(sender.sent) == 1  # once per mail


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"From": SHOP}],
    ids=["auto-reply", "bulk", "own-address"],
)
async def test_robots_over_the_size_limit_are_not_told(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis], headers: dict[str, str]
) -> None:
    handler, ingress, sender, _ = parts
    big = mail(attachments=1, padding=60_000, headers=headers)
    await handler.handle(1, big.as_bytes())
    [(_, ignored)] = ingress.accepted
    assert isinstance(ignored, Ignored) and ignored.reason == "too_large"
    assert "not told" in (ignored.detail or "")
    assert sender.sent == []


async def test_size_notices_count_towards_the_hourly_limit(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, _ = parts
    for _ in range(5):
        await handler.handle(1, mail(attachments=1, padding=60_000).as_bytes())
    assert len(sender.sent) == 3
    assert all(isinstance(p, Ignored) and p.reason == "too_large" for _, p in ingress.accepted)


async def test_a_refused_size_notice_fails_the_mail_and_can_be_sent_later(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, _, sender, _ = parts
    raw = mail(attachments=1, padding=60_000).as_bytes()
    sender.fail = SendError("SMTP 451", retryable=True)
    with pytest.raises(SendError):
        await handler.too_large(1, header_section(raw), len(raw))
    sender.fail = None
    await handler.too_large(1, header_section(raw), len(raw))
    assert len(sender.sent) == 1


async def test_headers_that_are_not_an_email_are_recorded_not_answered(
    parts: tuple[EmailIngress, FakeIngress, FakeSender, FakeRedis],
) -> None:
    handler, ingress, sender, _ = parts
    await handler.too_large(1, b"Subject: no sender\r\n\r\n", 50_000_000)
    [(_, ignored)] = ingress.accepted
    assert isinstance(ignored, Ignored) and ignored.reason == "too_large"
    assert sender.sent == []


def test_header_section() -> None:
    assert header_section(b"From: a@b.c\r\n\r\nbody\r\n\r\nmore") == b"From: a@b.c\r\n\r\n"
    assert header_section(b"From: a@b.c\n\nbody") == b"From: a@b.c\n\n"
    assert len(header_section(b"X: " + b"y" * 200_000)) == HEADER_BYTES


@pytest.mark.parametrize(
    ("size", "text"),
    [(600, "1 KB"), (20_000, "20 KB"), (10 * 1024 * 1024, "10 MB"), (13_000_000, "12.4 MB")],
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Saturday hours", Language.EN),
        ("Waktu buka hari Sabtu", Language.EN),  # Latin script: English, the shop's default
        ("营业时间", Language.ZH),
        ("Re: 營業時間 hours", Language.ZH),
        ("சனிக்கிழமை நேரம்", Language.TA),
    ],
)
def test_notice_language(text: str, language: Language) -> None:
    assert notice_language(text) is language
