"""The Helpdesk port on Freshdesk (see docs/freshdesk.md for every endpoint and why).

Cost per poll: one list request per 100 changed tickets (requester and description embedded,
so only candidates are read further; each one's ticket goes with the page as its header).
Cost per ticket read: the conversations, plus look-ups of people not seen before. Cost per
step: one re-read, then one call per write (reply, note, update), each announced in the journal
first so a crash never repeats or loses one. Reads never write: what a crash cut and needs no
decision is finished by `recover`, which the shell calls at the start of each run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from worker.adapters import records
from worker.adapters.finding import Candidates, day_of, related_since
from worker.adapters.freshdesk import mapping
from worker.adapters.freshdesk.http import (
    FreshdeskClient,
    FreshdeskError,
    Invalid,
    Json,
    NotFound,
    Page,
    TicketMissing,
    Unreachable,
    page_of,
)
from worker.adapters.freshdesk.journal import Entry, Journal, Phase, digest
from worker.adapters.freshdesk.layout import CLOSED, RESOLVED, AccountLayout
from worker.adapters.memo import OwnWrites, Recent
from worker.config import Config, FichaKeys
from worker.core.calendar import SAO_PAULO
from worker.core.effects import FieldKey
from worker.core.model import Account, AuthorRole, Comment, Ficha, Member, RelatedTicket, Ticket
from worker.core.state import MARKER_PREFIX, read_history
from worker.ports import HelpdeskStatus, RenderedStep, StaleTicket, TicketHeader, TicketPage

log = structlog.get_logger("worker.freshdesk")

PAGE_SIZE = 100  # the largest `per_page`
MAX_PAGES = 300  # Freshdesk answers no page past this one
OVERLAP = timedelta(seconds=60)  # each poll re-asks the last minute; seen changes are skipped
CLOCK_SKEW = 300.0  # seconds: Freshdesk's clock against ours, when matching a reply to intent
SEARCH_PAGE, SEARCH_PAGES = 30, 10  # filter/search: 30 results a page, 10 pages at most
SEARCH_LIMIT = SEARCH_PAGE * SEARCH_PAGES
OPEN_SPAN = timedelta(days=32)  # an open-ended range is first split this far back
_DAY = timedelta(days=1)
# How often the sweep's range on the deadline field is checked against the full listing of open
# cancellations (fact 41 is not settled: a Freshdesk that took the range and answered it wrong
# would otherwise hide due tickets without an error).
RANGE_CHECK_SECONDS = 24 * 3600
RANGE_CHECKED = "deadline-range-checked"
_SKEW = timedelta(seconds=CLOCK_SKEW)


@dataclass(frozen=True)
class _Cursor:
    since: str  # ISO UTC, the `updated_since` of the next request (before the overlap)
    page: int
    seen: dict[str, str]  # ticket id -> updated_at, for changes already handed out

    def render(self) -> str:
        payload = {"since": self.since, "page": self.page, "seen": self.seen}
        return "v1:" + json.dumps(payload, separators=(",", ":"), sort_keys=True)

    @classmethod
    def parse(cls, text: str | None, now: datetime) -> _Cursor | None:
        """None for anything the poll cannot resume from (damaged, edited by hand, or ahead of
        the clock, which would hide every change until then): the look-back rebuilds it."""
        if not text or not text.startswith("v1:"):
            return None
        try:
            data = json.loads(text[3:])
            place = cls(str(data["since"]), int(data["page"]), dict(data["seen"]))
            for stamp in (place.since, *place.seen.values()):
                if _parse(str(stamp)).utcoffset() is None:
                    raise ValueError("a time without its offset")
        except (ValueError, KeyError, TypeError, OverflowError):
            log.warning("freshdesk cursor unreadable; rebuilding it from the look-back")
            return None
        if not 1 <= place.page <= MAX_PAGES or _parse(place.since) > now + _SKEW:
            log.warning("freshdesk cursor out of range; rebuilding it from the look-back")
            return None
        return place


@dataclass(frozen=True)
class _Range:
    """Days of one field for a filter query, both ends inclusive, `low` None for open.
    `whole_days`: the field holds days (a custom date); for a date-time (`created_at`)
    whether `:<'day'` takes that whole day is not documented, so the upper bound is written as
    the next day (a ticket created at midnight may show in two parts; `found` is by id)."""

    field: str
    low: date | None
    high: date
    whole_days: bool = True
    span: timedelta = OPEN_SPAN  # what an open range's next split peels off its end

    def terms(self) -> str:
        high = self.high if self.whole_days else self.high + _DAY
        low = f" AND {self.field}:>'{self.low.isoformat()}'" if self.low is not None else ""
        return f"{low} AND {self.field}:<'{high.isoformat()}'"

    def halves(self) -> tuple[_Range, _Range] | None:
        if self.low is None:  # the recent days first, each open remainder twice as far back
            start = self.high - self.span + _DAY
            older = replace(self, high=start - _DAY, span=self.span * 2)
            return older, replace(self, low=start)
        if self.low >= self.high:
            return None
        middle = self.low + (self.high - self.low) // 2
        return replace(self, high=middle), replace(self, low=middle + _DAY)


@dataclass
class _Cache:
    """Reads one poll can share (`Recent`), and agents' names, which live for the process."""

    clock: Callable[[], float]
    agents: dict[str, Json] = field(default_factory=dict)
    contacts: Recent[Json] = field(init=False)
    companies: Recent[Json] = field(init=False)
    members: Recent[tuple[Member, ...]] = field(init=False)
    registered: Recent[list[Json]] = field(init=False)

    def __post_init__(self) -> None:
        self.contacts = Recent(self.clock)
        self.companies = Recent(self.clock)
        self.members = Recent(self.clock)
        self.registered = Recent(self.clock)

    def prune(self) -> None:
        for memory in (self.contacts, self.companies, self.members, self.registered):
            memory.prune()


