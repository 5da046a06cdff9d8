"""The report as plain text: the mail's text/plain part."""

from __future__ import annotations

from bot.report import wording as w
from bot.report.build import Report


def render_text(report: Report) -> str:
    """Every section of the report, in the order of the HTML part."""
    sections = [
        w.subject(report),
        _summary(report),
        _details(report),
        _groups(report),
        _suggestions(report),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _summary(report: Report) -> str:
    """The headline figures, this period against the one before."""
    header, *rows = [w.column_names(report), *w.summary_rows(report)]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':{width}}{header[1]}  |  {header[2]}"]
    lines += [f"{name:{width}}{now}  |  {before}" for name, now, before in rows]
    return "\n".join(lines)


def _details(report: Report) -> str:
    """Handoff reasons, busiest hours, top answered entries and rating comments."""
    f = report.current
    parts = []
    if f.handoffs:
        parts.append(_listing("Handed over, and why:", [(w.reason(t), n) for t, n in f.handoffs]))
    if f.busiest_hours:
        hours = [(w.hour_span(h), n) for h, n in f.busiest_hours]
        parts.append(_listing("Busiest hours (customer messages):", hours))
    if f.top_entries:
        parts.append(_listing("Most used answers (knowledge entries):", list(f.top_entries)))
    if f.comments:
        parts.append("Customers' comments:\n" + "\n".join(f'- "{c}"' for c in f.comments))
    return "\n\n".join(parts)


def _listing(title: str, items: list[tuple[str, int]]) -> str:
    """A titled list of '- name: count' lines."""
    return title + "\n" + "\n".join(f"- {name}: {count}" for name, count in items)


def _groups(report: Report) -> str:
    """Unanswered questions, one group per line with its examples."""
    if not report.groups:
        return "Questions the bot could not answer: none."
    lines = ["Questions the bot could not answer, grouped by meaning:"]
    for group in report.groups[: w.GROUPS_SHOWN]:
        examples = "; ".join(f'"{e}"' for e in group.examples)
        lines.append(f"- {group.size} x {examples}")
    if len(report.groups) > w.GROUPS_SHOWN:
        lines.append(f"- and {len(report.groups) - w.GROUPS_SHOWN} smaller groups")
    return "\n".join(lines)


def _suggestions(report: Report) -> str:
    """The numbered suggestions and how to approve them by replying."""
    if not report.suggestions:
        return "No suggested answers are waiting for you."
    lines = ["Suggested answers, from your staff's replies:"]
    for number, s in enumerate(report.suggestions, start=1):
        asked = "once" if s.times == 1 else f"{s.times} times"
        lines += [f"{number}. Q ({asked}): {s.question}", f"   A: {s.answer}"]
    return "\n".join([*lines, "", w.INSTRUCTIONS])
