"""The account's cancellation case: what one decision is taken on.

A ticket alone does not settle the procedure: whether a new request joins a cancellation under
way, what the account's people wrote in new e-mails since (CONTRACT 16), how often a third party
was answered (CONTRACT 4) and what the company's system said of a contract call all live
outside it. The shell reads those once, as `CaseReads` (`engine.reads`) says from the ticket,
its ficha, the settings and the clock, and the engine decides once on the whole case; it never
stops midway to ask for more, so one ticket's decision costs one run of the procedure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from worker.core.effects import ContractAnswer, ContractRequest, RelatedQuery
from worker.core.model import Ficha, RelatedTicket, Ticket

Found = Mapping[RelatedQuery, tuple[RelatedTicket, ...]]


@dataclass(frozen=True)
class CancellationCase:
    """A ticket with its ficha and, where the decision needs them, the account's other tickets
    and the contract system's answer. None means "not read": the decision did not need it."""

    ticket: Ticket
    ficha: Ficha
    open_cancellations: tuple[RelatedTicket, ...] | None = None  # the account's, unresolved
    account_tickets: tuple[RelatedTicket, ...] | None = None  # its people's, since this ticket
    requester_tickets: tuple[RelatedTicket, ...] | None = None  # the third-party window's
    contract: ContractAnswer | None = None  # the answer to the call a note recorded


class MissingRead(RuntimeError):
    """The decision needed something `reads` did not ask for: a bug in `reads`, never data."""


@dataclass(frozen=True)
class CaseReads:
    """What the shell reads and calls before the one decision on a ticket: each query only in
    the states whose decision can use its answer, the contract call only when a note recorded
    it and nothing answered yet."""

    open_cancellations: RelatedQuery | None = None
    account_tickets: RelatedQuery | None = None
    requester_tickets: RelatedQuery | None = None
    contract: ContractRequest | None = None

    def queries(self) -> tuple[RelatedQuery, ...]:
        """The searches to make, longest period first: a query another one answers (the same
        people over a period that covers it) is left out, so each costs its requests once; and
        a helpdesk that keeps what it searched answers a shorter period after a longer one."""
        wanted = dict.fromkeys(
            q
            for q in (self.open_cancellations, self.account_tickets, self.requester_tickets)
            if q is not None
        )
        kept = [q for q in wanted if not any(o != q and _covers(o, q) for o in wanted)]
        return tuple(sorted(kept, key=lambda q: q.since))

    def case(
        self, ticket: Ticket, ficha: Ficha, found: Found, contract: ContractAnswer | None = None
    ) -> CancellationCase:
        """The case, with each query answered from the search that covered it (`found`)."""
        return CancellationCase(
            ticket,
            ficha,
            open_cancellations=_answer(self.open_cancellations, found),
            account_tickets=_answer(self.account_tickets, found),
            requester_tickets=_answer(self.requester_tickets, found),
            contract=contract,
        )


def _covers(read: RelatedQuery, query: RelatedQuery) -> bool:
    """Whether `read`'s answer holds `query`'s: the same people, from earlier on, and every
    ticket when `query` wants every ticket (open cancellations are a part of them)."""
    return (
        set(read.emails) == set(query.emails)
        and read.since <= query.since
        and (query.open_cancellations or not read.open_cancellations)
    )


def _answer(query: RelatedQuery | None, found: Found) -> tuple[RelatedTicket, ...] | None:
    if query is None:
        return None
    if query in found:
        return found[query]
    for read, tickets in found.items():
        if _covers(read, query):
            return tuple(t for t in tickets if t.created_at >= query.since)
    raise MissingRead(f"no answer for {query}")
