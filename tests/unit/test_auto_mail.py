"""Automatic mail of every class is never answered; people's mail, however odd, still is."""

from __future__ import annotations

import base64

import pytest

from channels.email_parsing import parse_email


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
}


@pytest.mark.parametrize("raw", [mail(*case) for case in AUTOMATIC.values()], ids=list(AUTOMATIC))
def test_automatic_mail_is_never_answered(raw: bytes) -> None:
    parsed = parse_email(raw, own_addresses=["shop@pandan.example"])
    assert parsed.skip_reason is not None, parsed
    assert parsed.skip_detail


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
}


@pytest.mark.parametrize("raw", [mail(*case) for case in PEOPLE.values()], ids=list(PEOPLE))
def test_people_are_answered(raw: bytes) -> None:
    parsed = parse_email(raw, own_addresses=["shop@pandan.example"])
    assert parsed.skip_reason is None, parsed.skip_detail
    assert parsed.text


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
