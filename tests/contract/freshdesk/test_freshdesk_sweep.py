"""The deadline sweep on Freshdesk, against the strict fake: filter tickets answers 300 results
at most, so the sweep asks only for tickets whose deadline day is over and splits a query that
matches more, and no due ticket is ever left behind a long backlog (docs/freshdesk.md, "Finding
work: the deadline sweep")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from tests.fakes.freshdesk import UNPACED, set_up
from tests.fakes.freshdesk_fake import PENDING, FakeFreshdesk, Refused
from worker.adapters.freshdesk.adapter import (
    RANGE_CHECK_SECONDS,
    RANGE_CHECKED,
    FreshdeskHelpdesk,
)
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.config import Config
from worker.core.effects import FieldKey

NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # midday in São Paulo
TODAY = date(2026, 12, 9)


@dataclass
class Clock:
    now: datetime = NOW - timedelta(days=40)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Account:
    fake: FakeFreshdesk
    helpdesk: FreshdeskHelpdesk
    clock: Clock
    tickets: list[int] = field(default_factory=list)

    @property
    def deadline(self) -> str:
        return self.helpdesk.layout.fields[FieldKey.DEADLINE]

    def waiting(self, count: int, deadline: Any) -> list[int]:
        """`count` cancellation tickets waiting for an answer, one created every two hours,
        each with the deadline `deadline(n)` (n counts from the first ticket ever opened)."""
        made = []
        for _ in range(count):
            n = len(self.tickets)
            self.clock.now += timedelta(hours=2)
            contact = self.fake.add_contact(f"Cliente {n}", f"cliente{n}@exemplo.com.br")
            ticket = self.fake.create_ticket(
                contact, "Cancelamento", "Quero cancelar.", tags=("cancelamento",)
            )
            day = deadline(n)
            self.fake.agent_updates(
                ticket, {"status": PENDING, "custom_fields": {self.deadline: day.isoformat()}}
            )
            self.tickets.append(ticket)
            made.append(ticket)
        return made

    def sweep(self) -> tuple[set[str], int]:
        """The ids the sweep found due, and the requests it made."""
        self.clock.now = NOW
        before = len(self.fake.requests)
        due = self.helpdesk.due_tickets(NOW)
        assert len(due) == len(set(due)), "a ticket handed out twice"
        return set(due), len(self.fake.requests) - before


@pytest.fixture
def account() -> Iterator[Account]:
    clock = Clock()
    fake = FakeFreshdesk(clock)
    config = Config()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        set_up(fake, config)
        client = FreshdeskClient(Credentials(fake.base_url, "worker-api-key"), UNPACED)
        helpdesk = FreshdeskHelpdesk(client, config, Path(":memory:"))
        _ = helpdesk.layout
        helpdesk.journal.mark(RANGE_CHECKED)  # today's check of the range is made (below)
        yield Account(fake, helpdesk, clock)


def in_days(days: int) -> Any:
    return lambda n: TODAY + timedelta(days=days)


def test_a_backlog_of_400_waiting_tickets_hides_no_due_one(account: Account) -> None:
    """400 customers wait for their deadline; every tenth one's deadline was yesterday, the
    last of them far past the filter's 300th result."""
    account.waiting(400, lambda n: TODAY - timedelta(days=1) if n % 10 == 9 else TODAY)
    due, requests = account.sweep()
    expected = {str(t) for n, t in enumerate(account.tickets) if n % 10 == 9}
    assert due == expected
    assert requests == 2  # 40 due: two pages of 30


def test_an_idle_sweep_costs_one_request_whatever_the_backlog(account: Account) -> None:
    account.waiting(400, in_days(3))
    due, requests = account.sweep()
    assert due == set()
    assert requests == 1


def test_a_deadline_of_today_is_not_due_yet(account: Account) -> None:
    account.waiting(3, in_days(0))
    assert account.sweep()[0] == set()


