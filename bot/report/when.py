"""When the weekly owner report goes out: REPORT_AT read as a weekday and a local time."""

from __future__ import annotations

import re
from datetime import time

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFF = ("", "off", "never", "none", "no")


def parse_report_at(value: str) -> tuple[int, time] | None:
    """'mon 09:00' as (0, 09:00); None for an empty value or 'off'."""
    text = value.strip().lower()
    if text in _OFF:
        return None
    match = re.fullmatch(r"([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})", text)
    if match is None or match.group(1) not in _WEEKDAYS:
        raise ValueError("expected a weekday and a local time such as 'mon 09:00', or 'off'")
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ValueError("expected a time between 00:00 and 23:59, e.g. 'mon 09:00'")
    return _WEEKDAYS.index(match.group(1)), time(hour, minute)
