from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.business_calendar import (
    BusinessCalendar,
    ClosedReason,
    Closure,
    ClosureError,
    NeverOpenError,
    _holidays_in,
    check_country,
    parse_closures,
)
from core.hours import ScheduleError, parse_schedule

SG = ZoneInfo("Asia/Singapore")
LONDON = ZoneInfo("Europe/London")
PANDAN = parse_schedule("tue-fri 07:30-14:30,16:00-19:00; sat 08:00-18:00; sun 08:00-15:00")
DEFAULT = parse_schedule("mon-fri 09:00-18:00; sat 09:00-13:00; sun closed")
CNY_2027 = parse_closures("2027-02-06..2027-02-08 Chinese New Year break")
CNY_2026 = parse_closures("2026-02-19..2026-02-21 Chinese New Year break")

pandan = BusinessCalendar(PANDAN, SG)
pandan_cny = BusinessCalendar(PANDAN, SG, CNY_2026 + CNY_2027)
default = BusinessCalendar(DEFAULT, SG)

# Singapore public holidays as the holidays package has them (MOM's published lists).
SG_HOLIDAYS = [
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 2, 17), "Chinese New Year"),
    (date(2026, 2, 18), "Chinese New Year"),
    (date(2026, 3, 21), "Hari Raya Puasa"),
    (date(2026, 4, 3), "Good Friday"),
    (date(2026, 5, 1), "Labour Day"),
    (date(2026, 5, 27), "Hari Raya Haji"),
    (date(2026, 5, 31), "Vesak Day"),
    (date(2026, 6, 1), "Vesak Day (observed)"),
    (date(2026, 8, 9), "National Day"),
    (date(2026, 8, 10), "National Day (observed)"),
    (date(2026, 11, 8), "Deepavali"),
    (date(2026, 11, 9), "Deepavali (observed)"),
    (date(2026, 12, 25), "Christmas Day"),
    (date(2027, 1, 1), "New Year's Day"),
    (date(2027, 2, 6), "Chinese New Year"),
    (date(2027, 2, 7), "Chinese New Year"),
    (date(2027, 2, 8), "Chinese New Year (observed)"),
    (date(2027, 3, 10), "Hari Raya Puasa"),
    (date(2027, 3, 26), "Good Friday"),
    (date(2027, 5, 1), "Labour Day"),
    (date(2027, 5, 17), "Hari Raya Haji"),
    (date(2027, 5, 20), "Vesak Day"),
    (date(2027, 8, 9), "National Day"),
    (date(2027, 10, 28), "Deepavali"),
    (date(2027, 12, 25), "Christmas Day"),
]
IN_LIEU_MONDAYS = [date(2026, 6, 1), date(2026, 8, 10), date(2026, 11, 9), date(2027, 2, 8)]


