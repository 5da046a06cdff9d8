"""Business calendar: weekly hours minus public holidays and configured closures, in one zone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from core.hours import Period, ScheduleError, WeeklySchedule

SEARCH_DAYS = 400
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_MARGIN = timedelta(hours=3)
_DATE = r"\d{4}-\d{2}-\d{2}"
_SPAN = re.compile(rf"^({_DATE})(?:\.\.({_DATE}))?$")

ClosedKind = Literal["holiday", "closure", "outside_hours"]


class ClosureError(ScheduleError):
    """The closures text cannot be understood; the message names the bad part."""


class NeverOpenError(LookupError):
    """The business does not open within SEARCH_DAYS days."""


@dataclass(frozen=True, slots=True)
class Closure:
    """Days the business is shut beyond its weekly schedule, both ends inclusive."""

    start: date
    end: date
    reason: str

    def covers(self, day: date) -> bool:
        """Whether the closure includes the day."""
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class ClosedReason:
    """Why the business is closed; name is the holiday's name or the closure's reason."""

    kind: ClosedKind
    name: str | None = None


_OUTSIDE_HOURS = ClosedReason("outside_hours")


def parse_closures(text: str) -> tuple[Closure, ...]:
    """Parse '2027-02-06..2027-02-08 Chinese New Year break; 2026-12-24 Staff retreat'."""
    closures = []
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        head, _, reason = clause.partition(" ")
        match = _SPAN.match(head)
        if not match:
            raise ClosureError(
                f"closure {clause!r} must start with YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
            )
        start = _parse_date(match.group(1), clause)
        end = _parse_date(match.group(2), clause) if match.group(2) else start
        if end < start:
            raise ClosureError(f"closure {clause!r} ends before it starts")
        if not reason.strip():
            raise ClosureError(f"closure {clause!r} needs a reason, e.g. '{head} Staff retreat'")
        closures.append(Closure(start, end, reason.strip()))
    return tuple(sorted(closures, key=lambda c: (c.start, c.end)))


def _parse_date(text: str, clause: str) -> date:
    """Read one YYYY-MM-DD date of a closure clause."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ClosureError(f"closure {clause!r} has an impossible date {text!r}") from None


def check_country(country: str) -> str:
    """Return the country code if the holidays package knows it; else raise ValueError."""
    _language(country)
    return country


@lru_cache(maxsize=64)
def _language(country: str) -> str | None:
    """The holiday names' own language for the country (never the process locale)."""
    try:
        return holidays.country_holidays(country).default_language
    except NotImplementedError:
        raise ValueError(
            f"no public holiday data for country {country!r}; use an ISO code such as 'SG'"
        ) from None


@lru_cache(maxsize=256)
def _holidays_in(country: str, year: int) -> Mapping[date, str]:
    """Public holidays of one year, in-lieu days included, by date."""
    found = holidays.country_holidays(
        country, years=year, observed=True, language=_language(country)
    )
    return MappingProxyType(dict(found))


def _covers(period: Period, wall: time) -> bool:
    """Whether a wall-clock time lies in the period; an end of 24:00 includes 23:59:59.999999."""
    return period.start <= wall and (wall < period.end or period.end == time.max)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When the business is open: weekly hours in its zone, minus holidays and closures."""

    schedule: WeeklySchedule
    zone: ZoneInfo
    closures: tuple[Closure, ...] = ()
    _: KW_ONLY
    country: str = "SG"
    public_holidays: bool = True

    def __post_init__(self) -> None:
        if self.public_holidays:
            check_country(self.country)

    def holiday_name(self, day: date) -> str | None:
        """The public holiday the business closes for on the day, e.g. 'Deepavali (observed)'."""
        if not self.public_holidays:
            return None
        return _holidays_in(self.country, day.year).get(day)

    def closure_on(self, day: date) -> Closure | None:
        """The configured closure covering the day, the earliest-starting one if several."""
        return next((c for c in self.closures if c.covers(day)), None)

    def closed_reason(self, at: datetime) -> ClosedReason | None:
        """None when open; else why: a closure, then a holiday (whole day), then the hours."""
        return self._reason_at(self._local(at))

    def is_open(self, at: datetime) -> bool:
        """Whether the business is open at an aware instant."""
        return self.closed_reason(at) is None

    def next_open(self, at: datetime) -> datetime:
        """At itself when open, else the next opening instant in the business's zone."""
        local = self._local(at)
        if self._reason_at(local) is None:
            return at
        after = local.astimezone(UTC)
        first = local.date()
        for offset in range(SEARCH_DAYS + 1):
            found = self._opening_on(first + offset * _DAY, after)
            if found is not None:
                # A DST fold can put part of the next day's openings first; look once more.
                following = self._opening_on(first + (offset + 1) * _DAY, after)
                return min(found, following or found).astimezone(self.zone)
        raise NeverOpenError(
            f"the business does not open within {SEARCH_DAYS} days after {at.isoformat()}; "
            "check the business hours, closures and public holidays"
        )

    def _local(self, at: datetime) -> datetime:
        """The instant as wall-clock time in the business's zone; naive times are refused."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"{at.isoformat()} has no timezone; pass an aware datetime")
        # Through UTC: astimezone() to the datetime's own zone returns it unchanged, so a wall
        # time inside a DST gap (which names no real instant) would stay unresolved.
        return at.astimezone(UTC).astimezone(self.zone)

    def _reason_at(self, local: datetime) -> ClosedReason | None:
        """Why the business is closed at a wall-clock time in its zone, or None."""
        day = local.date()
        closure = self.closure_on(day)
        if closure is not None:
            return ClosedReason("closure", closure.reason)
        name = self.holiday_name(day)
        if name is not None:
            return ClosedReason("holiday", name)
        wall = local.time()
        if any(_covers(p, wall) for p in self.schedule.periods_on(day.weekday())):
            return None
        return _OUTSIDE_HOURS

    def _opening_on(self, day: date, after: datetime) -> datetime | None:
        """The earliest open instant after `after` (UTC) where the day's opening can begin.

        Opening can begin only at a period start (either side of a DST fold) or where the
        clock jumps (a start inside a DST gap opens when the gap ends).
        """
        periods = self.schedule.periods_on(day.weekday())
        if not periods or self.closure_on(day) or self.holiday_name(day):
            return None
        candidates = {self._utc(day, p.start, fold) for p in periods for fold in (0, 1)}
        candidates.update(self._transitions(day))
        opening = [
            c for c in candidates if c > after and self._reason_at(c.astimezone(self.zone)) is None
        ]
        return min(opening, default=None)

    def _utc(self, day: date, wall: time, fold: int) -> datetime:
        """The UTC instant of a wall-clock time in the zone, on the given side of a fold."""
        return datetime.combine(day, wall, tzinfo=self.zone).replace(fold=fold).astimezone(UTC)

    def _transitions(self, day: date) -> list[datetime]:
        """The UTC instant near the day where the zone's offset changes, if there is one."""
        low = self._utc(day, time.min, 0) - _MARGIN
        high = self._utc(day + _DAY, time.min, 0) + _MARGIN
        before = low.astimezone(self.zone).utcoffset()
        if high.astimezone(self.zone).utcoffset() == before:
            return []
        while high - low > _TICK:
            middle = low + (high - low) / 2
            if middle.astimezone(self.zone).utcoffset() == before:
                low = middle
            else:
                high = middle
        return [high]
