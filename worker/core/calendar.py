"""Business days and dates as the procedure counts and shows them (CONTRACT 7 and 19).

Deadlines are promises made to Brazilian customers in the terms of their own calendar, so every
computation happens in America/Sao_Paulo, never in the machine's local time: a server in UTC
would otherwise move an e-mail written late on the 24th to the 25th and shift the deadline.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol

from holidays.countries.brazil import Brazil

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5

# Indexed by date.weekday(); spelled out so output never depends on the machine's locale.
_WEEKDAYS_PT_BR = (
    "segunda-feira",
    "terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    "sábado",
    "domingo",
)

# Any leap year: a yearly "MM-DD" is acceptable when it exists in at least one year.
_LEAP_YEAR = 2000


def _yearly(month_day: str) -> tuple[int, int]:
    """Parses "MM-DD" here as well as in the configuration, so that a calendar built by hand
    cannot carry a day that never occurs (02-30) and silently count it as a business day."""
    month_text, separator, day_text = month_day.partition("-")
    if not separator or len(month_text) != 2 or len(day_text) != 2:
        raise ValueError(f"{month_day!r} is not a yearly day in MM-DD form")
    try:
        month, day = int(month_text), int(day_text)
        date(_LEAP_YEAR, month, day)
    except ValueError:
        raise ValueError(f"{month_day!r} is not a day of any year") from None
    return month, day


def _require_aware(moment: datetime, name: str) -> None:
    """A naive datetime would be read in the machine's zone, which is exactly the error this
    module exists to prevent; refusing it is the only safe answer."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


class CalendarSettings(Protocol):
    """The calendar's settings as the configuration holds them (`calendar:`), read by shape so
    the core needs nothing of how the configuration is loaded."""

    @property
    def state(self) -> str | None: ...
    @property
    def include_optional(self) -> bool: ...
    @property
    def extra_holidays(self) -> Sequence[date | str]: ...


class BusinessCalendar:
    """Which days count, for one configuration.

    Holidays are computed per year on first use and kept, so deadlines work in any year
    without listing years up front, and the worker never recomputes a year on every check.
    """

    __slots__ = ("_categories", "_fixed", "_state", "_yearly", "_years")

    def __init__(
        self,
        *,
        state: str | None = None,
        include_optional: bool = False,
        extra_days: Iterable[date] = (),
        extra_yearly: Iterable[str] = (),
    ) -> None:
        self._state = state
        self._categories: tuple[str, ...] = (
            ("public", "optional") if include_optional else ("public",)
        )
        self._fixed = frozenset(extra_days)
        self._yearly = frozenset(_yearly(text) for text in extra_yearly)
        self._years: dict[int, frozenset[date]] = {}

    @classmethod
    def from_config(cls, calendar: CalendarSettings) -> BusinessCalendar:
        days: list[date] = []
        yearly: list[str] = []
        for entry in calendar.extra_holidays:
            if isinstance(entry, date):
                days.append(entry)
            else:
                yearly.append(entry)
        return cls(
            state=calendar.state,
            include_optional=calendar.include_optional,
            extra_days=days,
            extra_yearly=yearly,
        )

    def _holidays(self, year: int) -> frozenset[date]:
        """Built for the neighbouring years too and then filtered, so that a holiday observed
        across New Year (a rule some calendars have) lands in the year it is actually off."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        official = Brazil(
            years=range(year - 1, year + 2),
            subdiv=self._state,
            categories=self._categories,
        )
        days = {day for day in official if day.year == year}
        days.update(day for day in self._fixed if day.year == year)
        for month, day_of_month in self._yearly:
            try:
                days.add(date(year, month, day_of_month))
            except ValueError:  # 02-29 outside a leap year
                continue
        result = frozenset(days)
        self._years[year] = result
        return result

    def is_business_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            raise TypeError("is_business_day takes a date; convert a datetime in São Paulo first")
        return day.weekday() < _SATURDAY and day not in self._holidays(day.year)

    def add_business_days(self, start: date, days: int) -> date:
        """Counts from the day after `start`, so a message sent on a holiday or a weekend still
        gets its full number of working days."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        if isinstance(start, datetime):
            raise TypeError("add_business_days takes a date; convert a datetime in São Paulo first")
        current = start
        remaining = days
        while remaining:
            current += _ONE_DAY
            if self.is_business_day(current):
                remaining -= 1
        return current

    def deadline_after(self, sent_at: datetime, business_days: int) -> datetime:
        """The customer has the whole of the last business day, so the deadline is the first
        instant after it: midnight in São Paulo, the moment from which `now >= deadline`."""
        _require_aware(sent_at, "sent_at")
        sent_day = sent_at.astimezone(SAO_PAULO).date()
        last = self.add_business_days(sent_day, business_days)
        return datetime.combine(last + _ONE_DAY, time(0, 0), tzinfo=SAO_PAULO)

    def last_day(self, deadline: datetime) -> date:
        """The day customers are told ("até 29/12/2026"), rather than the midnight after it."""
        _require_aware(deadline, "deadline")
        return deadline.astimezone(SAO_PAULO).date() - _ONE_DAY


def day_end(day: date) -> datetime | None:
    """When a deadline day is over: the midnight after it in São Paulo (CONTRACT 7). A day with
    no midnight after it in the calendar (9999-12-31), or one Unix time cannot count (the
    metrics need it), has none: only a date typed by hand can be such a day."""
    try:
        moment = datetime.combine(day + _ONE_DAY, time(0, 0), tzinfo=SAO_PAULO)
        moment.timestamp()
    except (OverflowError, ValueError):
        return None
    return moment


def typed_day_out_of_range(text: str | None) -> date | None:
    """The day a date field holds (ISO, maybe with a time after it) when no deadline can be
    computed from it, else None. Anything that is not a date at all is left alone: a helpdesk
    showing dates in another form must not make every ticket look wrong."""
    try:
        day = date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None
    return day if day is not None and day_end(day) is None else None


def format_date(day: date) -> str:
    """Formats by hand: the machine's locale is unknown and usually not pt_BR."""
    if isinstance(day, datetime):
        raise TypeError("format_date takes a date; use format_datetime for a moment")
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d} ({_WEEKDAYS_PT_BR[day.weekday()]})"


def format_datetime(moment: datetime) -> str:
    """Customers and agents read times on São Paulo's clock, whatever zone the moment is in."""
    _require_aware(moment, "moment")
    local = moment.astimezone(SAO_PAULO)
    return (
        f"{local.day:02d}/{local.month:02d}/{local.year:04d} às {local.hour:02d}:{local.minute:02d}"
    )
