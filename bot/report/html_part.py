"""The report as HTML for mail clients: tables with inline styles, 600 px wide, the chart by cid."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.report import wording as w
from bot.report.build import Report
from bot.report.chart import HEIGHT_PX, WIDTH_PX

# Gmail drops <style> blocks in some views and Outlook ignores most CSS: everything is inline,
# the layout is one fixed-width table, and no class names are used.
_FONT = "font-family:Arial,Helvetica,sans-serif;color:#222222;"
_CELL = "padding:6px 8px;border-bottom:1px solid #e5e5e5;font-size:14px;" + _FONT
_HEAD = "padding:6px 8px;border-bottom:2px solid #cccccc;font-size:13px;" + _FONT
_H2 = "margin:24px 0 8px 0;font-size:17px;" + _FONT
_P = "margin:0 0 8px 0;font-size:14px;line-height:20px;" + _FONT


def render_html(report: Report, chart_cid: str | None) -> str:
    """The whole HTML document; `chart_cid` is the PNG part's Content-ID without brackets."""
    blocks = [
        f'<h1 style="margin:0 0 16px 0;font-size:20px;{_FONT}">{escape(w.subject(report))}</h1>',
        _table(w.column_names(report), w.summary_rows(report), numbers=(1, 2)),
        _chart(chart_cid),
        _details(report),
        _groups(report),
        _suggestions(report),
    ]
    body = "\n".join(b for b in blocks if b)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width"></head>'
        '<body style="margin:0;padding:0;background:#ffffff;">'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"'
        ' align="center" style="width:600px;max-width:100%;border-collapse:collapse;">'
        f'<tr><td style="padding:16px;{_FONT}">\n{body}\n</td></tr></table></body></html>'
    )


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str | int]], numbers: Sequence[int] = (1,)
) -> str:
    """A full-width data table; the columns in `numbers` right-aligned, words left."""

    def cell(tag: str, style: str, n: int, value: str | int) -> str:
        align = "right" if n in numbers else "left"
        return f'<{tag} style="{style}text-align:{align};">{escape(str(value))}</{tag}>'

    head = "".join(cell("th", _HEAD, n, h) for n, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", _CELL, n, v) for n, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        f' style="width:100%;border-collapse:collapse;"><tr>{head}</tr>{body}</table>'
    )


def _chart(cid: str | None) -> str:
    """The inline chart, scaled down on narrow screens."""
    if cid is None:
        return ""
    return (
        f'<h2 style="{_H2}">Conversations and answers per day</h2>'
        f'<img src="cid:{escape(cid)}" width="{WIDTH_PX}" height="{HEIGHT_PX}"'
        ' alt="Bars: conversations per day. Line: share answered by the bot alone."'
        ' style="display:block;width:100%;max-width:600px;height:auto;border:0;">'
    )


def _details(report: Report) -> str:
    """Handoff reasons, busiest hours, most used answers, rating comments."""
    f = report.current
    parts = []
    if f.handoffs:
        rows = [(w.reason(t), n) for t, n in f.handoffs]
        parts += [f'<h2 style="{_H2}">Handed over, and why</h2>', _table(("Reason", ""), rows)]
    if f.busiest_hours:
        rows = [(w.hour_span(h), n) for h, n in f.busiest_hours]
        parts += [f'<h2 style="{_H2}">Busiest hours</h2>', _table(("Time", "Messages"), rows)]
    if f.top_entries:
        parts += [
            f'<h2 style="{_H2}">Most used answers</h2>',
            _table(("Knowledge entry", "Answers"), f.top_entries),
        ]
    if f.comments:
        items = "".join(f'<p style="{_P}">&ldquo;{escape(c)}&rdquo;</p>' for c in f.comments)
        parts += [f'<h2 style="{_H2}">Customers&rsquo; comments</h2>', items]
    return "\n".join(parts)


def _groups(report: Report) -> str:
    """Unanswered questions grouped by meaning, largest first."""
    title = f'<h2 style="{_H2}">Questions the bot could not answer</h2>'
    if not report.groups:
        return title + f'<p style="{_P}">None this period.</p>'
    rows = [(g.size, " / ".join(g.examples)) for g in report.groups[: w.GROUPS_SHOWN]]
    more = len(report.groups) - w.GROUPS_SHOWN
    note = f'<p style="{_P}">And {more} smaller groups.</p>' if more > 0 else ""
    return title + _table(("Times", "For example"), rows, numbers=(0,)) + note


def _suggestions(report: Report) -> str:
    """The numbered suggestions and how to approve them by replying."""
    title = f'<h2 style="{_H2}">Suggested answers, from your staff&rsquo;s replies</h2>'
    if not report.suggestions:
        return title + f'<p style="{_P}">None waiting for you.</p>'
    items = "".join(
        f'<p style="{_P}"><b>{n}.</b> {escape(s.question)} '
        f'<span style="color:#666666;">(asked {s.times}x)</span><br>'
        f"{escape(s.answer)}</p>"
        for n, s in enumerate(report.suggestions, start=1)
    )
    return title + items + f'<p style="{_P}"><b>{escape(w.INSTRUCTIONS)}</b></p>'
