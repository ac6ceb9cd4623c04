"""What every helpdesk world shares: the public interface of `tests.fakes.world.MemoryWorld`, played
against a real adapter under the real `Worker`, over HTTP through `responses`, on one simulated
clock (the fake's stamps, the worker's decisions and the client's pacing).

A backend says how people and agents act on its fake (`open_ticket`, `agent_says`, ...) and how to
build its adapter; everything the tests look at is read back through a second adapter of the
same kind (`world.ticket`), so assertions see what the helpdesk holds, not what the worker
meant to write.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from datetime import datetime

import responses

from tests.fakes.clock import Clock
from tests.fakes.faults import Faults
from tests.fakes.world import FichaSetup, worker_comments
from worker.adapters.memory import SentEmail
from worker.adapters.zendesk.http import RequestStats
from worker.bootstrap import App
from worker.config import Config
from worker.core.calendar import SAO_PAULO
from worker.core.model import (
    Account,
    Channel,
    Ficha,
    Member,
    Person,
    RelatedTicket,
    StatusCategory,
    Ticket,
)
from worker.core.state import parse_marker
from worker.ports import (
    Helpdesk,
    HelpdeskStatus,
    RenderedStep,
    TicketHeader,
    TicketPage,
)
from worker.state_dir import PollPlaceFile

START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday, as MemoryWorld's
_OPEN: list[BackendWorld] = []


def close_all() -> None:
    """Stops every world's `responses` mock (tests/conftest.py, after each test)."""
    while _OPEN:
        _OPEN[-1].close()


