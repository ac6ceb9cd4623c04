"""An in-memory helpdesk: the fake for tests and the engine of the demo.

It behaves like the real ones where the procedure depends on it: comments are append-only, a
requester's message reopens a pending or solved ticket, and every write is checked against the
version the worker read, so a concurrent agent change is refused rather than overwritten.
It also offers the agent's and the customer's side (`customer_writes`, `agent_note`, ...) so
scenarios can be played against the worker.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from worker.adapters.trust import channel_doubt
from worker.config import Config
from worker.core.effects import TargetStatus
from worker.core.model import (
    Account,
    AuthorRole,
    Channel,
    Comment,
    Ficha,
    Member,
    Person,
    RelatedTicket,
    StatusCategory,
    Ticket,
)
from worker.core.state import read_history
from worker.ports import (
    HelpdeskStatus,
    RenderedStep,
    StaleTicket,
    TicketGone,
    TicketHeader,
    TicketPage,
)

WORKER = Person("worker", "worker@helpdesk.invalid", "Worker de cancelamento")
PAGE_SIZE = 100


@dataclass
class StoredTicket:
    ticket: Ticket
    sequence: int  # the global change counter at its last change: the poll cursor orders by it


@dataclass(frozen=True)
class SentEmail:
    ticket_id: str
    step: str
    to: str
    cc: tuple[str, ...]
    text: str
    at: datetime


@dataclass
class MemoryHelpdesk:
    config: Config
    clock: Callable[[], datetime]
    tickets: dict[str, StoredTicket] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    outbox: list[SentEmail] = field(default_factory=list)
    writes: int = 0
    reads: int = 0
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _accounts_by_email: dict[str, set[str]] = field(default_factory=dict)
    _tickets_by_requester: dict[str, list[str]] = field(default_factory=dict)

    # --- setting up the world (demo and tests) ---------------------------------------------

    def add_account(
        self,
        account_id: str,
        name: str,
        document: str | None,
        registered_email: str | None,
        members: Iterable[Member] = (),
    ) -> Account:
        """Adds (or replaces) an account; the e-mail index keeps ficha reads O(1) like a real
        helpdesk's lookups, so benchmarks measure the worker, not this fake."""
        account = Account(account_id, name, document, registered_email, tuple(members))
        previous = self.accounts.get(account_id)
        if previous is not None:
            for email in _emails_of(previous):
                self._accounts_by_email[email].discard(account_id)
        self.accounts[account_id] = account
        for email in _emails_of(account):
            self._accounts_by_email.setdefault(email, set()).add(account_id)
        return account

    def create_ticket(
        self,
        requester: Person,
        subject: str,
        body: str,
        *,
        channel: Channel = "email",
        tags: Iterable[str] = (),
        at: datetime | None = None,
    ) -> str:
        when = at or self.clock()
        ticket_id = str(next(self._ids))
        first = Comment(
            f"{ticket_id}-1",
            requester,
            AuthorRole.END_USER,
            True,
            body,
            when,
            doubt=channel_doubt(channel),
        )
        ticket = Ticket(
            id=ticket_id,
            subject=subject,
            channel=channel,
            status=StatusCategory.NEW,
            custom_status=None,
            tags=frozenset(tags),
            fields={},
            requester=requester,
            comments=(first,),
            created_at=when,
            updated_at=when,
            version="1",
        )
        self.tickets[ticket_id] = StoredTicket(ticket, next(self._sequence))
        self._tickets_by_requester.setdefault(requester.key, []).append(ticket_id)
        return ticket_id

    def _change(self, ticket_id: str, **changes: object) -> Ticket:
        stored = self.tickets[ticket_id]
        ticket = replace(
            stored.ticket,
            updated_at=self.clock(),
            version=str(int(stored.ticket.version) + 1),
            **changes,  # type: ignore[arg-type]
        )
        stored.ticket = ticket
        stored.sequence = next(self._sequence)
        return ticket

    def _comment(
        self, ticket_id: str, author: Person, role: AuthorRole, public: bool, body: str
    ) -> Comment:
        ticket = self.tickets[ticket_id].ticket
        return Comment(
            f"{ticket_id}-{len(ticket.comments) + 1}", author, role, public, body, self.clock()
        )

    def customer_writes(self, ticket_id: str, author: Person, body: str, doubt: str = "") -> None:
        """An e-mail into the ticket: like Zendesk, it reopens a pending or solved ticket.
        `doubt`: what the helpdesk would say about its sender (a spoofing flag, ...)."""
        ticket = self.tickets[ticket_id].ticket
        comment = replace(
            self._comment(ticket_id, author, AuthorRole.END_USER, True, body), doubt=doubt
        )
        status, custom = ticket.status, ticket.custom_status
        if status in (StatusCategory.PENDING, StatusCategory.SOLVED, StatusCategory.HOLD):
            status, custom = StatusCategory.OPEN, None
        self._change(
            ticket_id, comments=(*ticket.comments, comment), status=status, custom_status=custom
        )

    def worker_email_without_note(self, ticket_id: str, text: str) -> None:
        """A step's e-mail that went out and whose note never followed (a crash between the
        two writes a real helpdesk needs): the worker's public comment, nothing after it."""
        ticket = self.tickets[ticket_id].ticket
        comment = self._comment(ticket_id, WORKER, AuthorRole.WORKER, True, text)
        self._change(ticket_id, comments=(*ticket.comments, comment))

    def agent_note(self, ticket_id: str, agent: Person, body: str, *, public: bool = False) -> None:
        ticket = self.tickets[ticket_id].ticket
        comment = self._comment(ticket_id, agent, AuthorRole.AGENT, public, body)
        self._change(ticket_id, comments=(*ticket.comments, comment))

    def agent_sets(
        self,
        ticket_id: str,
        *,
        status: StatusCategory | None = None,
        fields: dict[str, str | None] | None = None,
    ) -> None:
        ticket = self.tickets[ticket_id].ticket
        self._change(
            ticket_id,
            status=status or ticket.status,
            custom_status=None if status else ticket.custom_status,
            fields={**ticket.fields, **(fields or {})},
        )

    def ticket(self, ticket_id: str) -> Ticket:
        return self.tickets[ticket_id].ticket

    # --- the port --------------------------------------------------------------------------

    def changed_tickets(self, cursor: str | None, since: datetime) -> TicketPage:
        after = int(cursor) if cursor else 0
        changed = sorted(
            (
                s
                for s in self.tickets.values()
                if s.sequence > after and s.ticket.updated_at >= since
            ),
            key=lambda s: s.sequence,
        )
        page = changed[:PAGE_SIZE]
        last = page[-1].sequence if page else after
        self.reads += 1
        return TicketPage(tuple(s.ticket.id for s in page), str(last), len(changed) > PAGE_SIZE)

    def due_tickets(self, now: datetime) -> tuple[str, ...]:
        from worker.core.calendar import SAO_PAULO

        today = now.astimezone(SAO_PAULO).date().isoformat()
        self.reads += 1
        return tuple(
            s.ticket.id
            for s in self.tickets.values()
            if (deadline := s.ticket.fields.get("deadline")) is not None
            and deadline < today
            and s.ticket.status not in (StatusCategory.SOLVED, StatusCategory.CLOSED)
        )

    def read_ticket(self, ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        """The ticket as stored (pages carry no header here). The worker's last public comment
        with no note of the worker after it is an e-mail whose note never followed: only its
        number is known, as on a helpdesk that keeps no journal."""
        self.reads += 1
        try:
            ticket = self.tickets[ticket_id].ticket
        except KeyError:
            raise TicketGone(f"ticket {ticket_id} not found") from None
        own = [c for c in ticket.comments if c.role is AuthorRole.WORKER]
        if own and own[-1].public:
            return replace(ticket, unnoted_email=str(read_history(ticket).steps + 1))
        return ticket

    def recover(self) -> int:
        """Nothing to finish: a step is written at once."""
        return 0

    def read_ficha(self, ticket: Ticket) -> Ficha:
        found = sorted(self._accounts_by_email.get(ticket.requester.key, ()))
        return Ficha(tuple(self._with_counts(self.accounts[account_id]) for account_id in found))

    def _with_counts(self, account: Account) -> Account:
        def count(member: Member) -> int:
            return sum(
                any(m.person.key == member.person.key for m in self.accounts[other].members)
                for other in self._accounts_by_email.get(member.person.key, ())
            )

        members = tuple(replace(m, account_count=count(m)) for m in account.members)
        return replace(account, members=members)

    def related_tickets(
        self, emails: tuple[str, ...], since: datetime, *, open_cancellations: bool = False
    ) -> tuple[RelatedTicket, ...]:
        self.reads += 1
        candidates = (
            self.tickets[ticket_id].ticket
            for email in sorted(set(emails))
            for ticket_id in self._tickets_by_requester.get(email, ())
        )
        return tuple(
            RelatedTicket(
                t.id,
                t.requester.key,
                t.subject,
                t.created_at,
                t.tags,
                t.status,
                t.comments[0].body if t.comments else "",
                t.comments[0].doubt if t.comments else "",
            )
            for t in candidates
            if t.created_at >= since
        )

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        current = self.tickets[ticket.id].ticket
        if current.version != ticket.version:
            raise StaleTicket(f"ticket {ticket.id} changed since it was read")
        self.writes += 1
        comments = list(current.comments)
        cc = current.cc_emails
        if step.email is not None:
            comments.append(
                self._comment(ticket.id, WORKER, AuthorRole.WORKER, True, step.email.text)
            )
            cc = tuple(dict.fromkeys((*cc, *step.email.cc)))
            self.outbox.append(
                SentEmail(
                    ticket.id,
                    step.key,
                    current.requester.email,
                    step.email.cc,
                    step.email.text,
                    self.clock(),
                )
            )
        note = Comment(
            f"{ticket.id}-{len(comments) + 1}",
            WORKER,
            AuthorRole.WORKER,
            False,
            step.note,
            self.clock(),
        )
        comments.append(note)
        status, custom = current.status, current.custom_status
        if step.status is TargetStatus.IN_PROGRESS:
            status, custom = StatusCategory.OPEN, self.config.statuses.in_progress
        elif step.status is TargetStatus.WAITING_CUSTOMER:
            status, custom = StatusCategory.PENDING, self.config.statuses.waiting_customer
        elif step.status is TargetStatus.SOLVED:
            status, custom = StatusCategory.SOLVED, None
        fields = dict(current.fields)
        fields.update({key.value: value for key, value in step.fields.items()})
        updated = self._change(
            ticket.id,
            comments=tuple(comments),
            status=status,
            custom_status=custom,
            fields=fields,
            tags=(current.tags | step.add_tags) - step.remove_tags,
            cc_emails=cc,
        )
        return updated

    def list_statuses(self) -> tuple[HelpdeskStatus, ...]:
        return (
            HelpdeskStatus("Novo", "new"),
            HelpdeskStatus("Aberto", "open"),
            HelpdeskStatus(self.config.statuses.in_progress, "open"),
            HelpdeskStatus(self.config.statuses.waiting_customer, "pending"),
            HelpdeskStatus("Resolvido", "solved"),
        )


def _emails_of(account: Account) -> set[str]:
    emails = {member.person.key for member in account.members}
    if account.registered_email:
        emails.add(account.registered_email.strip().lower())
    return emails
