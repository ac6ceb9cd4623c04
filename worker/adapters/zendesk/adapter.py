"""The Helpdesk port on Zendesk Support (see docs/zendesk.md for every endpoint and why).

Cost per poll: one incremental-export request per 1,000 changed tickets, whatever they are;
only the cancellation candidates on the page are read (their ticket comes with the page as its
header, so a read is one comments request plus the requester with their accounts). Cost per
step: one guarded update per comment (two when the step e-mails, CONTRACT 5).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import structlog

from worker.adapters import records
from worker.adapters.finding import Candidates, day_of, related_since
from worker.adapters.memo import OwnWrites, Recent
from worker.adapters.zendesk import mapping
from worker.adapters.zendesk.http import (
    BadRequest,
    Invalid,
    Json,
    NotFound,
    TicketMissing,
    ZendeskClient,
)
from worker.adapters.zendesk.known import KnownTickets
from worker.adapters.zendesk.layout import AccountLayout, from_zendesk
from worker.config import Config
from worker.core.calendar import SAO_PAULO, day_end
from worker.core.effects import FieldKey
from worker.core.model import Account, Ficha, Member, RelatedTicket, Ticket
from worker.ports import HelpdeskStatus, RenderedStep, TicketHeader, TicketPage

log = structlog.get_logger("worker.zendesk")

PAGE_SIZE = 1000  # the incremental export's largest page
FULL_SWEEP_SECONDS = 3600.0  # how often the sweep lists every open cancellation, not the due


@dataclass
class _Cache:
    """Reads one poll can share (`Recent`)."""

    clock: Callable[[], float]
    requesters: Recent[tuple[Json, list[Json]]] = field(init=False)
    user_ids: Recent[str] = field(init=False)  # by e-mail, from the requesters and members read
    members: Recent[tuple[Member, ...]] = field(init=False)
    by_registered_email: Recent[list[Json]] = field(init=False)
    # How many accounts a person belongs to, by user id: from a requester's accounts or a
    # membership count, so a partner of two companies asking in one poll is counted once.
    account_counts: Recent[int] = field(init=False)

    def __post_init__(self) -> None:
        self.requesters = Recent(self.clock)
        self.user_ids = Recent(self.clock)
        self.members = Recent(self.clock)
        self.by_registered_email = Recent(self.clock)
        self.account_counts = Recent(self.clock)

    def prune(self) -> None:
        for memory in (
            self.requesters,
            self.user_ids,
            self.members,
            self.by_registered_email,
            self.account_counts,
        ):
            memory.prune()


class ZendeskHelpdesk:
    def __init__(
        self,
        client: ZendeskClient,
        config: Config,
        *,
        layout: AccountLayout | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        written: Path | None = None,
    ) -> None:
        """`written`: where the versions of the worker's own writes outlive the process."""
        self.client = client
        self.config = config
        self._layout = layout
        self._layout_loading = threading.Lock()
        self.cache = _Cache(monotonic)
        self._monotonic = monotonic
        self._full_sweep_at: float | None = None  # when the sweep last listed every open one
        self._written = OwnWrites(path=written)
        # What the last sweep saw: tickets with a deadline and the earliest one (for metrics).
        self.waiting: tuple[int, datetime | None] | None = None
        self._is_candidate = Candidates(config, mapping.first_message, mapping.channel_of)
        self.known = KnownTickets(config.tags.cancellation)  # with the last search per person

    @property
    def layout(self) -> AccountLayout:
        """Loaded once, by whichever read asks first: after a restart the tickets to retry
        come before the export, so reads made ahead ask for it together."""
        if self._layout is None:
            with self._layout_loading:
                if self._layout is None:
                    self._layout = AccountLayout.load(self.client, self.config)
        return self._layout

    # --- finding work --------------------------------------------------------------------

    def changed_tickets(self, cursor: str | None, since: datetime) -> TicketPage:
        """The cursor-based incremental export: every ticket changed after the cursor, 1,000 a
        page, filtered here (tag or keywords, PROCEDURE §1) so only candidates are read. Each
        candidate's ticket, as the export showed it, goes with the page as its header."""
        _ = self.layout  # fail early, before the cursor moves, if the account is not set up
        self.cache.prune()
        self.known.forget_searches()
        now = since + timedelta(days=self.config.procedure.first_run_lookback_days)
        self.known.prune(now)
        start = int(since.timestamp())
        lookback: dict[str, str | int] = {"start_time": start, "per_page": PAGE_SIZE}
        params = _export_params(cursor) or lookback
        try:
            page = self.client.get("/api/v2/incremental/tickets/cursor.json", params)
        except (Invalid, BadRequest):
            if params is lookback:
                raise
            # A place Zendesk no longer accepts (an expired cursor, a start time in the future
            # or within its last minute): start again from the look-back. Safe, because
            # deciding a ticket again after its steps were applied decides nothing.
            log.warning("zendesk cursor refused; rebuilding it from the look-back")
            params = lookback
            page = self.client.get("/api/v2/incremental/tickets/cursor.json", params)
        # from here every ticket created is on a page: at the start time, or for a kept cursor
        # (opaque) from now on
        begins = params.get("start_time")
        self.known.cover_from(datetime.fromtimestamp(int(begins), UTC) if begins else now)
        self.known.caught_up = False
        candidates: list[str] = []
        headers: dict[str, TicketHeader] = {}
        for ticket in page.get("tickets") or []:
            self.known.seen(ticket)
            if ticket.get("status") == "deleted" or not self._is_candidate(ticket):
                continue
            ticket_id = str(ticket["id"])
            if self._written.is_echo(ticket_id, ticket.get("updated_at")):
                continue  # our own last write coming back: nothing changed since
            headers[ticket_id] = TicketHeader(ticket_id, ticket)  # a later change wins
            if ticket_id not in candidates:
                candidates.append(ticket_id)
        self.known.caught_up = bool(page.get("end_of_stream", True))
        after = page.get("after_cursor")
        # An empty export may carry no cursor: resume from where this one started.
        next_cursor = f"c:{after}" if after else f"t:{params.get('start_time', start)}"
        more = not page.get("end_of_stream", True)
        return TicketPage(tuple(candidates), next_cursor, more, headers)

    def due_tickets(self, now: datetime, *, full: bool = False) -> tuple[str, ...]:
        """Open cancellation tickets whose deadline day is over, through the search export (it
        has no 1,000-result cap). Usually only those: the deadline field's range is in the
        query, so an idle sweep costs one request whatever the backlog. Once every
        `FULL_SWEEP_SECONDS` it lists every open cancellation instead (1,000 a page): that
        refreshes the `waiting` metric, reads a deadline typed past the calendar's end, and
        catches anything the search index's handling of the range missed. Either way the
        deadline is compared here, on the page."""
        today = now.astimezone(SAO_PAULO).date()
        deadline_field = self.layout.fields[FieldKey.DEADLINE]
        query = f"tags:{self.config.tags.cancellation} status<solved"
        full = (
            full
            or self._full_sweep_at is None
            or self._monotonic() - self._full_sweep_at >= FULL_SWEEP_SECONDS
        )
        if not full:
            query += f" custom_field_{deadline_field}<{today.isoformat()}"
        due: list[str] = []
        days: list[date] = []
        params: dict[str, str | int] = {
            "query": query,
            "filter[type]": "ticket",
            "page[size]": 1000 if full else 100,
        }
        for page in self.client.pages("/api/v2/search/export.json", params):
            for ticket in page.get("results") or []:
                if full:
                    self.known.seen(ticket)
                value = next(
                    (
                        entry.get("value")
                        for entry in ticket.get("custom_fields") or []
                        if int(entry["id"]) == deadline_field
                    ),
                    None,
                )
                deadline = day_of(from_zendesk(FieldKey.DEADLINE, value))
                if deadline is None:
                    continue
                if day_end(deadline) is None:
                    # Typed by hand past the calendar's end (9999-12-31): that ticket's data, not
                    # a reason to stop the sweep. It is read: the engine acts on the deadline its
                    # own notes keep, tells the agents once and writes that deadline back.
                    log.warning("deadline field out of range; ticket read", ticket_id=ticket["id"])
                    due.append(str(ticket["id"]))
                    continue
                days.append(deadline)
                if deadline < today:
                    due.append(str(ticket["id"]))
        if full:
            self._full_sweep_at = self._monotonic()
            self.known.listed = True
            earliest = min(days, default=None)
            self.waiting = (len(days), day_end(earliest) if earliest else None)
        return tuple(due)

    # --- reading ---------------------------------------------------------------------------

    def read_ticket(self, ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        """The ticket from `header` (the export's page showed it) or fetched, then its comments
        and its requester. An e-mail update whose note never followed left its sent tag: the
        snapshot says so (`unnoted_email`), and the engine decides what it means."""
        ticket = dict(header.data) if header is not None and header.ticket_id == ticket_id else None
        if ticket is None:
            try:
                ticket = self.client.get(f"/api/v2/tickets/{ticket_id}.json")["ticket"]
            except NotFound:
                raise TicketMissing(f"ticket {ticket_id} does not exist (deleted?)", 404) from None
        comments: list[Json] = []
        users: dict[str, Json] = {}
        for page in self.client.pages(
            f"/api/v2/tickets/{ticket_id}/comments.json",
            {"include": "users", "page[size]": 100},
        ):
            comments.extend(page.get("comments") or [])
            users.update({str(u["id"]): u for u in page.get("users") or []})
        requester, _ = self._requester(str(ticket["requester_id"]))
        return mapping.ticket_snapshot(
            ticket,
            comments,
            users,
            requester,
            self.layout,
            frozenset(self.config.zendesk.untrusted_flags),
            unnoted_email=mapping.unnoted_email(ticket.get("tags") or (), self.config),
        )

    def _requester(self, user_id: str) -> tuple[Json, list[Json]]:
        """The requester with their organizations, side-loaded in the same request."""
        cached = self.cache.requesters.get(user_id)
        if cached is not None:
            return cached
        page = self.client.get(f"/api/v2/users/{user_id}.json", {"include": "organizations"})
        self._know(page["user"])
        return self.cache.requesters.put(
            user_id, (page["user"], list(page.get("organizations") or []))
        )

    def read_ficha(self, ticket: Ticket) -> Ficha:
        """Every account the requester belongs to or whose registered e-mail is theirs."""
        _, organizations = self._requester(ticket.requester.id)
        # the requester's own number of accounts is known already: no count to read for them
        self.cache.account_counts.put(ticket.requester.id, len(organizations))
        by_id = {str(o["id"]): o for o in organizations}
        email = ticket.requester.key
        if email:
            for organization in self._registered_to(email):
                by_id.setdefault(str(organization["id"]), organization)
        accounts: list[Account] = [
            mapping.account(organization, self._members(organization_id), self.config)
            for organization_id, organization in sorted(by_id.items())
        ]
        return Ficha(tuple(accounts))

    def _registered_to(self, email: str) -> list[Json]:
        cached = self.cache.by_registered_email.get(email)
        if cached is not None:
            return cached
        key = self.config.ficha.registered_email
        query = f'type:organization {key}:"{email}"'
        found = [
            result
            for page in self.client.pages("/api/v2/search.json", {"query": query})
            for result in page.get("results") or []
            if str((result.get("organization_fields") or {}).get(key) or "").strip().lower()
            == email
        ]
        return self.cache.by_registered_email.put(email, found)

    def _members(self, organization_id: str) -> tuple[Member, ...]:
        cached = self.cache.members.get(organization_id)
        if cached is not None:
            return cached
        members: list[Member] = []
        for user in self._each(f"/api/v2/organizations/{organization_id}/users.json", "users"):
            self._know(user)
            holder, partner = mapping.marks(user, self.config)
            # only marked people can be ambiguous (CONTRACT 15)
            count = self._account_count(str(user["id"])) if holder or partner else 1
            members.append(Member(records.person(user, user["id"]), holder, partner, max(1, count)))
        return self.cache.members.put(organization_id, tuple(members))

    def _account_count(self, user_id: str) -> int:
        """Read once per person per poll: a requester's accounts came with them, and a partner
        of several companies is met again in each company's ficha."""
        known = self.cache.account_counts.get(user_id)
        if known is not None:
            return known
        path = f"/api/v2/users/{user_id}/organization_memberships.json"
        count = sum(1 for _ in self._each(path, "organization_memberships"))
        return self.cache.account_counts.put(user_id, count)

    def _each(self, path: str, key: str) -> Iterator[Json]:
        for page in self.client.pages(path, {"page[size]": 100}):
            yield from page.get(key) or []

    def related_tickets(
        self, emails: tuple[str, ...], since: datetime, *, open_cancellations: bool = False
    ) -> tuple[RelatedTicket, ...]:
        """One search per person: several `requester:` terms are not documented to mean OR.
        A person the worker just read (the requester, an account's member: their user id is
        known) costs no search when the tickets asked for are known (`KnownTickets`): every
        ticket since the export's coverage began, or the open cancellations (listed the first
        time they are asked for). Anyone else, and anything older, is searched; a search answers
        every later question about the same person over a shorter period until the next write
        (a case reads open cancellations over a year, then every ticket since this one was
        opened: `CaseReads.queries`, longest first)."""
        since_day = since.astimezone(SAO_PAULO).date().isoformat()
        known = self.known
        if open_cancellations and known.caught_up and not known.listed:
            self.due_tickets(since, full=True)  # lists every open one; its due list unused

        def search(email: str) -> Iterator[RelatedTicket]:
            user_id = self.cache.user_ids.get(email)
            tickets = (
                known.requested_by(user_id, since, open_cancellations=open_cancellations)
                if user_id is not None
                else None
            )
            if tickets is None:
                tickets = known.search_answer(email, since)
            if tickets is None:
                query = f'type:ticket requester:"{email}" created>={since_day}'
                tickets = [
                    result
                    for page in self.client.pages("/api/v2/search.json", {"query": query})
                    for result in page.get("results") or []
                    if result.get("result_type", "ticket") == "ticket"
                ]
                known.searched(email, since, tickets)
            yield from (mapping.related(ticket, email) for ticket in tickets)

        return related_since(emails, since, search)

    def _know(self, user: Json) -> None:
        email = str(user.get("email") or "").strip().lower()
        if email:
            self.cache.user_ids.put(email, str(user["id"]))

    # --- writing ---------------------------------------------------------------------------

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        """One guarded update per comment, each computed from the ticket as the previous one
        left it (its response carries the ticket). A 409 (an agent's change, a lost response of
        ours, a database conflict) surfaces as StaleTicket: the worker re-reads and re-decides.
        Writes what the step says and nothing more: an e-mail whose note never followed is the
        engine's to settle (`core/unnoted.py`); the sent tag only keeps a step's own e-mail
        from going out twice."""
        path = f"/api/v2/tickets/{ticket.id}.json"
        self.known.forget_searches()
        sent = mapping.sent_tag(self.config, step.key)
        if step.email is not None and sent not in ticket.tags:
            answer = self.client.put(
                path, mapping.email_update(step, ticket, self.config), guarded=True
            )
            ticket = mapping.after_update(ticket, answer["ticket"], self.layout)
        answer = self.client.put(
            path, mapping.note_update(step, ticket, self.layout, self.config), guarded=True
        )
        ticket = mapping.after_update(ticket, answer["ticket"], self.layout)
        self.known.seen(answer["ticket"])
        self._written.remember(ticket.id, ticket.version, complete=step.completes_decision)
        return ticket

    def list_statuses(self) -> tuple[HelpdeskStatus, ...]:
        return tuple(
            HelpdeskStatus(status.label, status.category)
            for status in self.layout.statuses.values()
        )

    def recover(self) -> int:
        """Nothing to finish: every update is one guarded call, and an e-mail's update whose
        note never followed is on the ticket (its sent tag) for the engine to settle."""
        return 0


def _export_params(cursor: str | None) -> dict[str, str | int] | None:
    """The export's parameters for a kept cursor; None when there is none or it is unreadable
    (a hand-edited or damaged state file), so the look-back rebuilds it."""
    if not cursor:
        return None
    if cursor.startswith("t:"):
        start = cursor[2:]
        if not start.isascii() or not start.isdigit():
            log.warning("zendesk cursor unreadable; rebuilding it from the look-back")
            return None
        return {"start_time": int(start), "per_page": PAGE_SIZE}
    return {"cursor": cursor.removeprefix("c:"), "per_page": PAGE_SIZE}
