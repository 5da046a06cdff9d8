"""The report mail: text and HTML alternatives, the chart as a related inline PNG."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from bot.handoffs import MailIdentity
from bot.report import wording
from bot.report.build import Report
from bot.report.html_part import render_html
from bot.report.text import render_text


def compose_mail(
    report: Report, identity: MailIdentity, to: str, token: str, chart: bytes | None
) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related (text/html, image/png).

    Replies go to the report's own address and cite its Message-ID, both carrying `token`,
    which is how a reply is matched to the report (and its numbered suggestions).
    """
    message = EmailMessage()
    message["Subject"] = wording.subject(report)
    message["From"] = formataddr((identity.name, identity.address))
    message["To"] = to
    message["Reply-To"] = identity.report_reply_address(token)
    message["Message-ID"] = identity.report_id(token)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(report))
    cid = make_msgid("chart", domain=identity.domain or "localhost")[1:-1] if chart else None
    message.add_alternative(render_html(report, cid), subtype="html")
    if chart is not None and cid is not None:
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(chart, maintype="image", subtype="png", cid=f"<{cid}>")
    return message