def sg(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    return datetime(year, month, day, hour, minute, *rest, tzinfo=SG)


def test_table_matches_the_package_in_its_own_language() -> None:
    found = holidays.country_holidays("SG", years=[2026, 2027], language="en_SG")
    assert sorted(found.items()) == SG_HOLIDAYS
    assert not [name for name in found.values() if "estimated" in name]


@pytest.mark.parametrize(("day", "name"), SG_HOLIDAYS)
@pytest.mark.parametrize("calendar", [pandan, default], ids=["pandan", "default"])
def test_every_public_holiday_is_closed_all_day_with_its_name(
    calendar: BusinessCalendar, day: date, name: str
) -> None:
    assert calendar.holiday_name(day) == name
    for hour in (0, 8, 10, 12, 17, 23):
        at = datetime.combine(day, datetime.min.time(), SG) + timedelta(hours=hour)
        assert not calendar.is_open(at)
        assert calendar.closed_reason(at) == ClosedReason("holiday", name)


@pytest.mark.parametrize("day", IN_LIEU_MONDAYS)
def test_in_lieu_mondays_are_closed(day: date) -> None:
    assert day.weekday() == 0
    reason = default.closed_reason(
        datetime.combine(day, datetime.min.time(), SG) + timedelta(hours=10)
    )
    assert reason is not None and reason.kind == "holiday"
    assert reason.name is not None and reason.name.endswith("(observed)")


def test_ordinary_days_have_no_holiday_name() -> None:
    assert default.holiday_name(date(2026, 11, 10)) is None
    assert default.closed_reason(sg(2026, 11, 10, 10)) is None


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        # holiday eve: Deepavali 2027 is Thursday 28 Oct
        (pandan, sg(2027, 10, 27, 19), sg(2027, 10, 29, 7, 30)),
        (default, sg(2027, 10, 27, 18), sg(2027, 10, 29, 9)),
        # Deepavali 2026 on Sunday, in lieu Monday: "we will reply from Tuesday 9:00 am"
        (default, sg(2026, 11, 7, 13), sg(2026, 11, 10, 9)),
        (pandan, sg(2026, 11, 7, 18), sg(2026, 11, 10, 7, 30)),
        (pandan, sg(2026, 11, 6, 19), sg(2026, 11, 7, 8)),
        # National Day 2026: Sunday 9 Aug, Monday 10 Aug in lieu
        (default, sg(2026, 8, 8, 13), sg(2026, 8, 11, 9)),
        (pandan, sg(2026, 8, 8, 18), sg(2026, 8, 11, 7, 30)),
        # weekend
        (default, sg(2026, 3, 7, 13), sg(2026, 3, 9, 9)),
        (default, sg(2026, 3, 8, 12), sg(2026, 3, 9, 9)),
        (pandan, sg(2026, 3, 8, 15), sg(2026, 3, 10, 7, 30)),
        # lunch break and boundaries
        (pandan, sg(2026, 3, 11, 14, 30), sg(2026, 3, 11, 16)),
        (pandan, sg(2026, 3, 11, 15, 59, 59), sg(2026, 3, 11, 16)),
        (pandan, sg(2026, 3, 11, 7, 30), sg(2026, 3, 11, 7, 30)),
        (pandan, sg(2026, 3, 11, 14, 29, 59), sg(2026, 3, 11, 14, 29, 59)),
        (pandan, sg(2026, 3, 11, 19), sg(2026, 3, 12, 7, 30)),
        (pandan, sg(2026, 3, 11, 5), sg(2026, 3, 11, 7, 30)),
        # 23:59 before an open day
        (pandan, sg(2026, 3, 9, 23, 59), sg(2026, 3, 10, 7, 30)),
        (default, sg(2027, 6, 6, 23, 59), sg(2027, 6, 7, 9)),
        # Chinese New Year: two holidays then a three-day closure (2026), or a closure over
        # the holidays and the in-lieu Monday (2027)
        (pandan_cny, sg(2026, 2, 14, 18), sg(2026, 2, 15, 8)),
        (pandan_cny, sg(2026, 2, 15, 15), sg(2026, 2, 22, 8)),
        (pandan, sg(2026, 2, 15, 15), sg(2026, 2, 19, 7, 30)),
        (pandan_cny, sg(2027, 2, 5, 19), sg(2027, 2, 9, 7, 30)),
        (pandan, sg(2027, 2, 5, 19), sg(2027, 2, 9, 7, 30)),
        # new year
        (default, sg(2026, 12, 31, 18), sg(2027, 1, 2, 9)),
        (pandan, sg(2027, 12, 31, 19), sg(2028, 1, 2, 8)),  # 1 Jan 2028 is a holiday
    ],
)
def test_next_open(calendar: BusinessCalendar, at: datetime, expected: datetime) -> None:
    found = calendar.next_open(at)
    assert found == expected
    assert found.tzinfo is SG
    assert calendar.is_open(found)
    assert calendar.is_open(at) is (found == at)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (sg(2027, 2, 6, 10), ClosedReason("closure", "Chinese New Year break")),
        (sg(2027, 2, 8, 10), ClosedReason("closure", "Chinese New Year break")),
        (sg(2026, 2, 17, 10), ClosedReason("holiday", "Chinese New Year")),
        (sg(2026, 2, 20, 10), ClosedReason("closure", "Chinese New Year break")),
        (sg(2026, 2, 16, 10), ClosedReason("outside_hours")),  # Monday
        (sg(2026, 2, 22, 15), ClosedReason("outside_hours")),
        (sg(2026, 2, 22, 14, 59), None),
    ],
)
def test_closed_reason_prefers_the_configured_closure(
    at: datetime, reason: ClosedReason | None
) -> None:
    assert pandan_cny.closed_reason(at) == reason


def test_other_zones_are_converted() -> None:
    at = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # Wednesday 07:30 in Singapore
    assert pandan.is_open(at)
    assert pandan.next_open(at) is at
    before = datetime(2026, 3, 10, 23, 29, tzinfo=UTC)
    assert not pandan.is_open(before)
    assert pandan.next_open(before) == at


