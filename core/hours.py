"""Weekly business hours: parsing the schedule text the business configures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from itertools import pairwise

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """The schedule text cannot be understood; the message says where."""


@dataclass(frozen=True, slots=True)
class Period:
    """One opening period within a day, start inclusive, end exclusive."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Opening periods per weekday, Monday first."""

    days: tuple[tuple[Period, ...], ...]

    def periods_on(self, weekday: int) -> tuple[Period, ...]:
        """Return the periods for a weekday (0 = Monday)."""
        return self.days[weekday]

    def describe(self) -> str:
        """Render the schedule back in the configuration syntax."""
        parts = []
        for name, periods in zip(DAY_NAMES, self.days, strict=True):
            text = ",".join(f"{p.start:%H:%M}-{_end_text(p.end)}" for p in periods) or "closed"
            parts.append(f"{name} {text}")
        return "; ".join(parts)


def _end_text(end: time) -> str:
    """Write an end time; the end of the day is 24:00."""
    return "24:00" if end == time.max else f"{end:%H:%M}"


def parse_schedule(text: str) -> WeeklySchedule:
    """Parse 'mon-fri 09:00-12:30,13:30-18:00; sat 10:00-14:00; sun closed'.

    Days not mentioned are closed. A day mentioned twice is an error, so a typo
    cannot silently override an earlier line.
    """
    days: list[tuple[Period, ...] | None] = [None] * 7
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        head, _, rest = clause.partition(" ")
        indices = _parse_days(head.lower())
        periods = _parse_periods(rest.strip())
        for index in indices:
            if days[index] is not None:
                raise ScheduleError(f"{DAY_NAMES[index]} is given more than once")
            days[index] = periods
    if all(d is None for d in days):
        raise ScheduleError("no days given")
    return WeeklySchedule(tuple(d or () for d in days))


def _parse_days(head: str) -> list[int]:
    """Turn 'mon', 'mon-fri' or 'sat,sun' into weekday indices."""
    indices: list[int] = []
    for part in head.split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ScheduleError(f"unknown day {part!r}; use mon, tue, wed, thu, fri, sat, sun")
        start = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if last else start
        if end < start:
            raise ScheduleError(f"day range {part!r} runs backwards")
        indices.extend(range(start, end + 1))
    return indices


def _parse_periods(text: str) -> tuple[Period, ...]:
    """Turn '09:00-12:30,13:30-18:00' or 'closed' into ordered, non-overlapping periods."""
    if text.lower() == "closed":
        return ()
    periods: list[Period] = []
    for raw in text.split(","):
        match = _PERIOD.match(raw.strip())
        if not match:
            raise ScheduleError(f"period {raw.strip()!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ScheduleError(f"period {raw.strip()!r} has an impossible time")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ScheduleError(f"period {raw.strip()!r} ends before it starts")
        periods.append(Period(start, end))
    periods.sort(key=lambda p: p.start)
    for earlier, later in pairwise(periods):
        if later.start < earlier.end:
            raise ScheduleError(f"periods {earlier.start:%H:%M} and {later.start:%H:%M} overlap")
    return tuple(periods)
