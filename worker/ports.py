"""The one interface every helpdesk implements: Zendesk, Freshdesk and the in-memory fake; and
the company's contract system (`contract_cancellation.mode: http`).

They are deliberately small: find what changed, read a ticket and its ficha, look up related
tickets, and apply one step; cancel one contract. Everything the procedure decides happens in
`worker.core`; everything vendor specific happens behind these ports. Reads never write (a dry
run, `explain` and `report` read through them); the one write that needs no decision, finishing
what a crash cut in the adapter's own write mechanics, is `recover`, called by the shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TextIO

from worker.core.effects import ContractAnswer, ContractRequest, FieldKey, TargetStatus
from worker.core.model import Ficha, RelatedTicket, Ticket


class HelpdeskError(Exception):
    """The helpdesk could not be reached or refused a request; the message says why (no secrets)."""


class CredentialsRejected(HelpdeskError):
    """The helpdesk refused who we are (401/403): retrying cannot help; an operator must act."""


class StaleTicket(HelpdeskError):
    """The ticket changed since it was read (an agent, a lost response): re-read, re-decide."""


class TicketGone(HelpdeskError):
    """The ticket no longer exists (deleted, merged away, spam): retrying can never help, so the
    worker forgets it instead of failing on it at every poll."""


@dataclass(frozen=True)
class TicketHeader:
    """What the adapter read of a ticket on the page that named it (the ticket as the list
    showed it), opaque to the worker. Handed back to `read_ticket`, it spares the request that
    would fetch the ticket again; it travels with the page instead of hiding in the adapter, so
    a read costs the same whoever calls it, and a header is never used for a ticket read later
    on another path."""

    ticket_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TicketPage:
    ticket_ids: tuple[str, ...]
    cursor: str  # where the next poll resumes; opaque to the worker
    more: bool  # another page is ready now
    headers: Mapping[str, TicketHeader] = field(default_factory=dict)  # by ticket id


@dataclass(frozen=True)
class OutgoingEmail:
    text: str
    html: str
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedStep:
    """A step with its texts rendered, ready to write. `key` lets an adapter that needs several
    calls for one step recognise a step it already started (CONTRACT 5)."""

    key: str
    note: str  # ends with the state marker line
    email: OutgoingEmail | None
    status: TargetStatus | None
    fields: Mapping[FieldKey, str | None]
    add_tags: frozenset[str]
    remove_tags: frozenset[str]
    # the decision's last step: only then is the ticket as the worker leaves it, so an adapter
    # may take its next change-list appearance as our own echo; after an earlier step a step is
    # still owed, and a restart must read the ticket to decide it
    completes_decision: bool = True


@dataclass(frozen=True)
class HelpdeskStatus:
    name: str
    category: str  # new, open, pending, hold, solved


class Helpdesk(Protocol):
    def changed_tickets(self, cursor: str | None, since: datetime) -> TicketPage:
        """Tickets that may be cancellation requests changed after `cursor` (or, with no cursor,
        since `since`), oldest change first."""
        ...

    def due_tickets(self, now: datetime) -> tuple[str, ...]:
        """Tickets waiting for an answer whose deadline day is over: the cheap sweep."""
        ...

    def read_ticket(self, ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        """The ticket now, with every comment. `header`: the one its page carried, if any.
        Never writes."""
        ...

    def read_ficha(self, ticket: Ticket) -> Ficha: ...

    def related_tickets(
        self, emails: tuple[str, ...], since: datetime, *, open_cancellations: bool = False
    ) -> tuple[RelatedTicket, ...]:
        """Tickets requested by any of `emails`, created at or after `since`; with
        `open_cancellations`, at least the unresolved cancellation tickets among them."""
        ...

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        """Write one step against `ticket` (as read, or as the previous step's write left it);
        return the ticket as this write left it: at least its version, tags, fields and status,
        so the next step of the same decision starts from them and never undoes this one.
        Raises StaleTicket when the ticket changed meanwhile, HelpdeskError on failure."""
        ...

    def list_statuses(self) -> tuple[HelpdeskStatus, ...]: ...

    def recover(self) -> int:
        """Finish what a crash or a lost answer cut in this adapter's own writes and needs no
        decision (Freshdesk: a step whose note is written and whose ticket update is not);
        the number of steps finished. Called by the shell at the start of every run that
        writes, never in a dry run; a no-op where a step is one call. Steps that need the
        engine (an e-mail out, its note not) are left to the next decision on their ticket."""
        ...


class ContractSystem(Protocol):
    def cancel(self, request: ContractRequest) -> ContractAnswer:
        """Ask the company's system to cancel the contract, under `request.key` (the system
        dedupes on it, so sending it again is safe). Retries are the implementation's; a refusal
        or an outage is an answer, not an exception, since the engine hands the ticket over."""
        ...


class Admin(Protocol):
    """What the operator's commands need of one vendor beside the port: `setup`, `check`, what
    the run cost, and what the last sweep saw waiting. Each vendor package offers one, built by
    the composition root (`worker/bootstrap.py`), so the CLI stays vendor-neutral and nothing
    asks the helpdesk for attributes it may not have."""

    @property
    def helpdesk(self) -> Helpdesk: ...

    @property
    def is_loopback(self) -> bool:
        """The helpdesk URL is this machine (a sandbox): rehearsal clocks may write there."""
        ...

    @property
    def read_ahead(self) -> int:
        """Threads that may read the next tickets while one is written (`service.ReadAhead`):
        0 where the adapter's reads may not run side by side."""
        ...

    @property
    def checked(self) -> tuple[str, ...]:
        """What an OK from `check` covered, for the operator."""
        ...

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        """Raises HelpdeskError when something is left that setup will not change by itself."""
        ...

    def check(self) -> list[str]:
        """Every problem found, each with its fix, as text for the operator."""
        ...

    def cost(self) -> dict[str, int]:
        """Requests made so far, for the run's summary line and the metrics."""
        ...

    def waiting(self) -> tuple[int, datetime | None] | None:
        """Tickets with a deadline running and the earliest deadline, as the last sweep saw
        them; None where the vendor's sweep does not count them."""
        ...
