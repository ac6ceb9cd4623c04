"""Deadlines as the procedure counts them: business days in São Paulo (CONTRACT 7 and 19)."""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import worker.core.calendar as calendar_module
from worker.config import Calendar
from worker.core.calendar import (
    SAO_PAULO,
    BusinessCalendar,
    format_date,
    format_datetime,
)

NATIONAL = BusinessCalendar.from_config(Calendar())


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)


# --- CONTRACT 7: the Christmas example -----------------------------------------------------------


def test_a_christmas_eve_email_with_two_business_days_is_due_at_the_end_of_tuesday() -> None:
    # 25 Dec is a holiday, 26-27 a weekend: Mon 28 and Tue 29 are the two business days.
    deadline = NATIONAL.deadline_after(sp(2026, 12, 24, 10, 30), 2)

    assert deadline == sp(2026, 12, 30)
    assert NATIONAL.last_day(deadline) == date(2026, 12, 29)
    assert format_date(NATIONAL.last_day(deadline)) == "29/12/2026 (terça-feira)"


def test_the_sao_paulo_date_counts_not_the_utc_date() -> None:
    late_evening = sp(2026, 12, 24, 23, 30)
    assert late_evening.astimezone(UTC).date() == date(2026, 12, 25)

    assert NATIONAL.deadline_after(late_evening, 2) == sp(2026, 12, 30)


def test_a_utc_timestamp_from_the_helpdesk_gives_the_same_deadline() -> None:
    sent_at = datetime(2026, 12, 25, 2, 30, tzinfo=UTC)  # 23:30 on the 24th in São Paulo

    deadline = NATIONAL.deadline_after(sent_at, 2)

    assert deadline == sp(2026, 12, 30)
    assert deadline == datetime(2026, 12, 30, 3, 0, tzinfo=UTC)


def test_the_worker_acts_only_once_the_whole_last_day_has_passed() -> None:
    deadline = NATIONAL.deadline_after(sp(2026, 12, 24, 10, 30), 2)

    assert not sp(2026, 12, 29, 23, 59) >= deadline
    assert sp(2026, 12, 30, 0, 0) >= deadline
    assert datetime(2026, 12, 30, 3, 0, tzinfo=UTC) >= deadline


# --- Weekends and holidays -----------------------------------------------------------------------


def test_a_friday_email_skips_the_weekend() -> None:
    friday = sp(2026, 3, 6, 16, 0)

    deadline = NATIONAL.deadline_after(friday, 2)

    assert NATIONAL.last_day(deadline) == date(2026, 3, 10)  # Tuesday
    assert deadline == sp(2026, 3, 11)


def test_an_email_sent_on_a_sunday_gets_two_full_business_days() -> None:
    assert NATIONAL.add_business_days(date(2026, 3, 8), 2) == date(2026, 3, 10)


def test_weekends_are_never_business_days() -> None:
    assert not NATIONAL.is_business_day(date(2026, 3, 7))
    assert not NATIONAL.is_business_day(date(2026, 3, 8))
    assert NATIONAL.is_business_day(date(2026, 3, 9))


def test_national_holidays_are_not_business_days() -> None:
    for holiday in (
        date(2026, 1, 1),
        date(2026, 4, 3),  # Sexta-feira Santa
        date(2026, 4, 21),  # Tiradentes
        date(2026, 9, 7),
        date(2026, 11, 20),  # Consciência Negra
        date(2026, 12, 25),
    ):
        assert not NATIONAL.is_business_day(holiday), holiday


def test_carnaval_is_a_business_day_unless_optional_days_are_configured() -> None:
    optional = BusinessCalendar.from_config(Calendar(include_optional=True))
    carnival_monday, carnival_tuesday, ash_wednesday = (
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 2, 18),
    )

    for day in (carnival_monday, carnival_tuesday, ash_wednesday):
        assert NATIONAL.is_business_day(day)
        assert not optional.is_business_day(day)
    assert NATIONAL.add_business_days(date(2026, 2, 13), 2) == carnival_tuesday
    assert optional.add_business_days(date(2026, 2, 13), 2) == date(2026, 2, 20)


def test_optional_days_include_corpus_christi_and_year_end_eves() -> None:
    optional = BusinessCalendar.from_config(Calendar(include_optional=True))

    for day in (date(2026, 6, 4), date(2026, 12, 24), date(2026, 12, 31)):
        assert NATIONAL.is_business_day(day)
        assert not optional.is_business_day(day)


