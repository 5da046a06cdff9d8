"""Raw emails (tests/fixtures/email/*.eml, written for these tests) to ParsedEmail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import PayloadError
from channels.email.parsing import ParsedEmail, decode_bytes, decode_header, parse_email
from channels.email.quotes import extract_reply, html_to_text, strip_quotes, strip_signature
from core.messages import Attachment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
SHOP = "hello@bakeshop.example.sg"
SGT = timezone(timedelta(hours=8))


def load(name: str) -> ParsedEmail:
    return parse_email((FIXTURES / f"{name}.eml").read_bytes(), own_addresses=[SHOP.upper()])


def mail(headers: str, body: str = "Hello\n", sender: str = "Ann <ann@example.com>") -> bytes:
    return f"From: {sender}\nTo: {SHOP}\n{headers}\n\n{body}".lstrip("\n").encode()


def test_envelope_fields() -> None:
    parsed = load("outlook_reply")
    assert parsed.message_id == "<fixture-outlook_reply@example.com>"
    assert parsed.in_reply_to == "<order-1042@bakeshop.example.sg>"
    assert parsed.references == (
        "<order-1041@bakeshop.example.sg>",
        "<order-1042@bakeshop.example.sg>",
    )
    assert parsed.sender == "meiling.tan@example.com"
    assert parsed.sender_name == "Mei Ling Tan"
    assert parsed.recipients == (SHOP,)
    assert parsed.subject == "RE: Your order #1042"
    assert parsed.date == datetime(2024, 2, 5, 10, 15, tzinfo=SGT)
    assert parsed.attachments == ()
    assert parsed.skip_reason is None
    assert parsed.skip_detail is None


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("gb2312", "请问周日营业吗", "你好，请问周日营业吗？我是王喆，想订一个榴莲蛋糕。"),
        ("big5", "星期日有營業嗎", "請問星期日有營業嗎？我想訂兩個蛋糕。"),
        (
            "latin1",
            "Réservation",
            "Bonjour, je voudrais réserver une table pour deux à 19h, s'il vous plaît.",
        ),
        ("windows1252", "Price question", "Is the “Family Set” still €25 – or has it gone up?"),
        ("mislabeled", "Order", "您好，我昨天在网上订了两个蛋糕，请问什么时候可以送到？谢谢！"),
        ("mislabeled_latin1", "Order", "Can I pick up the crème brûlée cake at 3pm?"),
        ("rfc2047", "Pandan cake 🎂 order for Friday", "Can I order a pandan cake for Friday?"),
        ("broken_boundary", "Broken", "Is the shop open today?"),
    ],
)
def test_charsets_and_broken_mime(name: str, subject: str, text: str) -> None:
    parsed = load(name)
    assert (parsed.subject, parsed.text, parsed.full_text) == (subject, text, text)
    assert parsed.skip_reason is None


def test_malformed_encoded_word_is_kept_as_written() -> None:
    parsed = load("rfc2047")
    assert parsed.sender == "buyer@example.com"
    assert parsed.sender_name == "=?utf-8?B?broken!!?="


def test_html_only_becomes_clean_text() -> None:
    assert load("html_only").text == (
        "Hi there,\n\nAre you open on Hari Raya?\n"
        "I saw your opening hours page but it's unclear.\nSaturday\nSunday\nOutlet Tampines"
    )


def test_alternative_prefers_plain_then_html() -> None:
    assert load("alternative").text == "Do you deliver to Punggol? (plain version)"
    assert load("alternative_empty_plain").text == "Do you deliver to Sengkang?"


def test_attachments_and_inline_images_are_recorded() -> None:
    parsed = load("attachment")
    assert parsed.text == "Please see the invoice attached and the photo below."
    assert parsed.attachments == (
        Attachment("image", None, "image/jpeg"),
        Attachment("document", "发票-2024.pdf", "application/pdf"),
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("outlook_reply", "Hi,\n\nCan I change the pickup time to 5pm instead?"),
        ("gmail_reply", "Thanks! Is there parking near the Tampines outlet?"),
        ("chinese_reply", "好的，那我星期五下午来拿，可以吗？"),
        ("signature", "Do you deliver to Jurong West?\nWe need 30 boxes for an office event."),
    ],
)
def test_replies_keep_only_the_new_text(name: str, text: str) -> None:
    parsed = load(name)
    assert parsed.text == text
    assert parsed.full_text.startswith(text)
    assert len(parsed.full_text) > len(text)


@pytest.mark.parametrize(
    ("name", "reason", "detail"),
    [
        ("auto_submitted", "auto_reply", "Auto-Submitted: auto-replied"),
        ("vacation_subject", "auto_reply", "Subject: Out of Office: Re: Your order #1042"),
        ("bounce", "bounce", "Content-Type: multipart/report; report-type=delivery-status"),
        ("list_id", "bulk", "List-Id: Home Bakers <bakers.lists.example.org>"),
        ("own_address", "own_address", f"From: {SHOP}"),
    ],
)
def test_automatic_mail_is_classified(name: str, reason: str, detail: str) -> None:
    parsed = load(name)
    assert (parsed.skip_reason, parsed.skip_detail) == (reason, detail)


def test_bounce_fields() -> None:
    parsed = load("bounce")
    assert parsed.sender == "mailer-daemon@mx.example.net"
    assert parsed.sender_name == "Mail Delivery System"
    assert parsed.attachments == (Attachment("email", None, "message/rfc822"),)
    assert "could not be delivered" in parsed.text


@pytest.mark.parametrize(
    ("headers", "reason", "detail"),
    [
        ("Auto-Submitted: auto-generated", "auto_reply", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: no\nSubject: Hi", None, None),
        ("X-Autoreply: yes", "auto_reply", "X-Autoreply: yes"),
        ("X-Autorespond: on", "auto_reply", "X-Autorespond: on"),
        ("X-Auto-Response-Suppress: All", "auto_reply", "X-Auto-Response-Suppress: All"),
        ("X-Auto-Response-Suppress: DR, RN", None, None),
        ("Subject: Automatic reply: Order", "auto_reply", "Subject: Automatic reply: Order"),
        ("Subject: 自动回复: 订单", "auto_reply", "Subject: 自动回复: 订单"),
        ("Subject: Autoreply", "auto_reply", "Subject: Autoreply"),
        ("Subject: Out of office hours delivery?", None, None),
        ("Precedence: bulk", "bulk", "Precedence: bulk"),
        ("Precedence: junk", "bulk", "Precedence: junk"),
        ("List-Unsubscribe: <mailto:x@x.org>", "bulk", "List-Unsubscribe: <mailto:x@x.org>"),
        ("X-Failed-Recipients: bob@example.net", "bounce", "X-Failed-Recipients: bob@example.net"),
        (
            "Content-Type: message/delivery-status",
            "bounce",
            "Content-Type: message/delivery-status; report-type=none",
        ),
        (
            "Content-Type: multipart/report; report-type=feedback-report; boundary=b",
            "complaint",
            "Content-Type: multipart/report; report-type=feedback-report",
        ),
        (
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=b",
            "auto_reply",
            "Content-Type: multipart/report; report-type=disposition-notification",
        ),
        ("Return-Path: <>", "bounce", "Return-Path: <>"),
    ],
)  # fmt: skip
def test_classification_headers(headers: str, reason: str | None, detail: str | None) -> None:
    parsed = parse_email(mail(headers))
    assert (parsed.skip_reason, parsed.skip_detail) == (reason, detail)


def test_postmaster_sender_is_a_bounce() -> None:
    parsed = parse_email(mail("Subject: Hi", sender="Postmaster <POSTMASTER@example.net>"))
    assert (parsed.skip_reason, parsed.skip_detail) == ("bounce", "From: postmaster@example.net")


def test_bounce_without_from_is_still_classified() -> None:
    parsed = parse_email(b"Content-Type: message/delivery-status\n\nAction: failed\n")
    assert (parsed.sender, parsed.skip_reason) == ("", "bounce")


@pytest.mark.parametrize(
    "raw", [b"", b"  \r\n", b"Subject: no sender\n\nHello\n", b"just some text", b"\x00\xff\xfe"]
)
def test_not_an_email(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_email(raw)


def test_recipients_merge_to_cc_and_delivered_to() -> None:
    raw = mail(
        'Cc: "Lee, Ken" <KEN@example.com>, ann@example.com\nDelivered-To: Sales@Example.com\n'
        "Date: Mon, 05 Feb 2024 02:15:00 -0000\nMessage-ID: no-brackets@example.com"
    )
    parsed = parse_email(raw)
    assert parsed.recipients == (SHOP, "ken@example.com", "ann@example.com", "sales@example.com")
    assert parsed.date == datetime(2024, 2, 5, 2, 15, tzinfo=UTC)
    assert parsed.message_id == "no-brackets@example.com"


def test_unparseable_date_is_none() -> None:
    assert parse_email(mail("Date: someday soon")).date is None


def test_raw_utf8_and_gbk_headers() -> None:
    raw = (
        "From: 陈小姐 <chen@example.com>\nTo: hello@bakeshop.example.sg\nSubject: ".encode()
        + "蛋糕订单".encode("gb18030")
        + b"\nContent-Type: text/plain; charset=gbk\n\n"
        + "请问有无糖蛋糕吗？".encode("gb18030")
    )
    parsed = parse_email(raw)
    assert (parsed.sender_name, parsed.subject, parsed.text) == (
        "陈小姐",
        "蛋糕订单",
        "请问有无糖蛋糕吗？",
    )


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("你好".encode("gb18030"), "GB2312", "你好"),
        ("Café".encode(), "iso-8859-1", "Café"),
        ("Café".encode("latin-1"), None, "Café"),
        (b"caf\xe9", "us-ascii", "café"),
        ("ok".encode("utf-16"), "utf-16", "ok"),
        (b"plain", "no-such-charset", "plain"),
        (b"\\u0041", "unicode_escape", "\\u0041"),
        ("你好".encode("gb18030"), None, "你好"),
        ("你好".encode("big5"), "utf-8", "你好"),
        ("สวัสดีครับ ขอสั่งเค้กหนึ่งก้อนครับ".encode("cp874"), None, "สวัสดีครับ ขอสั่งเค้กหนึ่งก้อนครับ"),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, text: str) -> None:
    assert decode_bytes(data, charset) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=?utf-8?Q?Hello?= world =?utf-8?Q?again?=", "Hello world again"),
        ("=?gb2312?B?xOO6ww==?=", "你好"),
        ("=?utf-8?B?invalid!?=", "=?utf-8?B?invalid!?="),
        ("=?x-unknown?Q?abc?=", "abc"),
        ("  folded\t  value ", "folded value"),
        ("=?utf-8?Q?Path?= C:\\users\\x", "Path C:\\users\\x"),
    ],
)
def test_decode_header(value: str, text: str) -> None:
    assert decode_header(value) == text


def test_html_to_text_quotes_blockquotes_and_drops_comments() -> None:
    html = (
        "<div>Yes please<!-- hidden --></div><div class=gmail_quote>On Mon, Ann wrote:"
        "<blockquote><p>Do you want <a href='https://x.example'>the menu</a>?</p>"
        "<blockquote>older</blockquote></blockquote></div><pre>a\n  b</pre>"
    )
    assert html_to_text(html) == (
        "Yes please\nOn Mon, Ann wrote:\n> Do you want the menu?\n\n> > older\na\nb"
    )
    assert extract_reply(html_to_text(html)) == "Yes please"


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("On 04/02/2012 06:26 PM, Ann wrote:\n> Hi\nHello", "Hello"),  # bottom posting
        ("Hello\n\nOn Tue, Ann wrote:\nHi (quoted without >)", "Hello"),
        ("---------- Forwarded message ---------\nFrom: A <a@x.com>\nDate: Mon\n"
         "Subject: Menu\nTo: b@x.com\n\nWhat is on the menu?", "What is on the menu?"),
        ("Please see below.\n\nBegin forwarded message:\n\nFrom: A\nOld text", "Please see below."),
        ("可以改到下午吗？\n\n------------------ 原始邮件 ------------------\n发件人: \"Shop\"\n"
         "发送时间: 2024年2月5日\n收件人: \"me\"\n主题: 订单\n\n已确认", "可以改到下午吗？"),
        ("好的\n\n发件人: Shop <s@x.sg>\n发送时间: 2024年2月5日 9:00\n收件人: me\n主题: 订单\n旧",
         "好的"),
        ("Ja\n\nAm 05.02.2024 um 09:00 schrieb Shop <s@x.sg>:\n> Alt", "Ja"),
        ("Hi\n\n2024-02-05 9:00 GMT+08:00 Shop <s@x.sg>:\n> old", "Hi"),
        ("Hotmail\n\n> Subject: Test\n> From: a@x.com\n>\n> Hi", "Hotmail"),
        ("On Monday I ordered a cake. Can I change it?",
         "On Monday I ordered a cake. Can I change it?"),
        ("> only a quote", ""),
        ("From: Tampines\nTo: Jurong\nDate: 5 Feb\nCan you move 3 boxes?",
         "From: Tampines\nTo: Jurong\nDate: 5 Feb\nCan you move 3 boxes?"),
    ],
)  # fmt: skip
def test_strip_quotes(body: str, reply: str) -> None:
    assert strip_quotes(body) == reply


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("Is it halal?\n\nThanks,\nAlex", "Is it halal?"),
        ("Is it halal?\n\nBest regards,\nAlex Tan\nTan Pte Ltd\n+65 6000 0000", "Is it halal?"),
        ("Is it halal?\n\nSent from my iPhone", "Is it halal?"),
        ("Is it halal?\n\n发自我的iPhone", "Is it halal?"),
        ("Is it halal?\n--\nAlex", "Is it halal?"),
        ("Thanks!", "Thanks!"),
        ("Thanks,\nCan you also tell me if it is halal?",
         "Thanks,\nCan you also tell me if it is halal?"),
        ("Order ok.\n\nThanks,\nAlso, do you deliver?",
         "Order ok.\n\nThanks,\nAlso, do you deliver?"),
        ("Order ok.\n\nRegards,\n" + "x" * 90, "Order ok.\n\nRegards,\n" + "x" * 90),
        ("Cake A\n--\nCake B: how much?", "Cake A\n--\nCake B: how much?"),
        ("Hi\n\n-- \nAlex\nhttps://shop.example.sg/?ref=sig", "Hi"),
        ("Hi\n\nthanks for the quick reply, what time do you close?",
         "Hi\n\nthanks for the quick reply, what time do you close?"),
    ],
)  # fmt: skip
def test_strip_signature_is_conservative(body: str, reply: str) -> None:
    assert strip_signature(body) == reply


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda head, body: head + b"\r\n\r\n" + body,
            st.sampled_from(
                [
                    b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x",
                    b"From: =?utf-8?B?@@?= <a@b.c>\r\nSubject: =?gb2312?Q?=FF=FE?=",
                    b"From: a@b.c\r\nContent-Type: text/html; charset=bogus",
                    b"From: a@b.c\r\nSubject: =?utf-8?q?a?= \\u12 =?utf-8?b?5L2g?=",
                    b"From: <>\r\nContent-Type: message/rfc822",
                    b"Content-Type: multipart/report; report-type=delivery-status; boundary=",
                ]
            ),
            st.binary(max_size=400),
        ),
    )
)
def test_arbitrary_bytes_raise_only_payload_error(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except PayloadError:
        return
    assert parsed.sender or parsed.skip_reason