class FreshdeskHelpdesk:
    def __init__(
        self,
        client: FreshdeskClient,
        config: Config,
        journal_path: Path,
        *,
        layout: AccountLayout | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        written: Path | None = None,
    ) -> None:
        """`written`: where the versions of the worker's own writes outlive the process."""
        self.client = client
        self.config = config
        self.journal = Journal(journal_path, clock=wall_clock)
        self._layout = layout
        self._ficha_config: Config | None = None
        self.cache = _Cache(monotonic)
        self._recovered = False
        self._written = OwnWrites(path=written)
        self._is_candidate = Candidates(config, mapping.first_message, mapping.channel_of)
        self._deadline_ranges = True  # until Freshdesk refuses a range on the deadline field

    @property
    def layout(self) -> AccountLayout:
        if self._layout is None:
            self._layout = AccountLayout.load(self.client, self.config)
        return self._layout

    @property
    def ficha_config(self) -> Config:
        """The configuration with the ficha's fields under the names this account gave them
        (read once, by name or label), which is what the shared record readers look up."""
        if self._ficha_config is None:
            names = FichaKeys(**self.layout.ficha)
            self._ficha_config = self.config.model_copy(update={"ficha": names})
        return self._ficha_config

    # --- finding work --------------------------------------------------------------------

    def changed_tickets(self, cursor: str | None, since: datetime) -> TicketPage:
        """Tickets by `updated_at` ascending from the kept cursor. Each page starts again from
        the last `updated_at` seen rather than asking for page N+1: a ticket updated while we
        page moves to the end of the list and would shift the pages under us, and Freshdesk
        answers no page past 300. Only a page whose tickets all share one second follows the
        `link` header instead. Each candidate's ticket, as the list showed it (requester and
        description embedded), goes with the page as its header."""
        _ = self.layout  # fail early, before the cursor moves, if the account is not set up
        self.cache.prune()
        now = since + timedelta(days=self.config.procedure.first_run_lookback_days)
        lookback = _Cursor(_iso(since), 1, {})
        place = _Cursor.parse(cursor, now) or lookback
        try:
            page = self._changed_page(place)
        except Invalid:
            if place is lookback:
                raise
            log.warning("freshdesk cursor refused; rebuilding it from the look-back")
            place = lookback
            page = self._changed_page(place)
        candidates: list[str] = []
        headers: dict[str, TicketHeader] = {}
        stamps = dict(place.seen)
        last = place.since
        for ticket in page.items:
            ticket_id, stamp = str(ticket["id"]), str(ticket["updated_at"])
            last = max(last, stamp, key=_parse)
            if place.seen.get(ticket_id) == stamp:
                continue  # handed out already, in the overlap
            stamps[ticket_id] = stamp
            if self._written.is_echo(ticket_id, stamp):
                continue  # our own last write coming back: nothing changed since
            if _discarded(ticket) is None and self._is_candidate(ticket):
                headers[ticket_id] = TicketHeader(ticket_id, ticket)
                if ticket_id not in candidates:
                    candidates.append(ticket_id)
        following = page.next_url is not None
        if following and last == place.since:  # a full page within one second
            next_page = page_of(page.next_url) or place.page + 1
            if next_page > MAX_PAGES:
                log.warning("freshdesk poll: more than 30,000 changes in one second; skipped")
                last, next_page = _iso(_parse(last) + timedelta(seconds=1)), 1
        else:
            next_page = 1
        horizon = _parse(last) - OVERLAP
        seen = {i: s for i, s in stamps.items() if _parse(s) >= horizon}
        cursor = _Cursor(last, next_page, seen).render()
        return TicketPage(tuple(candidates), cursor, following, headers)

    def _changed_page(self, place: _Cursor) -> Page:
        return self.client.page(
            "/api/v2/tickets",
            {
                "updated_since": _iso(_parse(place.since) - OVERLAP),
                "order_by": "updated_at",
                "order_type": "asc",
                "per_page": PAGE_SIZE,
                "page": place.page,
                "include": "requester,description",
            },
        )

    def due_tickets(self, now: datetime) -> tuple[str, ...]:
        """Open cancellation tickets whose deadline day is over, through filter tickets
        (indexed a few minutes late). The query asks only for a deadline up to yesterday
        (`:<` is "less than or equal to"), so an idle sweep is one request whatever the
        backlog; the deadline is compared here too, on the page. If Freshdesk refuses a range
        on the custom date field (its list of filterable custom field types does not name
        dates, docs/freshdesk.md fact 41), every open cancellation is listed instead, for the
        rest of the process. Either way a query matching more than the filter's 300 results is
        split by day ranges (`_filtered`), so no due ticket is left past the 300th."""
        today = now.astimezone(SAO_PAULO).date()
        layout = self.layout
        deadline = layout.fields[FieldKey.DEADLINE]
        open_ids = sorted(i for i in layout.statuses if i not in (RESOLVED, CLOSED))
        statuses = " OR ".join(f"status:{i}" for i in open_ids)
        base = f"tag:'{self.config.tags.cancellation}' AND ({statuses})"
        found: dict[str, Json] = {}
        if self._deadline_ranges:
            try:
                self._filtered(base, _Range(deadline, None, today - _DAY), found)
            except Invalid:
                log.warning("freshdesk refused a range on the deadline field; listing every one")
                self._deadline_ranges = False
                found.clear()
            else:
                self._check_range(base, today, deadline, found)
        if not self._deadline_ranges:
            self._every_open(base, today, found)
        return tuple(_due(found, deadline, today))

    def _every_open(self, base: str, today: date, found: dict[str, Json]) -> None:
        """Every open cancellation, split by `created_at` (a documented date field) where the
        filter's 300 results are not enough: the fallback and the daily check's listing."""
        self._filtered(base, _Range("created_at", None, today, whole_days=False), found)

    def _check_range(self, base: str, today: date, deadline: str, found: dict[str, Json]) -> None:
        """Once a day, the full listing too: if it shows a due ticket the range left out, the
        range is not trusted again in this process (logged as an error) and what the listing
        found is swept now. A check that agrees is remembered in the journal."""
        last = self.journal.marked_at(RANGE_CHECKED)
        if last is not None and self.journal.clock() - last < RANGE_CHECK_SECONDS:
            return
        listed: dict[str, Json] = {}
        self._every_open(base, today, listed)
        missed = set(_due(listed, deadline, today)) - set(found)
        if missed:
            log.error(
                "freshdesk's range on the deadline field left out due tickets; listing every one",
                missed=len(missed),
            )
            self._deadline_ranges = False
            found.update(listed)
            return
        self.journal.mark(RANGE_CHECKED)

    def _filtered(self, base: str, days: _Range, found: dict[str, Json]) -> None:
        """Every ticket `base` matches within `days`, into `found` (by id). The filter answers
        30 a page, 10 pages at most, and says its `total`: a part matching more than 300 is
        split in two by day (an open start peels off its last `OPEN_SPAN` days, then twice as
        many each time), down to single days. A part costs one request per page it fills, and
        each split two first pages: parts over 300 at one level are disjoint, and 20 levels
        reach one day from 22 years back, so M matches cost at most ceil(M/30) + 1 +
        2 x 20 x floor(M/301) requests; nothing due costs one. A single day matching more
        than 300 is read to its 300th (logged): those are handled and leave their wait, and
        the rest come at the next sweep."""
        query = f'"{base}{days.terms()}"'
        first = self.client.get("/api/v2/search/tickets", {"query": query, "page": 1})
        total, results = _results(first)
        parts = days.halves() if total > SEARCH_LIMIT else None
        if parts is not None:
            for part in parts:
                self._filtered(base, part, found)
            return
        if total > SEARCH_LIMIT:
            log.warning("freshdesk filter: more than 300 in one day; the rest next sweep")
        found.update((str(t["id"]), t) for t in results)
        number = 1
        while len(results) == SEARCH_PAGE and number < SEARCH_PAGES:
            number += 1
            answer = self.client.get("/api/v2/search/tickets", {"query": query, "page": number})
            _, results = _results(answer)
            found.update((str(t["id"]), t) for t in results)

    def _search(self, path: str, query: str) -> Iterator[Json]:
        total = 0
        for number in range(1, SEARCH_PAGES + 1):
            answer = self.client.get(path, {"query": query, "page": number})
            total, results = _results(answer)
            yield from results
            if len(results) < SEARCH_PAGE:
                return
        if total > SEARCH_LIMIT:
            log.warning("freshdesk search truncated at 300 results", total=total)

    # --- reading ---------------------------------------------------------------------------

    def read_ticket(self, ticket_id: str, header: TicketHeader | None = None) -> Ticket:
        """The ticket from `header` (the list's page showed it) or fetched, and its
        conversations. Writes nothing, even with a step of it cut in the journal (`recover`
        finishes those). A reply of the worker with no note of the worker after it is on the
        snapshot (`unnoted_email`) for the engine to settle."""
        known = header is not None and header.ticket_id == ticket_id
        ticket = dict(header.data) if header is not None and known else self._get_ticket(ticket_id)
        conversations = list(
            self.client.each(f"/api/v2/tickets/{ticket_id}/conversations", {"per_page": 100})
        )
        requester_json = ticket.get("requester") or self._contact(str(ticket["requester_id"]))
        requester = records.person(requester_json, ticket["requester_id"])
        people = self._people(conversations, requester.id)
        snapshot = mapping.ticket_snapshot(ticket, conversations, requester, people, self.layout)
        return replace(snapshot, unnoted_email=self._unnoted_email(snapshot))

    def _unnoted_email(self, ticket: Ticket) -> str | None:
        """The step whose e-mail is the worker's reply with no note of the worker after it:
        every step writes its reply first and its note next, so such a reply is the e-mail of
        the step the notes say is owed. The journal names that step (the row claiming the
        reply, or the one whose reply's fate was unknown, sent after its intent); without a
        row (the journal lost) only its number is known: the worker's notes plus one."""
        reply = _last_unnoted_reply(ticket)
        if reply is None:
            return None
        sent = reply.created_at.timestamp()
        for entry in self.journal.unfinished(ticket.id):
            if entry.reply_id == reply.id:
                return entry.step_key
            if entry.phase is Phase.REPLYING and sent >= entry.started_at - CLOCK_SKEW:
                return entry.step_key
        return str(read_history(ticket).steps + 1)

    def _get_ticket(self, ticket_id: str) -> Json:
        """The ticket as it is now. One gone for the worker is `TicketGone`: a 404, or shown
        with `deleted` (in the trash) or `spam` set, which Freshdesk answers by id like any
        other ticket; its cut steps in the journal are closed, since none can ever finish."""
        try:
            answer = self.client.get(f"/api/v2/tickets/{ticket_id}", {"include": "requester"})
        except NotFound:
            answer = None
        ticket = answer if isinstance(answer, dict) else {}
        why = "does not exist (deleted for good?)" if answer is None else _discarded(ticket)
        if why is None:
            return ticket
        closed = self.journal.close_ticket(ticket_id)
        if closed:
            log.warning("ticket gone; its cut steps closed", ticket_id=ticket_id, steps=closed)
        raise TicketMissing(f"ticket {ticket_id} {why}", 404 if answer is None else None)

    def _people(self, conversations: list[Json], requester_id: str) -> dict[str, Json]:
        """Authors other than the requester and the worker: contacts for incoming messages (a
        partner in copy), agents for the rest (their names go into notes)."""
        people: dict[str, Json] = {}
        for conversation in conversations:
            user_id = str(conversation.get("user_id"))
            if user_id in people or user_id in (requester_id, str(self.layout.worker_id)):
                continue
            if conversation.get("incoming"):
                people[user_id] = self._contact(user_id)
            else:
                people[user_id] = self._agent(user_id)
        return people

    def _contact(self, contact_id: str) -> Json:
        cached = self.cache.contacts.get(contact_id)
        if cached is not None:
            return cached
        try:
            contact = self.client.get(f"/api/v2/contacts/{contact_id}")
        except NotFound:  # an agent, or a deleted contact
            contact = {"id": contact_id}
        return dict(self.cache.contacts.put(contact_id, contact))

    def _agent(self, agent_id: str) -> Json:
        if agent_id not in self.cache.agents:
            try:
                agent = self.client.get(f"/api/v2/agents/{agent_id}")
            except NotFound:
                agent = {}
            contact = agent.get("contact") or {}
            self.cache.agents[agent_id] = {"id": agent_id, "name": contact.get("name") or ""}
        return self.cache.agents[agent_id]

    def read_ficha(self, ticket: Ticket) -> Ficha:
        """Every company the requester belongs to (`company_id`, `other_companies`) or whose
        registered e-mail is theirs."""
        contact = self._contact(ticket.requester.id)
        own = mapping.company_ids(contact)
        by_id = {company_id: self._company(company_id) for company_id in own}
        if ticket.requester.key:
            for company in self._registered_to(ticket.requester.key):
                by_id.setdefault(str(company["id"]), company)
        accounts: list[Account] = [
            mapping.account(company, self._members(company_id), self.ficha_config)
            for company_id, company in sorted(by_id.items())
        ]
        return Ficha(tuple(accounts))

    def _company(self, company_id: str) -> Json:
        cached = self.cache.companies.get(company_id)
        if cached is not None:
            return cached
        company = self.client.get(f"/api/v2/companies/{company_id}")
        return dict(self.cache.companies.put(company_id, company))

    def _registered_to(self, email: str) -> list[Json]:
        cached = self.cache.registered.get(email)
        if cached is not None:
            return cached
        key = self.ficha_config.ficha.registered_email
        query = f"\"{key}:'{email}'\""
        found = [
            company
            for company in self._search("/api/v2/search/companies", query)
            if str((company.get("custom_fields") or {}).get(key) or "").strip().lower() == email
        ]
        return self.cache.registered.put(email, found)

    def _members(self, company_id: str) -> tuple[Member, ...]:
        """The company's contacts; the list gives each one's companies, so a partner of several
        (ambiguous, CONTRACT 15) costs no further request."""
        cached = self.cache.members.get(company_id)
        if cached is not None:
            return cached
        members: list[Member] = []
        for contact in self.client.each(
            "/api/v2/contacts", {"company_id": company_id, "per_page": 100}
        ):
            holder, partner = mapping.marks(contact, self.ficha_config)
            count = max(1, len(mapping.company_ids(contact)))
            members.append(Member(records.person(contact, contact["id"]), holder, partner, count))
        return self.cache.members.put(company_id, tuple(members))

    def related_tickets(
        self, emails: tuple[str, ...], since: datetime, *, open_cancellations: bool = False
    ) -> tuple[RelatedTicket, ...]:
        """One list request per person (`email` filter); `updated_since` lifts the list's
        30-day default, and creation is compared here. Every ticket, whatever is asked."""

        def search(email: str) -> Iterator[RelatedTicket]:
            params: dict[str, str | int] = {
                "email": email,
                "updated_since": _iso(since),
                "per_page": PAGE_SIZE,
                "include": "description",
            }
            for ticket in self.client.each("/api/v2/tickets", params):
                yield mapping.related(ticket, email)

        return related_since(emails, since, search)

    # --- writing ---------------------------------------------------------------------------

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        """Re-read, compare the version, then reply, note and update, each announced in the
        journal first (module docstring of journal.py). A step cut by a crash is decided again
        by the engine with the same key, and resumes here where it stopped. Writes what the
        step says: an e-mail whose note never followed is the engine's to settle (the snapshot's
        `unnoted_email`); the journal and the ticket only keep an e-mail from going out twice."""
        if self._finish_earlier(ticket.id, step.key):
            # An earlier step's update, cut, is written first; the ticket it leaves is another
            # than the one this step was decided on.
            raise StaleTicket(f"ticket {ticket.id}: an earlier step was finished first")
        current = self._get_ticket(ticket.id)
        entry = self.journal.find(ticket.id, step.key)
        if entry is not None and entry.phase is Phase.DONE:
            log.warning("step already written; nothing sent", ticket_id=ticket.id, step=step.key)
            return self._as_written(ticket, step, str(current["updated_at"]))
        if str(current.get("updated_at")) != ticket.version:
            raise StaleTicket(f"ticket {ticket.id} changed since it was read")
        orphan = self._unnoted_reply(ticket, step.key)
        plan = mapping.planned_update(step, self.layout)
        if entry is None:
            entry = self.journal.begin(
                ticket.id,
                step.key,
                email_hash=digest(step.email.html) if step.email else None,
                note_hash=digest(step.note),
                plan=plan,
            )
        else:  # resumed: the update is the one decided now
            entry = self.journal.advance(entry, entry.phase, plan=plan)
        path = f"/api/v2/tickets/{ticket.id}"
        if entry.phase is Phase.REPLYING:  # the reply's fate was unknown: the ticket says
            entry = self._settle(entry, self._our_reply(entry))
        if step.email is not None:
            if entry.phase is Phase.PLANNED and orphan is not None:
                # The journal does not remember it (lost, emptied, restored without its WAL):
                # the ticket does. Its reply is there with no note after it: never send again.
                log.warning("reply found in the ticket; not sent again", ticket_id=ticket.id)
                entry = self.journal.advance(entry, Phase.REPLIED, reply_id=orphan.id)
            if entry.phase in (Phase.PLANNED, Phase.REPLYING):
                entry = self._write(
                    entry, Phase.REPLYING, Phase.REPLIED, f"{path}/reply", mapping.reply_body(step)
                )
        if entry.phase is Phase.NOTING:
            entry = self._settle(entry, self._our_note(entry))
        if entry.phase in (Phase.PLANNED, Phase.REPLIED, Phase.NOTING):
            entry = self._write(
                entry, Phase.NOTING, Phase.NOTED, f"{path}/notes", mapping.note_body(step)
            )
        version = self._update(entry, current.get("tags") or ())
        self._written.remember(ticket.id, version, complete=step.completes_decision)
        return self._as_written(ticket, step, version)

    def _as_written(self, ticket: Ticket, step: RenderedStep, version: str) -> Ticket:
        """Freshdesk's write answers do not all carry the ticket: the step's changes are applied
        to the snapshot, statuses named as `read_ticket` names them."""
        return records.as_written(
            ticket,
            step,
            version,
            lambda target: mapping.status_of(
                {"status": self.layout.status_id(target)}, self.layout
            ),
        )

    def _write(self, entry: Entry, doing: Phase, done: Phase, path: str, body: Json) -> Entry:
        """One POST between its intent and its completion. A refusal (4xx, a long 429) surely
        wrote nothing, so the intent is withdrawn; an unknown fate (timeout, 5xx, reset) is
        left as intent for the next attempt to settle from the ticket."""
        before = entry.phase
        entry = self.journal.advance(entry, doing)
        try:
            answer = self.client.post(path, body)
        except Unreachable:
            raise
        except FreshdeskError:
            self.journal.advance(entry, before)
            raise
        written = str(answer.get("id"))
        if done is Phase.REPLIED:
            return self.journal.advance(entry, done, reply_id=written)
        return self.journal.advance(entry, done, note_id=written)

    def _settle(self, entry: Entry, found: str | None) -> Entry:
        """An intent whose call's fate was unknown, settled from what the ticket shows."""
        if found is None:
            back = Phase.PLANNED if entry.phase is Phase.REPLYING else Phase.REPLIED
            if entry.phase is Phase.NOTING and entry.email_hash is None:
                back = Phase.PLANNED
            return self.journal.advance(entry, back)
        if entry.phase is Phase.REPLYING:
            return self.journal.advance(entry, Phase.REPLIED, reply_id=found)
        return self.journal.advance(entry, Phase.NOTED, note_id=found)

    def _conversations(self, ticket_id: str) -> list[Json]:
        return list(
            self.client.each(f"/api/v2/tickets/{ticket_id}/conversations", {"per_page": 100})
        )

    def _our_reply(self, entry: Entry) -> str | None:
        """The worker's own public reply created since the intent and not another step's: the
        worker is the only writer as its agent (CONTRACT 13), so it is this step's. A body with
        the very hash recorded is preferred, should there be more than one."""
        claimed = self.journal.claimed_replies(entry.ticket_id)
        found = [
            c
            for c in self._conversations(entry.ticket_id)
            if str(c.get("user_id")) == str(self.layout.worker_id)
            and not c.get("private")
            and not c.get("incoming")
            and str(c["id"]) not in claimed
            and records.timestamp(c["created_at"]).timestamp() >= entry.started_at - CLOCK_SKEW
        ]
        exact = [c for c in found if digest(str(c.get("body") or "")) == entry.email_hash]
        chosen = (exact or found)[:1]
        return str(chosen[0]["id"]) if chosen else None

    def _unnoted_reply(self, ticket: Ticket, step_key: str) -> Comment | None:
        """The worker's public reply with no note of the worker after it, claimed by no other
        step: every step writes its reply first and its note next, so such a reply belongs to
        the step being written now, whatever the journal remembers, and is never sent again.
        The ticket as read is the ticket now (its version was just compared)."""
        reply = _last_unnoted_reply(ticket)
        claimed = self.journal.claimed_replies(ticket.id, other_than=step_key)
        return reply if reply is not None and reply.id not in claimed else None

    def _our_note(self, entry: Entry) -> str | None:
        """The worker's private note whose marker names this step."""
        sign = f'"passo":{json.dumps(entry.step_key, ensure_ascii=False)}'
        for conversation in self._conversations(entry.ticket_id):
            if str(conversation.get("user_id")) != str(self.layout.worker_id):
                continue
            text = mapping.text_of(conversation)
            if conversation.get("private") and MARKER_PREFIX in text and sign in text:
                return str(conversation["id"])
        return None

    def _update(self, entry: Entry, tags: Any) -> str:
        """The ticket update: a PUT sets values, so repeating it after a crash is harmless."""
        path = f"/api/v2/tickets/{entry.ticket_id}"
        body = mapping.update_body(entry.plan, tags)
        if body:
            version = str(self.client.put(path, body)["updated_at"])
        else:  # nothing to set: the version is what our comments left
            version = str(self._get_ticket(entry.ticket_id)["updated_at"])
        self.journal.advance(entry, Phase.DONE)
        return version

    def _finish_earlier(self, ticket_id: str, step_key: str) -> bool:
        """Before a step is written, the updates other steps of the ticket still owe (a lost
        answer earlier in this run): a later update must never be overwritten by an earlier."""
        owing = [
            entry
            for entry in self.journal.unfinished(ticket_id)
            if entry.step_key != step_key and entry.phase in (Phase.NOTING, Phase.NOTED)
        ]
        return bool(owing) and self._finish_alone(ticket_id)

    def _finish_alone(self, ticket_id: str) -> bool:
        """Finish what needs no decision: a step whose note is written (or may be) owes only
        its update. Steps cut before their note wait for the engine to decide them again."""
        finished = False
        for entry in self.journal.unfinished(ticket_id):
            if entry.phase is Phase.NOTING:
                entry = self._settle(entry, self._our_note(entry))
            if entry.phase is Phase.NOTED:
                current = self._get_ticket(ticket_id)
                self._update(entry, current.get("tags") or ())
                log.info("finished a cut step", ticket_id=ticket_id, step=entry.step_key)
                finished = True
        return finished

    def recover(self) -> int:
        """Finish every cut step that needs no decision (its note written, or maybe: only its
        update is owed); the shell calls it at the start of each run that writes. The first
        call of the process also closes the rows of tickets gone since (deleted, spam), reports
        the steps that wait for the engine (decided again when their ticket is read) and prunes
        old rows; later calls touch only tickets that owe an update, so an idle run asks
        Freshdesk nothing."""
        first = not self._recovered
        self._recovered = True
        pending = self.journal.unfinished()
        owing = {e.ticket_id for e in pending if first or e.phase in (Phase.NOTING, Phase.NOTED)}
        for ticket_id in sorted(owing):
            try:
                self._get_ticket(ticket_id)  # gone since: its rows are closed
                self._finish_alone(ticket_id)
            except TicketMissing:
                continue
            except FreshdeskError as problem:
                log.warning("cut step not finished yet", ticket_id=ticket_id, error=str(problem))
        waiting = self.journal.unfinished()
        if first:
            for entry in waiting:
                log.info(
                    "cut step waits for its ticket",
                    ticket_id=entry.ticket_id,
                    step=entry.step_key,
                    phase=entry.phase.value,
                )
            self.journal.prune()
        return len(pending) - len(waiting)

    def list_statuses(self) -> tuple[HelpdeskStatus, ...]:
        return tuple(
            HelpdeskStatus(status.label, status.category.value)
            for status in self.layout.statuses.values()
        )


