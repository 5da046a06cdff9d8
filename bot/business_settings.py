"""The business's own settings: its timezone, opening hours, public holidays and closures."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from channels.settings import ChannelSettings
from core.business_calendar import BusinessCalendar, check_country, parse_closures
from core.hours import ScheduleError, WeeklySchedule, parse_schedule


class BusinessSettings(ChannelSettings):
    """TIMEZONE, BUSINESS_HOURS, PUBLIC_HOLIDAYS, HOLIDAY_COUNTRY and CLOSURES."""

    timezone: str = "Asia/Singapore"
    business_hours: str = "mon-fri 09:00-18:00; sat 09:00-13:00; sun closed"
    public_holidays: bool = True
    holiday_country: str = "SG"
    # Extra closed days, e.g. "2027-02-09..2027-02-11 Chinese New Year break; 2026-12-24 Retreat".
    closures: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA timezone such as Asia/Singapore") from None
        return value

    @field_validator("business_hours")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        try:
            parse_schedule(value)
        except ScheduleError as error:
            raise ValueError(
                f"{error}; expected e.g. 'mon-fri 09:00-18:00; sat 10:00-14:00'"
            ) from None
        return value

    @field_validator("closures")
    @classmethod
    def _valid_closures(cls, value: str) -> str:
        try:
            parse_closures(value)
        except ScheduleError as error:
            raise ValueError(
                f"{error}; expected e.g. '2027-02-09..2027-02-11 Chinese New Year break'"
            ) from None
        return value

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        return check_country(value)

    @property
    def schedule(self) -> WeeklySchedule:
        """The parsed weekly schedule."""
        return parse_schedule(self.business_hours)

    @property
    def calendar(self) -> BusinessCalendar:
        """The business's calendar: hours, public holidays and closures."""
        return BusinessCalendar(
            self.schedule,
            self.zone,
            parse_closures(self.closures),
            country=self.holiday_country,
            public_holidays=self.public_holidays,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The business's timezone."""
        return ZoneInfo(self.timezone)