def test_more_than_300_due_at_once_are_all_swept_within_the_bound(account: Account) -> None:
    """The worker was stopped for a week: 400 deadlines passed over seven days."""
    account.waiting(400, lambda n: TODAY - timedelta(days=1 + n % 7))
    due, requests = account.sweep()
    assert due == {str(t) for t in account.tickets}
    assert requests <= 400 // 30 + 1 + 1 + 2 * 20 * (400 // 301)


def test_more_than_300_due_on_one_day_are_read_to_the_300th(account: Account) -> None:
    """The bound of the split: one day's 300 are handled now (they leave their wait), the
    others at the next sweep."""
    account.waiting(310, in_days(-1))
    due, _ = account.sweep()
    assert len(due) == 300


def test_when_freshdesk_refuses_the_deadline_range_every_open_one_is_listed_in_parts(
    account: Account,
) -> None:
    """Freshdesk's list of filterable custom field types may leave dates out: then the sweep
    lists every open cancellation, split by creation day, and compares on the page."""
    account.fake.custom_date_queries = False
    account.waiting(400, lambda n: TODAY - timedelta(days=1) if n % 10 == 9 else TODAY)
    due, first = account.sweep()
    assert due == {str(t) for n, t in enumerate(account.tickets) if n % 10 == 9}
    again, second = account.sweep()
    assert again == due
    assert second == first - 1  # the refused range is not asked for again


# --- the fake's query language is the documented one ------------------------------------------


def _filter(fake: FakeFreshdesk, query: str) -> Any:
    return fake._search_tickets({"query": query}, {})


def test_the_fake_refuses_a_range_on_a_text_field(account: Account) -> None:
    with pytest.raises(Refused):
        _filter(account.fake, "\"tag:>'cancelamento'\"")


def test_the_fake_refuses_a_field_it_does_not_know(account: Account) -> None:
    with pytest.raises(Refused):
        _filter(account.fake, "\"cf_nao_existe:<'2026-12-01'\"")


def test_the_fake_refuses_a_query_over_512_characters(account: Account) -> None:
    long = " OR ".join(["status:2"] * 60)
    with pytest.raises(Refused):
        _filter(account.fake, f'"{long}"')


def test_the_fake_compares_a_custom_date_by_day_both_ends_inclusive(account: Account) -> None:
    account.waiting(3, lambda n: TODAY - timedelta(days=n))
    name = account.deadline
    status, body, _ = _filter(account.fake, f"\"{name}:>'2026-12-08' AND {name}:<'2026-12-09'\"")
    assert status == 200 and body["total"] == 2


def test_a_range_freshdesk_answers_wrong_is_caught_by_the_daily_check(account: Account) -> None:
    """Fact 41 is not settled: a Freshdesk that took the range on the deadline field and matched
    nothing would hide every due ticket without an error. Once a day the sweep also lists every
    open cancellation; a due ticket the range left out is swept now, and the range is not
    trusted again."""
    account.fake.custom_date_ranges_match_nothing = True
    account.waiting(40, lambda n: TODAY - timedelta(days=1) if n % 10 == 9 else TODAY)
    expected = {str(t) for n, t in enumerate(account.tickets) if n % 10 == 9}
    assert account.sweep()[0] == set()  # within the day: the range is believed
    account.helpdesk.journal.clock = lambda: time.time() + RANGE_CHECK_SECONDS
    assert account.sweep()[0] == expected  # the day's check finds them
    assert account.sweep()[0] == expected  # and the range is not asked again


def test_a_range_that_agrees_with_the_listing_is_checked_once_a_day(account: Account) -> None:
    account.waiting(40, lambda n: TODAY - timedelta(days=1) if n % 10 == 9 else TODAY)
    expected = {str(t) for n, t in enumerate(account.tickets) if n % 10 == 9}
    account.helpdesk.journal.clock = lambda: time.time() + RANGE_CHECK_SECONDS
    due, checked = account.sweep()
    assert due == expected
    assert checked == 1 + 2  # the range's page (4 due), then the listing's two (40 open)
    due, requests = account.sweep()
    assert due == expected
    assert requests == 1  # checked today: the range alone
