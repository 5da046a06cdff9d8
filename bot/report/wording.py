"""How the report words its figures, shared by the mail (text and HTML) and `bot report`."""

from __future__ import annotations

from datetime import timedelta

from bot.report.build import Report
from bot.report.figures import Figures

_REASONS = {
    "asked_for_human": "asked for a person",
    "no_answer_twice": "the bot could not answer, twice",
    "complaint": "a complaint",
    "angry_tone": "sounded upset",
}
INSTRUCTIONS = (
    'Reply to this email to decide: "approve 1 3" adds suggestions 1 and 3 to what the bot '
    'knows, "edit 2: <better answer>" adds number 2 with your answer instead, "reject 4" drops '
    "it. Nothing is added without your approval."
)
NO_DATA = "-"
GROUPS_SHOWN = 10
"""Unanswered groups listed; the rest are only counted."""


def subject(report: Report) -> str:
    """'Weekly report: Test Bakery (23 Nov - 29 Nov 2026)'."""
    return f"Weekly report: {report.business} ({report.current.period.label()})"


def percent(rate: float | None) -> str:
    """0.753 as '75%'; no rate as '-'."""
    return NO_DATA if rate is None else f"{100 * rate:.0f}%"


def duration(span: timedelta | None) -> str:
    """A staff answer time as '45 min', '3 h 05 min' or '2 d 4 h'."""
    if span is None:
        return NO_DATA
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} d {minutes % (24 * 60) // 60} h"


def rating(figures: Figures) -> str:
    """'4.3 of 5 (12 ratings)', or '-' without ratings."""
    if not figures.rating_count or figures.rating_average is None:
        return NO_DATA
    plural = "" if figures.rating_count == 1 else "s"
    return f"{figures.rating_average:.1f} of 5 ({figures.rating_count} rating{plural})"


def reason(trigger: str) -> str:
    """A handoff trigger in words: 'keyword:refund' as 'wrote "refund"'."""
    if trigger.startswith("keyword:"):
        return f'wrote "{trigger.removeprefix("keyword:")}"'
    return _REASONS.get(trigger, trigger.replace("_", " "))


def hour_span(hour: int) -> str:
    """14 as '14:00-15:00'."""
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"


def summary_rows(report: Report) -> list[tuple[str, str, str]]:
    """(figure, this period, the period before) for the headline table."""
    now, before = report.current, report.previous
    return [
        ("Conversations", str(now.conversations), str(before.conversations)),
        (
            "Answered by the bot alone",
            f"{percent(now.resolution_rate)} ({now.resolved})",
            f"{percent(before.resolution_rate)} ({before.resolved})",
        ),
        ("Handed over to staff", str(now.handed_over), str(before.handed_over)),
        (
            "Median time for staff to answer",
            duration(now.median_staff_answer),
            duration(before.median_staff_answer),
        ),
        ("Customer rating", rating(now), rating(before)),
    ]


def column_names(report: Report) -> tuple[str, str, str]:
    """The headline table's header: the two periods' dates."""
    return ("", report.current.period.label(), report.previous.period.label())
