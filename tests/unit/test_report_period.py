"""Report periods: the week before a report, `--since` spans, the weekly claim's slot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.report import wording
from bot.report.period import iso_week, since, week_before

SG = ZoneInfo("Asia/Singapore")


def test_the_week_before_a_monday_report_is_monday_to_sunday_in_local_time() -> None:
    # Monday 7 Dec 2026, 09:00 in Singapore, is 01:00 UTC.
    period = week_before(datetime(2026, 12, 7, 1, 0, tzinfo=UTC), SG)
    assert period.start == datetime(2026, 11, 30, tzinfo=SG)
    assert period.end == datetime(2026, 12, 7, tzinfo=SG)
    assert period.days() == [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]
    assert period.label() == "30 Nov - 06 Dec 2026"
    before = period.previous()
    assert (before.start, before.end) == (datetime(2026, 11, 23, tzinfo=SG), period.start)


def test_since_counts_back_from_now() -> None:
    now = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert since("7d", now, SG).start == now - timedelta(days=7)
    assert since("24h", now, SG).start == now - timedelta(hours=24)
    assert since(" 2W ", now, SG).start == now - timedelta(weeks=2)
    assert len(since("24h", now, SG).days()) == 2  # 09:00 to 09:00 local touches two dates


@pytest.mark.parametrize("span", ["", "7", "d", "0d", "7m", "-1d", "seven days"])
def test_since_refuses_what_is_not_a_span(span: str) -> None:
    with pytest.raises(ValueError, match="7d, 24h or 2w"):
        since(span, datetime.now(UTC), SG)


def test_the_weekly_slot_is_the_local_iso_week() -> None:
    # Sunday 23:30 UTC is already Monday in Singapore: the next week's slot.
    assert iso_week(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), SG) == "2026-W50"
    assert iso_week(datetime(2026, 12, 6, 15, 30, tzinfo=UTC), SG) == "2026-W49"
    assert iso_week(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), SG) == "2026-W53"


def test_figures_in_words() -> None:
    assert wording.percent(None) == "-" and wording.percent(0.754) == "75%"
    assert wording.duration(timedelta(seconds=89)) == "1 min"
    assert wording.duration(timedelta(minutes=185)) == "3 h 05 min"
    assert wording.duration(timedelta(hours=52)) == "2 d 4 h"
    assert wording.reason("keyword:refund") == 'wrote "refund"'
    assert wording.reason("asked_for_human") == "asked for a person"
    assert wording.hour_span(23) == "23:00-00:00"
