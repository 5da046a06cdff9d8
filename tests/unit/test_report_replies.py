"""Replies to the owner report: routed by the email ingress, applied by OwnerReplies."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from bot.owner_replies import OwnerReplies
from channels.base import Ignored
from channels.email.ingress import EmailIngress, report_token
from channels.email.parsing import parse_email
from core.learning import REPORT_THREAD
from core.messages import ChannelName, Choice, InboundMessage
from core.suggestion_store import Decision, Outcome, OwnerReport
from tests.unit.test_email_limits import FakeIngress, FakeRedis

SHOP = "shop@bakery.test"
BOSS = "boss@bakery.test"
TOKEN = "0123456789abcdef0123456789abcdef"


def reply(sender: str = BOSS, to: str = f"shop+r{TOKEN}@bakery.test", refs: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = f"Boss <{sender}>"
    message["To"] = to
    message["Subject"] = "Re: Weekly report"
    message["Message-ID"] = make_msgid(domain="bakery.test")
    if refs:
        message["In-Reply-To"] = refs
        message["References"] = f"<other@x.test> {refs}"
    message.set_content("approve 1")
    return message.as_bytes()


def handler() -> tuple[EmailIngress, FakeIngress]:
    ingress = FakeIngress()
    email = EmailIngress(
        ingress,  # type: ignore[arg-type]
        FakeRedis(),  # type: ignore[arg-type]
        own_addresses=[SHOP],
        staff_addresses=[BOSS],
    )
    return email, ingress


def test_report_token_from_plus_address_or_thread_headers() -> None:
    assert report_token(parse_email(reply())) == TOKEN
    by_headers = reply(to=SHOP, refs=f"<report-{TOKEN}@bakery.test>")
    assert report_token(parse_email(by_headers)) == TOKEN
    assert report_token(parse_email(reply(to=SHOP))) is None
    handoff = reply(to=f"shop+h{TOKEN}@bakery.test")
    assert report_token(parse_email(handoff)) is None


@pytest.mark.parametrize("refs", ["", f"<report-{TOKEN}@bakery.test>"])
async def test_a_staff_reply_becomes_a_staff_message_for_the_report(refs: str) -> None:
    email, ingress = handler()
    await email.handle(1, reply(to=SHOP if refs else f"shop+r{TOKEN}@bakery.test", refs=refs))
    [(channel, message)] = ingress.accepted
    assert channel == ChannelName.STAFF
    assert isinstance(message, InboundMessage)
    assert message.thread_ref == REPORT_THREAD + TOKEN
    assert message.text == "approve 1"
    assert message.reply_to is not None and json.loads(message.reply_to)["to"] == BOSS


async def test_a_reply_from_anyone_else_is_ignored() -> None:
    email, ingress = handler()
    await email.handle(1, reply(sender="mallory@evil.test"))
    [(channel, outcome)] = ingress.accepted
    assert channel == ChannelName("email")
    assert outcome == Ignored("report_reply_not_from_staff", "mallory@evil.test")


class FakeDecisions:
    def __init__(self) -> None:
        self.applied: list[tuple[str, list[Decision]]] = []

    async def report(self, token: str) -> OwnerReport | None:
        return OwnerReport(3, TOKEN, BOSS, (21, 22)) if token == TOKEN else None

    async def apply_reply(
        self,
        provider_message_id: str,
        report: OwnerReport,
        sender: str,
        decisions: Sequence[Decision],
    ) -> list[Outcome] | None:
        if any(mail == provider_message_id for mail, _ in self.applied):
            return None
        self.applied.append((provider_message_id, list(decisions)))
        return [
            Outcome(d.suggestion_id, "edit" if d.answer else d.action, True, question="Q?")
            for d in decisions
        ]


class FakePublisher:
    def __init__(self) -> None:
        self.published = 0

    async def publish(self) -> int:
        self.published += 1
        return 1


class FakeConfirmations:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        self.sent.append((address, text))
        return ["<c@bakery.test>"]


def staff_message(text: str, sender: str = BOSS, token: str = TOKEN) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName.STAFF,
        external_user_id=sender,
        provider_message_id="<m1@bakery.test>",
        text=text,
        received_at=datetime.now(UTC),
        thread_ref=REPORT_THREAD + token,
    )


async def test_owner_replies_apply_publish_and_confirm_once() -> None:
    store, publisher, mails = FakeDecisions(), FakePublisher(), FakeConfirmations()
    replies = OwnerReplies(store, publisher, [BOSS.upper()], mails)
    await replies.handle(staff_message("approve 1\nedit 2: Better.\napprove 5"))
    assert store.applied == [
        ("<m1@bakery.test>", [Decision(21, "approve"), Decision(22, "approve", "Better.")])
    ]
    assert publisher.published == 1
    [(route, text)] = mails.sent
    assert json.loads(route)["to"] == BOSS
    assert "1. approved: Q?" in text and "2. approved with your answer: Q?" in text
    assert "approve 5: there is no 5 in the report (1-2)" in text
    await replies.handle(staff_message("approve 1"))  # the same mail again
    assert (len(store.applied), publisher.published, len(mails.sent)) == (1, 1, 1)


async def test_rejections_alone_publish_nothing() -> None:
    store, publisher, mails = FakeDecisions(), FakePublisher(), FakeConfirmations()
    await OwnerReplies(store, publisher, [BOSS], mails).handle(staff_message("reject 2"))
    assert publisher.published == 0
    assert "2. rejected: Q?" in mails.sent[0][1]


@pytest.mark.parametrize(
    "message",
    [staff_message("approve 1", sender="x@evil.test"), staff_message("approve 1", token="nope")],
)
async def test_other_senders_and_unknown_reports_change_nothing(message: InboundMessage) -> None:
    store, publisher, mails = FakeDecisions(), FakePublisher(), FakeConfirmations()
    await OwnerReplies(store, publisher, [BOSS], mails).handle(message)
    assert (store.applied, publisher.published, mails.sent) == ([], 0, [])
