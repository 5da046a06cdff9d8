"""Automatic mail of every class is never answered; people's mail, however odd, still is."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from channels.email.parsing import parse_email

SHOP = "shop@pandan.example"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"


def mail(
    headers: str, body: str = "Hello", content_type: str = "text/plain; charset=utf-8"
) -> bytes:
    """A raw mail: the given headers (one per line), then a body of the given type."""
    head = "\r\n".join(line.strip() for line in headers.strip().splitlines())
    return (
        f"{head}\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}\r\n"
    ).encode()


ARF_ONLY_THE_ORIGINAL = (
    """From: Mail Provider Abuse <fbl@mailprovider.example>
    To: shop@pandan.example
    Subject: Complaint about message from 203.0.113.5
    Message-ID: <arf-1@mailprovider.example>
    Feedback-Type: abuse""",
    "From: shop@pandan.example\r\nTo: someone@mailprovider.example\r\nSubject: Our menu\r\n\r\n"
    "Our new menu is out.",
    "message/rfc822",
)
AUTOMATIC = {
    "arf-report-with-only-the-original": ARF_ONLY_THE_ORIGINAL,
    "complaint-loop-without-feedback-type": (
        ARF_ONLY_THE_ORIGINAL[0].replace("Feedback-Type: abuse", "X-Report: 1"),
        *ARF_ONLY_THE_ORIGINAL[1:],
    ),
    "sns-notification-from-no-reply": (
        """From: AWS Notifications <no-reply@sns.amazonaws.example>
        To: shop@pandan.example
        Subject: AWS Notification Message
        Message-ID: <sns-1@email.amazonses.example>""",
        "A new message has been published to the topic orders: your order 1234 is ready.",
    ),
    "postmaster-spelt-with-underscore": (
        """From: post_master@isp.example
        To: shop@pandan.example
        Subject: Your message to mei@isp.example
        Message-ID: <pm-1@isp.example>""",
        "Your message could not be handed to mei@isp.example: mailbox full.",
    ),
    "mailing-list-loop-alert": (
        """From: cake-lovers-owner@lists.example
        To: shop@pandan.example
        Subject: Loop Alert: message to cake-lovers rejected
        Message-ID: <loop-1@lists.example>""",
        "Your message appears to have looped and was not distributed.",
    ),
    "list-manager-error-with-list-headers-only": (
        """From: Cake Lovers <cake-lovers@lists.example>
        To: shop@pandan.example
        Subject: Re: Which pandan cake is best?
        Message-ID: <l-1@lists.example>
        List-Post: <mailto:cake-lovers@lists.example>""",
        "I like the chiffon one.",
    ),
    "japanese-carrier-error-notice": (
        """From: =?utf-8?b?44Oh44O844Or44K144O844OQ44O8?= <no_reply@mail.carrier.example.jp>
        To: shop@pandan.example
        Subject: =?utf-8?b?44Oh44O844Or44Ko44Op44O86YCa55+l?=
        Message-ID: <jp-1@mail.carrier.example.jp>""",
        "送信したメールは宛先に届きませんでした。",
    ),
    "null-return-path": (
        """Return-Path: <>
        From: Mail System <system@mx.example>
        To: shop@pandan.example
        Subject: Message status
        Message-ID: <nr-1@mx.example>""",
        "Your message was delayed.",
    ),
    "x-loop": (
        """From: helpdesk@vendor.example
        To: shop@pandan.example
        Subject: Ticket 5521 updated
        X-Loop: helpdesk@vendor.example
        Message-ID: <xl-1@vendor.example>""",
        "Your ticket was updated.",
    ),
    "exim-bounce-without-report-type": (
        """From: Mail Delivery System <Mailer-Daemon@mx.example>
        To: shop@pandan.example
        Subject: Mail delivery failed: returning message to sender
        Message-ID: <ex-1@mx.example>""",
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        "  mei@isp.example\r\n    mailbox is full",
    ),
    "qmail-bounce-with-nothing-else-to-tell": (
        """From: System <system@mx.example>
        To: shop@pandan.example
        Subject: Message status
        Message-ID: <qm-1@mx.example>""",
        "Hi. This is the qmail-send program at mx.example.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        "<mei@isp.example>:\r\nmailbox is full\r\n",
    ),
    "mailer-daemon-without-a-domain": (
        """From: MAILER-DAEMON (Mail Delivery System)
        To: shop@pandan.example
        Subject: Warning: message delayed
        Message-ID: <md-1@mx.example>""",
        "Your message has not been delivered yet. It will be retried for 4 more days.",
    ),
    "newsletter-with-list-unsubscribe-only": (
        """From: Flour Supplies <sales@flour.example>
        To: shop@pandan.example
        Subject: 20% off this week
        List-Unsubscribe: <https://flour.example/u/91>
        Message-ID: <nl-1@flour.example>""",
        "Bread flour is 20% off this week.",
    ),
    "reply-to-no-reply": (
        """From: Orders <orders@marketplace.example>
        Reply-To: Do Not Reply <do-not-reply@marketplace.example>
        To: shop@pandan.example
        Subject: New order 55120
        Message-ID: <mk-1@marketplace.example>""",
        "You have a new order: 2 x pandan chiffon.",
    ),
    "auto-submitted-with-a-comment": (
        """From: Ravi <ravi@mail.example>
        To: shop@pandan.example
        Subject: Re: Your order
        Auto-Submitted: auto-replied (vacation)
        Message-ID: <as-1@mail.example>""",
        "I am away until Monday.",
    ),
    "x-precedence-bulk": (
        """From: Updates <updates@portal.example>
        To: shop@pandan.example
        Subject: Your monthly statement
        X-Precedence: bulk
        Message-ID: <xp-1@portal.example>""",
        "Your statement for March is ready.",
    ),
    "exchange-auto-response-suppress-all": (
        """From: Tan Ah Kow <ahkow.tan@corp.example>
        To: shop@pandan.example
        Subject: Away: Re: Catering quote
        X-Auto-Response-Suppress: All
        Message-ID: <ex-2@corp.example>""",
        "I am on leave and will reply when I am back.",
    ),
    "read-receipt-in-global-form": (
        """From: Tan Ah Kow <ahkow.tan@corp.example>
        To: shop@pandan.example
        Subject: Read: Catering quote
        Message-ID: <mdn-1@corp.example>""",
        "Reporting-UA: mail.corp.example\r\nDisposition: manual-action/MDN-sent-manually; "
        "displayed",
        "message/global-disposition-notification",
    ),
}


@pytest.mark.parametrize("raw", [mail(*case) for case in AUTOMATIC.values()], ids=list(AUTOMATIC))
def test_automatic_mail_is_never_answered(raw: bytes) -> None:
    parsed = parse_email(raw, own_addresses=[SHOP])
    assert parsed.skip_reason is not None, parsed
    assert parsed.skip_detail


@pytest.mark.parametrize(
    "local",
    [
        "postmaster", "post_master", "post-master", "Post.Master", "mailer-daemon", "mailer_daemon",
        "MAILER-DAEMON", "noreply", "no-reply", "no_reply", "No.Reply", "donotreply",
        "do-not-reply", "do_not_reply", "dontreply", "bounce", "bounces", "bounces+shop=pandan",
        "jobs-noreply", "alerts.no-reply", "noreply-dmarc-support", "cake-lovers-request",
        "cake-lovers-bounces",
    ],
)  # fmt: skip
def test_machine_mailboxes_however_spelt_are_never_answered(local: str) -> None:
    raw = mail(
        f"""From: Service <{local}@service.example>
        To: {SHOP}
        Subject: Your account
        Message-ID: <n-1@service.example>""",
        "Your account was updated.",
    )
    assert parse_email(raw).skip_reason in ("bounce", "notification")


def test_list_owner_mailbox_on_a_list_host_is_automatic() -> None:
    raw = mail(
        f"""From: cake-lovers-owner@lists.community.example
        To: {SHOP}
        Subject: Your subscription
        Message-ID: <o-1@lists.community.example>""",
        "Your subscription to cake-lovers is confirmed.",
    )
    assert parse_email(raw).skip_detail == "From: cake-lovers-owner@lists.community.example"


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "automatic").glob("*.eml")), ids=lambda p: p.stem
)
def test_recorded_automatic_mail_is_never_answered(path: Path) -> None:
    parsed = parse_email(path.read_bytes(), own_addresses=["hello@bakeshop.example.sg"])
    assert parsed.skip_reason in ("bounce", "complaint", "notification", "bulk", "auto_reply")


PEOPLE = {
    "a-customer-on-gmail": (
        """From: Mei Ling <meiling.tan@gmail.example>
        To: shop@pandan.example
        Subject: Do you deliver to Punggol?
        Message-ID: <c-1@gmail.example>""",
        "Hi, do you deliver to Punggol on Sunday? Thanks, Mei",
    ),
    "a-customer-who-mentions-no-reply-in-the-body": (
        """From: Raj <raj.kumar@outlook.example>
        To: shop@pandan.example
        Subject: Order confirmation never came
        Message-ID: <c-2@outlook.example>""",
        "Your no-reply@pandan.example confirmation never reached me. Order 1234, "
        "could you resend it to raj.kumar@outlook.example?",
    ),
    "a-reply-quoting-an-address": (
        """From: Aisyah <aisyah@yahoo.example>
        To: shop@pandan.example
        Subject: Re: Test
        In-Reply-To: <t-1@pandan.example>
        Message-ID: <c-3@yahoo.example>""",
        "Hello\r\n\r\nOn Mon, shop@pandan.example wrote:\r\n> Test\r\n> <shop@pandan.example>",
    ),
    "a-customer-whose-name-starts-like-a-machine": (
        """From: Nora Eply <nora.eply@mail.example>
        To: shop@pandan.example
        Subject: Birthday cake for 20 people
        Message-ID: <c-4@mail.example>""",
        "Can you make a pandan cake for 20 people this Saturday?",
    ),
    "a-shop-owner-on-hotmail": (
        """From: Kopi Corner <kopi-owner@hotmail.example>
        To: shop@pandan.example
        Subject: Wholesale kaya
        Message-ID: <c-5@hotmail.example>""",
        "Do you sell kaya wholesale? We need 10 jars a week.",
    ),
    "a-customer-named-like-a-bouncer": (
        """From: Bouncer Tan <bouncer.tan@mail.example>
        To: shop@pandan.example
        Subject: Opening hours
        Message-ID: <c-6@mail.example>""",
        "Are you open on Hari Raya?",
    ),
    "auto-submitted-no-with-a-comment": (
        """From: Farah <farah@mail.example>
        To: shop@pandan.example
        Subject: Delivery
        Auto-Submitted: no (written by a person)
        Message-ID: <c-7@mail.example>""",
        "Can you deliver to Tampines tomorrow?",
    ),
    "outlook-through-a-distribution-group": (
        """From: Tan Ah Kow <ahkow.tan@corp.example>
        To: shop@pandan.example
        Subject: Catering for 40 on Friday
        X-Auto-Response-Suppress: DR, OOF, AutoReply
        Message-ID: <c-8@corp.example>""",
        "We would like a quote for catering for 40 people this Friday.",
    ),
    "reply-to-a-person": (
        """From: Office <office@corp.example>
        Reply-To: Tan Ah Kow <ahkow.tan@corp.example>
        To: shop@pandan.example
        Subject: Invoice
        Message-ID: <c-9@corp.example>""",
        "Please send the invoice for last week's order.",
    ),
}


@pytest.mark.parametrize("raw", [mail(*case) for case in PEOPLE.values()], ids=list(PEOPLE))
def test_people_are_answered(raw: bytes) -> None:
    parsed = parse_email(raw, own_addresses=[SHOP])
    assert parsed.skip_reason is None, parsed.skip_detail
    assert parsed.text


def test_a_mail_forwarded_as_an_attachment_is_answered() -> None:
    raw = mail(
        f"""From: Mei Ling <meiling.tan@gmail.example>
        To: {SHOP}
        Subject: FW: Your order 1042 is confirmed
        Message-ID: <c-10@gmail.example>""",
        f"From: {SHOP}\r\nTo: meiling.tan@gmail.example\r\nSubject: Your order 1042 is "
        "confirmed\r\n\r\nYour order is confirmed for Saturday.",
        "message/rfc822",
    )
    parsed = parse_email(raw, own_addresses=[SHOP])
    assert (parsed.skip_reason, parsed.subject) == (None, "FW: Your order 1042 is confirmed")


def test_encoded_lines_a_lost_boundary_left_are_not_taken_as_words() -> None:
    encoded = base64.encodebytes(bytes(range(256)) * 8).decode()
    body = (
        "--real-boundary-never-declared\r\nContent-Type: application/zip\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
    )
    raw = mail(
        """From: Promo <promo@deals.example>
        To: shop@pandan.example
        Subject: Great offer
        Message-ID: <s-1@deals.example>""",
        body,
        content_type='multipart/mixed; boundary="declared-but-absent"',
    )
    parsed = parse_email(raw)
    assert parsed.text == "" and parsed.full_text == ""


def test_binary_junk_is_not_text() -> None:
    junk = "".join(chr(c) for c in range(1, 9)) * 40 + "\ufffd" * 50 + " ok"
    raw = mail(
        """From: Someone <someone@mail.example>
        To: shop@pandan.example
        Subject: photo
        Message-ID: <j-1@mail.example>""",
        junk,
    )
    assert parse_email(raw).text == ""


def test_a_long_word_in_a_customers_mail_stays() -> None:
    line = "Tracking 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, please check"
    raw = mail(
        """From: Mei <mei@mail.example>
        To: shop@pandan.example
        Subject: Where is my order?
        Message-ID: <w-1@mail.example>""",
        line,
    )
    assert "9f86d081" in parse_email(raw).text