class HookedHelpdesk(Faults):
    """The real adapter as the worker sees it, plus the hooks scenario tests use on
    `world.helpdesk`: `agent_sets`, `accounts`/`add_account`, `writes`, and the failure
    injection `fail_steps`/`fail_next_writes` (a write refused before it reaches the helpdesk,
    as the in-memory helpdesk does it). Tests may replace `apply_step` or `read_ficha` on it."""

    def __init__(self, world: BackendWorld, adapter: Helpdesk, stats: RequestStats) -> None:
        self.world = world
        self.adapter = adapter
        self.stats = stats
        Faults.__init__(self)

    # --- the port ----------------------------------------------------------------------------

    def changed_tickets(self, cursor: str | None, since: datetime) -> TicketPage:
        return self.adapter.changed_tickets(cursor, since)

    def due_tickets(self, now: datetime) -> tuple[str, ...]:
        return self.adapter.due_tickets(now)

    def read_ticket(self, ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        return self.adapter.read_ticket(ticket_id, header)

    def read_ficha(self, ticket: Ticket) -> Ficha:
        return self.adapter.read_ficha(ticket)

    def related_tickets(
        self, emails: tuple[str, ...], since: datetime, *, open_cancellations: bool = False
    ) -> tuple[RelatedTicket, ...]:
        return self.adapter.related_tickets(emails, since, open_cancellations=open_cancellations)

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        self.refuse(step)
        return self.adapter.apply_step(ticket, step)

    def list_statuses(self) -> tuple[HelpdeskStatus, ...]:
        return self.adapter.list_statuses()

    def recover(self) -> int:
        return self.adapter.recover()

    # --- the hooks ---------------------------------------------------------------------------

    @property
    def writes(self) -> int:
        """Requests the worker's adapter made that were not GETs."""
        return self.stats.writes

    @property
    def accounts(self) -> dict[str, Account]:
        return self.world.accounts

    def add_account(
        self,
        account_id: str,
        name: str,
        document: str | None,
        registered_email: str | None,
        members: Iterable[Member] = (),
    ) -> Account:
        account = Account(account_id, name, document, registered_email, tuple(members))
        previous = self.world.accounts.get(account_id)
        self.world.save_account(account, previous)
        self.world.accounts[account_id] = account
        return account

    def agent_sets(
        self,
        ticket_id: str,
        *,
        status: StatusCategory | None = None,
        fields: dict[str, str | None] | None = None,
    ) -> None:
        self.world.agent_sets(ticket_id, status=status, fields=fields or {})


class BackendWorld(FichaSetup, abc.ABC):
    def __init__(self, config: Config | None = None, start: datetime = START) -> None:
        self.config = config or Config()
        self.start = start
        self.clock = Clock(start)
        self.accounts: dict[str, Account] = {}
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        _OPEN.append(self)
        self.serve(self.mock)
        self.reader, _ = self.new_adapter()  # what tests look at: its own caches
        self.app = self.new_app()

    def new_app(self, *, dry_run: bool = False) -> App:
        """The application as a new process wires it (a restart): a new adapter, nothing in
        memory, only what the backend keeps in its state directory (`place_file`)."""
        self.helpdesk = HookedHelpdesk(self, *self.new_adapter())
        return self.wire(place_file=self.place_file(), dry_run=dry_run)

    def place_file(self) -> PollPlaceFile | None:
        """Where the poll's place outlives the process: nowhere unless a backend says."""
        return None

    def close(self) -> None:
        """Stops the mock once, whether a test's fixture or `close_all` asks first."""
        if self in _OPEN:
            _OPEN.remove(self)
            self.mock.stop()
            self.mock.reset()

    # --- what a backend provides -------------------------------------------------------------

    @abc.abstractmethod
    def serve(self, mock: responses.RequestsMock) -> None:
        """Creates the fake helpdesk (set up for the worker) and serves it through `mock`."""

    @abc.abstractmethod
    def new_adapter(self) -> tuple[Helpdesk, RequestStats]:
        """A new adapter on the fake, with the stats of its client."""

    @abc.abstractmethod
    def save_account(self, account: Account, previous: Account | None) -> None:
        """An account (organization, company) and its members, new or grown."""

    @abc.abstractmethod
    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str: ...

    @abc.abstractmethod
    def agent_says(self, ticket_id: str, text: str, *, public: bool = False) -> None: ...

    @abc.abstractmethod
    def customer_writes(self, ticket_id: str, author: Person, text: str) -> None: ...

    @abc.abstractmethod
    def agent_sets(
        self,
        ticket_id: str,
        *,
        status: StatusCategory | None,
        fields: Mapping[str, str | None],
    ) -> None: ...

    @abc.abstractmethod
    def sent(self, ticket_id: str) -> list[tuple[str, tuple[str, ...]]]:
        """(to, cc) of each e-mail the worker sent on the ticket, in order."""

    # --- what people do ----------------------------------------------------------------------

    # --- what we look at ---------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket:
        return self.reader.read_ticket(ticket_id)

    def emails(self, ticket_id: str) -> list[SentEmail]:
        """The worker's public comments, each with the step its note names (the note follows
        the e-mail in the same step) and the addresses the helpdesk sent it to."""
        comments = worker_comments(self.ticket(ticket_id))
        public = [n for n, c in enumerate(comments) if c.public]
        sent = self.sent(ticket_id)
        assert len(sent) == len(public), f"{len(public)} public comments, {len(sent)} e-mails"
        found = []
        for (to, cc), n in zip(sent, public, strict=True):
            markers = (parse_marker(c.body) for c in comments[n + 1 :] if not c.public)
            step = next((str(m.step) for m in markers if m is not None), "?:?")
            c = comments[n]
            found.append(SentEmail(ticket_id, step, to, cc, c.body, c.created_at))
        return found

    def email_templates(self, ticket_id: str) -> list[str]:
        return [e.step.split(":", 1)[1] for e in self.emails(ticket_id)]

    def status(self, ticket_id: str) -> str:
        """As the in-memory helpdesk names it: the worker's two statuses by their label, any
        other by its category (`open`, `solved`, ...)."""
        ticket = self.ticket(ticket_id)
        ours = (self.config.statuses.in_progress, self.config.statuses.waiting_customer)
        return ticket.custom_status if ticket.custom_status in ours else ticket.status.value


def marks_of(person: Person, accounts: Iterable[Account]) -> tuple[bool, bool]:
    """(holder, managing partner) of a person over every account: helpdesks keep the marks on
    the person (a user's or contact's fields), not on the membership."""
    members = [m for a in accounts for m in a.members if m.person.key == person.key]
    return any(m.holder for m in members), any(m.managing_partner for m in members)