def _last_unnoted_reply(ticket: Ticket) -> Comment | None:
    """The worker's last public reply when no note of the worker follows it."""
    found: Comment | None = None
    for comment in ticket.comments:
        if comment.role is not AuthorRole.WORKER:
            continue
        found = comment if comment.public else None  # a note closes the step before it
    return found


def _due(found: dict[str, Json], deadline: str, today: date) -> list[str]:
    """The tickets whose deadline day is over, compared here whatever the query asked."""
    due: list[str] = []
    for ticket_id, ticket in found.items():
        if _discarded(ticket) is not None:
            continue  # whether the filter leaves these out is not documented
        value = (ticket.get("custom_fields") or {}).get(deadline)
        day = day_of(str(value) if value else None)
        if day is not None and day < today:
            due.append(ticket_id)
    return due


def _results(answer: Any) -> tuple[int, list[Json]]:
    """A filter answer's `total` and `results` (a missing total counts as what the page holds)."""
    if not isinstance(answer, dict):
        return 0, []
    results = list(answer.get("results") or [])
    total = answer.get("total")
    return (total if isinstance(total, int) else len(results)), results


def _discarded(ticket: Json) -> str | None:
    """Why a ticket is no place for the procedure: in the trash or marked as spam (the
    `deleted` and `spam` attributes, docs/freshdesk.md), or None."""
    if ticket.get("deleted"):
        return "is in the trash"
    if ticket.get("spam"):
        return "is marked as spam"
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return records.timestamp(text)