def test_a_state_holiday_counts_only_where_the_state_is_configured() -> None:
    revolucao_constitucionalista = date(2026, 7, 9)  # a Thursday
    sao_paulo = BusinessCalendar.from_config(Calendar(state="SP"))
    rio = BusinessCalendar.from_config(Calendar(state="RJ"))

    assert NATIONAL.is_business_day(revolucao_constitucionalista)
    assert rio.is_business_day(revolucao_constitucionalista)
    assert not sao_paulo.is_business_day(revolucao_constitucionalista)

    wednesday_email = sp(2026, 7, 8, 9, 0)
    assert NATIONAL.last_day(NATIONAL.deadline_after(wednesday_email, 2)) == date(2026, 7, 10)
    assert sao_paulo.last_day(sao_paulo.deadline_after(wednesday_email, 2)) == date(2026, 7, 13)


def test_state_names_are_normalised_by_the_configuration() -> None:
    lower = BusinessCalendar.from_config(Calendar(state="sp"))

    assert not lower.is_business_day(date(2026, 7, 9))


def test_an_extra_holiday_given_as_a_date_counts_that_year_only() -> None:
    company_day = BusinessCalendar.from_config(Calendar(extra_holidays=[date(2026, 12, 28)]))

    assert not company_day.is_business_day(date(2026, 12, 28))
    assert company_day.is_business_day(date(2027, 12, 28))
    assert company_day.deadline_after(sp(2026, 12, 24, 10, 0), 2) == sp(2026, 12, 31)


def test_an_extra_holiday_given_as_month_and_day_counts_every_year() -> None:
    city_anniversary = BusinessCalendar.from_config(Calendar(extra_holidays=["01-25"]))

    for year in (2027, 2028, 2029, 2030):  # 25 Jan is a weekday in each
        day = date(year, 1, 25)
        assert day.weekday() < 5
        assert NATIONAL.is_business_day(day)
        assert not city_anniversary.is_business_day(day)


def test_a_yearly_29_february_applies_only_in_leap_years() -> None:
    leap_day = BusinessCalendar(extra_yearly=["02-29"])

    assert not leap_day.is_business_day(date(2028, 2, 29))
    assert leap_day.is_business_day(date(2027, 3, 1))


def test_a_yearly_day_that_never_occurs_is_refused() -> None:
    with pytest.raises(ValueError, match="02-30"):
        BusinessCalendar(extra_yearly=["02-30"])
    with pytest.raises(ValueError, match="not a yearly day"):
        BusinessCalendar(extra_yearly=["2-3"])


# --- Any year ------------------------------------------------------------------------------------


def test_holidays_of_later_years_are_computed_when_needed() -> None:
    calendar = BusinessCalendar.from_config(Calendar(include_optional=True))

    # Carnaval moves with Easter: 8-9 Feb 2027, 4-5 Mar 2030.
    assert not calendar.is_business_day(date(2027, 2, 9))
    assert not calendar.is_business_day(date(2030, 3, 5))
    assert NATIONAL.is_business_day(date(2030, 3, 5))
    # Sexta-feira Santa 2030 is 19 April.
    assert not NATIONAL.is_business_day(date(2030, 4, 19))


def test_a_deadline_crossing_new_year_uses_both_years() -> None:
    # Wed 2029-12-26 + 3: Thu 27, Fri 28, Mon 31; 2030-01-01 is a holiday.
    assert NATIONAL.add_business_days(date(2029, 12, 26), 3) == date(2029, 12, 31)
    assert NATIONAL.add_business_days(date(2029, 12, 26), 4) == date(2030, 1, 2)


# --- Inputs the procedure must not accept --------------------------------------------------------


def test_a_naive_datetime_is_refused() -> None:
    naive = datetime(2026, 12, 24, 10, 30)

    with pytest.raises(ValueError, match="timezone-aware"):
        NATIONAL.deadline_after(naive, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        NATIONAL.last_day(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(naive)


def test_zero_business_days_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NATIONAL.add_business_days(date(2026, 3, 9), 0)


def test_a_datetime_where_a_date_belongs_is_refused() -> None:
    # datetime is a subclass of date: without this, its UTC day could slip through.
    moment = datetime(2026, 12, 25, 2, 30, tzinfo=UTC)

    with pytest.raises(TypeError):
        NATIONAL.is_business_day(moment)
    with pytest.raises(TypeError):
        NATIONAL.add_business_days(moment, 2)
    with pytest.raises(TypeError):
        format_date(moment)


# --- What customers and agents read --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 12, 28), "28/12/2026 (segunda-feira)"),
        (date(2026, 12, 29), "29/12/2026 (terça-feira)"),
        (date(2026, 12, 30), "30/12/2026 (quarta-feira)"),
        (date(2026, 12, 31), "31/12/2026 (quinta-feira)"),
        (date(2027, 1, 1), "01/01/2027 (sexta-feira)"),
        (date(2027, 1, 2), "02/01/2027 (sábado)"),
        (date(2027, 1, 3), "03/01/2027 (domingo)"),
    ],
)
def test_format_date_in_portuguese(day: date, text: str) -> None:
    assert format_date(day) == text


