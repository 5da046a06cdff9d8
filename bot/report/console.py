"""The report as rich tables in a terminal, for `bot report`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.report import wording as w
from bot.report.build import Report
from bot.report.figures import Figures


def print_report(report: Report, console: Console) -> None:
    """Headline figures, details, per-day figures, unanswered groups and suggestions.

    Customers' and staff's words go in as Text, never as markup: "[phone]" stays visible.
    """
    header = w.column_names(report)
    summary = Table(title=Text(w.subject(report).removeprefix("Weekly report: ")))
    summary.add_column("Figure")
    summary.add_column(header[1], justify="right")
    summary.add_column(header[2], justify="right")
    for row in w.summary_rows(report):
        summary.add_row(*map(Text, row))
    console.print(summary)
    for table in _details(report.current):
        console.print(table)
    console.print(_groups(report))
    if report.suggestions:
        console.print(_suggestions(report))


def _details(f: Figures) -> list[Table]:
    """Per-day figures, then the tables that have rows this period."""
    days = _table("Per day", ("Day", "Conversations", "Answered by the bot alone"))
    for day in f.days:
        days.add_row(f"{day.day:%a %d %b}", str(day.conversations), w.percent(day.resolution_rate))
    tables = [days]
    listings: list[tuple[str, tuple[str, ...], list[tuple[str | int, ...]]]] = [
        ("Handed over, and why", ("Reason", "Handoffs"), [(w.reason(t), n) for t, n in f.handoffs]),
        ("Busiest hours", ("Time", "Messages"), [(w.hour_span(h), n) for h, n in f.busiest_hours]),
        ("Most used answers", ("Knowledge entry", "Answers"), list(f.top_entries)),
        ("Customers' comments", ("Comment",), [(c,) for c in f.comments]),
    ]
    for title, columns, rows in listings:
        if rows:
            table = _table(title, columns)
            for row in rows:
                table.add_row(*(Text(str(cell)) for cell in row))
            tables.append(table)
    return tables


def _groups(report: Report) -> Table:
    """Unanswered questions grouped by meaning (the largest groups)."""
    table = _table("Questions the bot could not answer", ("Times", "For example"))
    for group in report.groups[: w.GROUPS_SHOWN]:
        table.add_row(str(group.size), Text("\n".join(group.examples)))
    if len(report.groups) > w.GROUPS_SHOWN:
        table.caption = f"and {len(report.groups) - w.GROUPS_SHOWN} smaller groups"
    return table


def _suggestions(report: Report) -> Table:
    """Pending suggested answers (decide with `bot kb suggestions` or by replying to a report)."""
    table = _table("Suggested answers waiting", ("Id", "Asked", "Question", "Answer"))
    for s in report.suggestions:
        table.add_row(str(s.id), str(s.times), Text(s.question), Text(s.answer))
    return table


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """A titled table; columns of numbers right-aligned, columns of words left-aligned."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in _WORDS else "right")
    return table


_WORDS = {
    "Day",
    "Reason",
    "Time",
    "Knowledge entry",
    "Comment",
    "For example",
    "Question",
    "Answer",
}