def test_period_ending_at_midnight_meets_one_starting_at_midnight() -> None:
    calendar = BusinessCalendar(parse_schedule("fri 20:00-24:00; sat 00:00-02:00"), SG)
    assert calendar.is_open(sg(2026, 3, 13, 23, 59, 59, 999999))
    assert calendar.is_open(sg(2026, 3, 14, 0))
    assert not calendar.is_open(sg(2026, 3, 14, 2))
    assert calendar.next_open(sg(2026, 3, 13, 19)) == sg(2026, 3, 13, 20)
    assert calendar.next_open(sg(2026, 3, 14, 2)) == sg(2026, 3, 20, 20)
    # the last day of a closure ends at midnight, not at the period's end
    closed = BusinessCalendar(calendar.schedule, SG, parse_closures("2026-03-13 Stocktake"))
    assert closed.closed_reason(sg(2026, 3, 13, 23, 59)) == ClosedReason("closure", "Stocktake")
    assert closed.is_open(sg(2026, 3, 14, 0))
    assert closed.next_open(sg(2026, 3, 13, 21)) == sg(2026, 3, 14, 0)


def test_a_sunday_holiday_closes_the_midnight_period_after_saturday() -> None:
    calendar = BusinessCalendar(parse_schedule("sat 20:00-24:00; sun 00:00-03:00"), SG)
    assert calendar.is_open(sg(2026, 11, 7, 23, 59))
    assert calendar.closed_reason(sg(2026, 11, 8, 0)) == ClosedReason("holiday", "Deepavali")
    assert calendar.next_open(sg(2026, 11, 8, 0)) == sg(2026, 11, 14, 20)


def test_public_holidays_can_be_ignored() -> None:
    open_on_holidays = BusinessCalendar(DEFAULT, SG, public_holidays=False)
    assert open_on_holidays.is_open(sg(2027, 10, 28, 10))
    assert open_on_holidays.holiday_name(date(2027, 10, 28)) is None
    assert open_on_holidays.next_open(sg(2026, 11, 7, 13)) == sg(2026, 11, 9, 9)


def test_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="'XX'"):
        BusinessCalendar(DEFAULT, SG, country="XX")
    BusinessCalendar(DEFAULT, SG, country="XX", public_holidays=False)
    assert check_country("GB") == "GB"
    with pytest.raises(ValueError, match="ISO code"):
        check_country("ZZ")


def test_holiday_names_do_not_follow_the_process_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "en_US")
    _holidays_in.cache_clear()
    try:
        assert default.holiday_name(date(2026, 11, 8)) == "Deepavali"
        assert default.holiday_name(date(2026, 5, 1)) == "Labour Day"
    finally:
        _holidays_in.cache_clear()


@pytest.mark.parametrize("method", ["is_open", "next_open", "closed_reason"])
def test_naive_datetimes_are_refused(method: str) -> None:
    with pytest.raises(ValueError, match="no timezone"):
        getattr(default, method)(datetime(2026, 3, 9, 10))


def test_a_business_that_never_opens_is_reported() -> None:
    with pytest.raises(NeverOpenError, match="400 days"):
        BusinessCalendar(parse_schedule("mon closed"), SG).next_open(sg(2026, 1, 1))
    renovating = BusinessCalendar(DEFAULT, SG, parse_closures("2026-01-01..2027-12-31 Renovation"))
    with pytest.raises(NeverOpenError):
        renovating.next_open(sg(2026, 1, 1))
    assert renovating.next_open(sg(2027, 12, 31, 12)) == sg(2028, 1, 3, 9)


def test_closures_are_parsed_and_sorted() -> None:
    closures = parse_closures(
        " 2027-02-06..2027-02-08 Chinese New Year break;2026-12-24  Staff retreat ; "
    )
    assert closures == (
        Closure(date(2026, 12, 24), date(2026, 12, 24), "Staff retreat"),
        Closure(date(2027, 2, 6), date(2027, 2, 8), "Chinese New Year break"),
    )
    assert parse_closures("") == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-02-30 Oops", "impossible date '2026-02-30'"),
        ("2026-12-24", "'2026-12-24' needs a reason"),
        ("2027-02-08..2027-02-06 CNY", "'2027-02-08..2027-02-06 CNY' ends before it starts"),
        ("24/12/2026 Retreat", "'24/12/2026 Retreat' must start with YYYY-MM-DD"),
        ("2026-12-24...2026-12-26 Retreat", "must start with YYYY-MM-DD"),
        ("2026-12-24 Retreat; 2026-12-26-2026-12-27 Rest", "'2026-12-26-2026-12-27 Rest'"),
        ("Retreat 2026-12-24", "'Retreat 2026-12-24'"),
    ],
)
def test_closure_mistakes_are_named(text: str, fragment: str) -> None:
    with pytest.raises(ClosureError, match=fragment.replace(".", r"\.")) as caught:
        parse_closures(text)
    assert isinstance(caught.value, ScheduleError)


