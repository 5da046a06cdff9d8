from datetime import time

import pytest

from core.hours import ScheduleError, parse_schedule


def test_several_periods_a_day_and_closed_days() -> None:
    schedule = parse_schedule("mon-fri 09:00-12:30,13:30-18:00; sat 10:00-14:00; sun closed")
    assert [p.start for p in schedule.periods_on(0)] == [time(9), time(13, 30)]
    assert schedule.periods_on(4)[1].end == time(18)
    assert schedule.periods_on(5)[0].start == time(10)
    assert schedule.periods_on(6) == ()


def test_unmentioned_days_are_closed_and_describe_round_trips() -> None:
    schedule = parse_schedule("sat,sun 08:00-24:00")
    assert schedule.periods_on(0) == ()
    assert parse_schedule(schedule.describe()) == schedule


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("mon 9-5", "HH:MM-HH:MM"),
        ("funday 09:00-10:00", "unknown day"),
        ("mon 10:00-09:00", "ends before"),
        ("mon 09:00-12:00,11:00-13:00", "overlap"),
        ("mon 09:00-10:00; mon 11:00-12:00", "more than once"),
        ("fri-mon 09:00-10:00", "backwards"),
        ("", "no days"),
    ],
)
def test_mistakes_are_named(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_schedule(text)