def test_format_datetime_shows_sao_paulo_time() -> None:
    assert format_datetime(sp(2026, 12, 24, 10, 30)) == "24/12/2026 às 10:30"
    assert format_datetime(datetime(2026, 12, 24, 13, 30, tzinfo=UTC)) == "24/12/2026 às 10:30"
    assert format_datetime(datetime(2026, 12, 25, 2, 30, tzinfo=UTC)) == "24/12/2026 às 23:30"


# --- Independence from the machine's time zone ---------------------------------------------------


@pytest.fixture(params=["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "America/Los_Angeles"])
def machine_tz(request: pytest.FixtureRequest) -> Iterator[str]:
    zone: str = request.param
    previous = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_results_do_not_depend_on_the_machine_time_zone(machine_tz: str) -> None:
    calendar = BusinessCalendar.from_config(Calendar(state="SP"))
    sent_at = datetime(2026, 12, 25, 2, 30, tzinfo=UTC)

    deadline = calendar.deadline_after(sent_at, 2)

    assert deadline == sp(2026, 12, 30)
    assert calendar.last_day(deadline) == date(2026, 12, 29)
    assert format_datetime(sent_at) == "24/12/2026 às 23:30"
    assert format_date(calendar.last_day(deadline)) == "29/12/2026 (terça-feira)"


def _local_time_uses(source: str) -> list[str]:
    """Calls that read the machine's zone or clock; the core must take time as an argument."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name in {"today", "localtime", "mktime", "ctime", "fromtimestamp", "utcnow"}:
            found.append(name)
        elif name == "now" and not node.args and not node.keywords:
            found.append("now() without a zone")
        elif name == "astimezone" and not node.args and not node.keywords:
            found.append("astimezone() without a zone")
        elif (
            name in {"time", "monotonic"}
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "time"
        ):
            found.append(f"time.{name}")
    return found


def test_the_calendar_never_reads_local_time_or_the_clock() -> None:
    source = Path(calendar_module.__file__).read_text(encoding="utf-8")

    assert _local_time_uses(source) == []


# --- Properties ----------------------------------------------------------------------------------

CALENDARS = [
    NATIONAL,
    BusinessCalendar.from_config(Calendar(state="SP", include_optional=True)),
    BusinessCalendar.from_config(Calendar(state="BA", extra_holidays=["06-24", date(2027, 3, 1)])),
]
calendars = st.sampled_from(CALENDARS)
days_in_use = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
business_days = st.integers(min_value=1, max_value=30)
zones = st.sampled_from(
    [SAO_PAULO, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]
)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=days_in_use, days=business_days)
def test_adding_business_days_lands_on_a_business_day_after_start(
    calendar: BusinessCalendar, start: date, days: int
) -> None:
    end = calendar.add_business_days(start, days)

    assert end > start
    assert calendar.is_business_day(end)
    between = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert sum(calendar.is_business_day(day) for day in between) == days


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=days_in_use, days=business_days)
def test_adding_more_business_days_never_ends_earlier(
    calendar: BusinessCalendar, start: date, days: int
) -> None:
    assert calendar.add_business_days(start, days + 1) > calendar.add_business_days(start, days)


@settings(max_examples=300, deadline=None)
@given(
    calendar=calendars,
    sent_day=days_in_use,
    seconds=st.integers(min_value=0, max_value=86_399),
    zone=zones,
    days=business_days,
)
def test_a_deadline_is_always_midnight_in_sao_paulo_after_a_business_day(
    calendar: BusinessCalendar, sent_day: date, seconds: int, zone: timezone, days: int
) -> None:
    sent_at = datetime.combine(sent_day, datetime.min.time(), tzinfo=zone) + timedelta(
        seconds=seconds
    )

    deadline = calendar.deadline_after(sent_at, days)

    assert deadline.tzinfo is SAO_PAULO
    assert (deadline.hour, deadline.minute, deadline.second, deadline.microsecond) == (0, 0, 0, 0)
    assert deadline > sent_at
    assert calendar.is_business_day(calendar.last_day(deadline))
    assert calendar.last_day(deadline) == calendar.add_business_days(
        sent_at.astimezone(SAO_PAULO).date(), days
    )