# Europe/London: clocks go forward at 01:00 GMT on 29 Mar 2026 and back at 01:00 GMT on
# 25 Oct 2026.
def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    return datetime(year, month, day, hour, minute, *rest, tzinfo=UTC)


OFFICE = BusinessCalendar(DEFAULT, LONDON, public_holidays=False)
GAP = BusinessCalendar(parse_schedule("sun 01:30-03:00"), LONDON, public_holidays=False)
FOLD = BusinessCalendar(
    parse_schedule("sun 00:30-01:30; mon 09:00-10:00"), LONDON, public_holidays=False
)


# Python never finds an instant in a repeated hour equal to one in another zone (PEP 495),
# so the results are compared in UTC.
def test_hours_follow_the_wall_clock_across_the_march_change() -> None:
    assert not OFFICE.is_open(utc(2026, 3, 27, 8, 30))  # 08:30 GMT
    assert OFFICE.is_open(utc(2026, 3, 30, 8, 30))  # 09:30 BST
    assert OFFICE.next_open(utc(2026, 3, 27, 18)).astimezone(UTC) == utc(2026, 3, 28, 9)
    assert OFFICE.next_open(utc(2026, 3, 28, 13)).astimezone(UTC) == utc(2026, 3, 30, 8)
    assert OFFICE.next_open(utc(2026, 3, 28, 13)).utcoffset() == timedelta(hours=1)


def test_a_period_starting_in_the_march_gap_opens_when_the_gap_ends() -> None:
    # 01:30 does not exist on 29 Mar 2026: at 01:00 GMT the clock reads 02:00 BST.
    assert not GAP.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert GAP.next_open(utc(2026, 3, 29, 0, 45)).astimezone(UTC) == utc(2026, 3, 29, 1)
    assert GAP.is_open(utc(2026, 3, 29, 1))
    assert not GAP.is_open(utc(2026, 3, 29, 2))  # 03:00 BST
    # the short period is cut off by the jump
    assert FOLD.is_open(utc(2026, 3, 29, 0, 59))
    assert not FOLD.is_open(utc(2026, 3, 29, 1))


def test_the_repeated_hour_in_october_closes_and_reopens() -> None:
    # On 25 Oct 2026 at 01:00 GMT the clock goes back from 02:00 BST to 01:00.
    assert GAP.is_open(utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert not GAP.is_open(utc(2026, 10, 25, 1, 10))  # 01:10 GMT
    reopens = GAP.next_open(utc(2026, 10, 25, 1, 10))  # 01:30 GMT, the second 01:30
    assert reopens.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    assert reopens.fold == 1
    assert not FOLD.is_open(utc(2026, 10, 25, 0, 45))  # 01:45 BST
    back_in = FOLD.next_open(utc(2026, 10, 25, 0, 45))  # the jump back to 01:00 GMT
    assert back_in.astimezone(UTC) == utc(2026, 10, 25, 1)
    assert FOLD.next_open(utc(2026, 10, 25, 1, 30)).astimezone(UTC) == utc(2026, 10, 26, 9)


CALENDARS = {
    "pandan": pandan,
    "pandan_cny": pandan_cny,
    "default": default,
    "london_office": OFFICE,
    "london_gap": GAP,
    "london_fold": FOLD,
}
ZONES = [SG, LONDON, ZoneInfo("UTC"), ZoneInfo("America/New_York")]


@pytest.mark.parametrize("name", sorted(CALENDARS))
@settings(max_examples=150, deadline=None)
# A wall time inside London's spring gap: it names an instant only through its fold.
@example(at=datetime(2026, 3, 29, 1, 30, fold=1, tzinfo=LONDON), samples=[])
@given(
    at=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.sampled_from(ZONES),
    ),
    samples=st.lists(
        st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True), max_size=8
    ),
)
def test_next_open_is_the_first_open_instant(name: str, at: datetime, samples: list[float]) -> None:
    calendar = CALENDARS[name]
    found = calendar.next_open(at)
    start, end = at.astimezone(UTC), found.astimezone(UTC)
    assert end >= start
    assert calendar.is_open(found)
    if end == start:
        return
    assert not calendar.is_open(end - timedelta(microseconds=1))
    span = end - start
    step = timedelta(minutes=1)
    points = [start + span * s for s in samples] + [start + step * k for k in range(1, 4)]
    points += [end - step * k for k in range(1, 4)]
    for point in points:
        if start < point < end:
            assert not calendar.is_open(point), point
