"""The report mail parsed back: its MIME structure, headers, chart, HTML and text content."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from PIL import Image

from bot.handoffs import MailIdentity
from bot.report.build import Report
from bot.report.chart import draw_chart
from bot.report.figures import Day, Figures
from bot.report.mail import compose_mail
from bot.report.period import Period
from bot.report.store import Suggestion
from bot.report.unanswered import QuestionGroup

SG = ZoneInfo("Asia/Singapore")
TOKEN = "0123456789abcdef0123456789abcdef"
IDENTITY = MailIdentity("shop@bakery.test", "Test Bakery")


def figures(start: datetime, conversations: list[int], resolved: list[int]) -> Figures:
    period = Period(start, start + timedelta(days=7), SG)
    days = tuple(
        Day(d, c, r) for d, c, r in zip(period.days(), conversations, resolved, strict=True)
    )
    return Figures(
        period=period,
        days=days,
        handoffs=(("asked_for_human", 3), ("keyword:refund", 1)),
        median_staff_answer=timedelta(minutes=95),
        rating_average=4.25,
        rating_count=4,
        comments=("Fast & friendly <3",),
        busiest_hours=((12, 40), (18, 22)),
        top_entries=(("opening-hours", 30), ("delivery-areas", 12)),
    )


def sample_report() -> Report:
    start = datetime(2026, 11, 30, tzinfo=SG)
    current = figures(start, [10, 12, 0, 8, 9, 20, 15], [7, 9, 0, 6, 6, 15, 12])
    previous = figures(start - timedelta(days=7), [5] * 7, [3] * 7)
    groups = (
        QuestionGroup(6, ("Do you deliver to Jurong?", "Delivery to Tampines?", "Deliver Sun?")),
        QuestionGroup(2, ("Is it halal?",)),
    )
    suggestions = (
        Suggestion(41, "Can I pay by PayNow?", "Yes, PayNow to UEN 201912345K.", 3),
        Suggestion(7, "Do you do custom cakes?", "Yes, order 3 days ahead.", 1),
    )
    return Report("Test Bakery", current, previous, groups, suggestions)


def parsed(report: Report) -> EmailMessage:
    """Compose, serialise and read back, as the owner's mail client would."""
    chart = draw_chart(report.current.days)
    raw = compose_mail(report, IDENTITY, "owner@bakery.test", TOKEN, chart).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_text_and_related_html_with_the_chart_inline() -> None:
    message = parsed(sample_report())
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    cid = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    png = image.get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as picture:
        picture.verify()
        assert picture.size == (600, 260)


def test_headers_name_the_report_for_replies() -> None:
    message = parsed(sample_report())
    assert message["Subject"] == "Weekly report: Test Bakery (30 Nov - 06 Dec 2026)"
    assert message["To"] == "owner@bakery.test"
    assert message["From"] == "Test Bakery <shop@bakery.test>"
    assert message["Reply-To"] == f"shop+r{TOKEN}@bakery.test"
    assert message["Message-ID"] == f"<report-{TOKEN}@bakery.test>"
    assert message["Auto-Submitted"] == "auto-generated"


def test_the_text_part_has_the_figures_groups_and_numbered_suggestions() -> None:
    body = parsed(sample_report()).get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Conversations                    74  |  35" in text
    assert "Answered by the bot alone        74% (55)  |  60% (21)" in text
    assert "Median time for staff to answer  1 h 35 min  |  1 h 35 min" in text
    assert "4.2 of 5 (4 ratings)" in text
    assert "- asked for a person: 3" in text and '- wrote "refund": 1' in text
    assert "- 12:00-13:00: 40" in text and "- opening-hours: 30" in text
    assert '- 6 x "Do you deliver to Jurong?"; "Delivery to Tampines?"; "Deliver Sun?"' in text
    assert "1. Q (3 times): Can I pay by PayNow?" in text
    assert "2. Q (once): Do you do custom cakes?" in text
    assert '"approve 1 3"' in text and '"edit 2: <better answer>"' in text
    assert '"reject 4"' in text


def test_the_html_part_is_mail_client_safe_and_escaped() -> None:
    body = parsed(sample_report()).get_body(("html",))
    assert body is not None
    html = body.get_content()
    assert "class=" not in html and "<style" not in html
    assert 'width="600"' in html and "max-width:100%" in html
    assert "Fast &amp; friendly &lt;3" in html  # customers' words never become markup
    assert "<b>1.</b> Can I pay by PayNow?" in html
    assert "approve 1 3" in html


def test_without_a_chart_there_is_no_image_and_no_cid() -> None:
    raw = compose_mail(sample_report(), IDENTITY, "owner@bakery.test", TOKEN, None).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert "cid:" not in message.as_string()
