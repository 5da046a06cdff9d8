"""Report periods: the week before a report, the span `bot report --since` asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_SPAN = re.compile(r"(\d+)\s*([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time [start, end) and the business's zone, for per-day figures."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    def previous(self) -> Period:
        """The span of the same length just before this one."""
        return Period(self.start - (self.end - self.start), self.start, self.zone)

    def days(self) -> list[date]:
        """Every local date the period touches, in order."""
        first = self.start.astimezone(self.zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(self.zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def label(self) -> str:
        """'23 Nov - 29 Nov 2026' in local dates (the end is exclusive)."""
        days = self.days()
        return f"{days[0]:%d %b} - {days[-1]:%d %b %Y}"


def week_before(now: datetime, zone: ZoneInfo) -> Period:
    """The seven whole local days before the day of `now` (a report sent Monday covers the
    week from the Monday before to Sunday)."""
    today = now.astimezone(zone).date()
    end = datetime.combine(today, time(0), zone)
    return Period(datetime.combine(today - timedelta(days=7), time(0), zone), end, zone)


def since(span: str, now: datetime, zone: ZoneInfo) -> Period:
    """'7d', '24h' or '2w' back from `now`; ValueError for anything else."""
    match = _SPAN.fullmatch(span.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"expected a span such as 7d, 24h or 2w, not {span!r}")
    return Period(now - int(match.group(1)) * _UNITS[match.group(2)], now, zone)


def iso_week(now: datetime, zone: ZoneInfo) -> str:
    """The local ISO week of `now`, e.g. '2026-W49': the once-a-week claim's slot."""
    year, week, _ = now.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
