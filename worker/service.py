"""The imperative shell around the procedure: read, decide, render, write, for every ticket due.

Per ticket: read it and its ficha, ask the engine, render each step and apply it against the
version read. When the helpdesk says the ticket changed meanwhile (an agent, or our own lost
response) the ticket is read again and decided again, never overwritten: a step already applied
shows in the ticket's notes, so deciding again never repeats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from worker.config import Config
from worker.core.calendar import BusinessCalendar
from worker.core.effects import RelatedQuery, Step
from worker.core.engine import Context, decide
from worker.core.model import RelatedTicket, Ticket
from worker.ports import Helpdesk, HelpdeskError, OutgoingEmail, RenderedStep, StaleTicket
from worker.render import Renderer
from worker.state_dir import PollPlace, PollPlaceFile

MAX_REDECISIONS = 5  # conflicts in a row before a ticket waits for the next poll
MAX_LOOKUPS = 3

log = structlog.get_logger("worker")


@dataclass
class TicketOutcome:
    ticket_id: str
    steps: list[str] = field(default_factory=list)
    emails: int = 0
    conflicts: int = 0
    follow_ups: list[str] = field(default_factory=list)


@dataclass
class PollReport:
    tickets: int = 0
    steps: int = 0
    emails: int = 0
    conflicts: int = 0
    failed: list[str] = field(default_factory=list)


class Worker:
    def __init__(
        self,
        helpdesk: Helpdesk,
        config: Config,
        renderer: Renderer,
        clock: Callable[[], datetime],
        *,
        dry_run: bool = False,
        place_file: PollPlaceFile | None = None,
    ) -> None:
        self.helpdesk = helpdesk
        self.config = config
        self.renderer = renderer
        self.clock = clock
        self.calendar = BusinessCalendar.from_config(config.calendar)
        self.dry_run = dry_run
        self.place_file = place_file
        place = place_file.load() if place_file is not None else PollPlace()
        self.cursor: str | None = place.cursor
        self.retry: set[str] = set(place.retry)

    def poll(self) -> PollReport:
        """Every ticket changed since the last poll (on the first, the configured look-back),
        after the tickets that failed last time: the cursor moved past them, so they are kept
        here until a poll gets through them."""
        report = PollReport()
        for ticket_id in sorted(self.retry):
            self._handle_into(ticket_id, report)
        since = self.clock() - timedelta(days=self.config.procedure.first_run_lookback_days)
        while True:
            page = self.helpdesk.changed_tickets(self.cursor, since)
            for ticket_id in page.ticket_ids:
                self._handle_into(ticket_id, report)
            self.cursor = page.cursor
            self._save_place()
            if not page.more:
                return report

    def _save_place(self) -> None:
        """After each page: a restart resumes there, and still retries what failed before."""
        if self.place_file is not None and not self.dry_run:
            self.place_file.save(PollPlace(self.cursor, frozenset(self.retry)))

    def sweep(self) -> PollReport:
        """Tickets whose deadline passed, though nothing on them changed."""
        report = PollReport()
        for ticket_id in self.helpdesk.due_tickets(self.clock()):
            self._handle_into(ticket_id, report)
        return report

    def _handle_into(self, ticket_id: str, report: PollReport) -> None:
        report.tickets += 1
        try:
            outcome = self.handle(ticket_id)
        except HelpdeskError as problem:
            log.warning("ticket failed, retried next poll", ticket_id=ticket_id, error=str(problem))
            self.retry.add(ticket_id)
            report.failed.append(ticket_id)
            return
        except Exception:
            # A bug or data the worker cannot read must not stop the other tickets; the ticket
            # is tried again when it changes. (Issue 6 adds the note for an agent.)
            log.exception("ticket could not be decided; skipped", ticket_id=ticket_id)
            report.failed.append(ticket_id)
            return
        self.retry.discard(ticket_id)
        report.steps += len(outcome.steps)
        report.emails += outcome.emails
        report.conflicts += outcome.conflicts

    def decide(self, ticket: Ticket) -> tuple[Step, ...]:
        """The engine's decision, with the related tickets it asks for read on demand."""
        ficha = self.helpdesk.read_ficha(ticket)
        related: dict[RelatedQuery, tuple[RelatedTicket, ...]] = {}
        for _ in range(MAX_LOOKUPS):
            context = Context(ticket, ficha, self.config, self.calendar, self.clock(), related)
            decision = decide(context)
            if decision.needs_related is None:
                return decision.steps
            query = decision.needs_related
            related[query] = self._related(query, related)
        raise RuntimeError(f"ticket {ticket.id}: the decision kept asking for related tickets")

    def _related(
        self, query: RelatedQuery, known: dict[RelatedQuery, tuple[RelatedTicket, ...]]
    ) -> tuple[RelatedTicket, ...]:
        """A query for the same people over a shorter period is answered from the longer one
        already read (a search costs a request; the engine often asks both)."""
        for earlier, tickets in known.items():
            if set(earlier.emails) == set(query.emails) and earlier.since <= query.since:
                return tuple(t for t in tickets if t.created_at >= query.since)
        return self.helpdesk.related_tickets(query.emails, query.since)

    def handle(self, ticket_id: str, *, follow_ups: bool = True) -> TicketOutcome:
        """Decide and write one ticket; then the tickets its steps point to (a new ticket linked
        to an account's cancellation under way is handled there at once)."""
        outcome = self._handle_one(ticket_id)
        if follow_ups:
            for other in outcome.follow_ups:
                more = self._handle_one(other)
                outcome.steps.extend(more.steps)
                outcome.emails += more.emails
                outcome.conflicts += more.conflicts
        return outcome

    def _handle_one(self, ticket_id: str) -> TicketOutcome:
        outcome = TicketOutcome(ticket_id)
        for _ in range(MAX_REDECISIONS):
            ticket = self.helpdesk.read_ticket(ticket_id)
            steps = self.decide(ticket)
            try:
                for step in steps:
                    rendered = self.render(step)
                    log.info(
                        "step",
                        ticket_id=ticket_id,
                        step=step.key,
                        email=step.email is not None,
                        dry_run=self.dry_run,
                    )
                    if not self.dry_run:
                        version = self.helpdesk.apply_step(ticket, rendered)
                        ticket = replace(ticket, version=version)
                    outcome.steps.append(step.key)
                    outcome.emails += step.email is not None
                    if step.follow_up is not None:
                        outcome.follow_ups.append(step.follow_up)
                return outcome
            except StaleTicket:
                outcome.conflicts += 1
                log.info("conflict", ticket_id=ticket_id, action="re-read and re-decide")
        log.warning("gave up after conflicts", ticket_id=ticket_id, conflicts=outcome.conflicts)
        return outcome

    def render(self, step: Step) -> RenderedStep:
        email = None
        if step.email is not None:
            rendered = self.renderer.email(step.email.message)
            email = OutgoingEmail(rendered.text, rendered.html, step.email.cc)
        note = self.renderer.note(step.note) + "\n\n" + step.marker
        return RenderedStep(
            key=step.key,
            note=note,
            email=email,
            status=step.status,
            fields=dict(step.fields),
            add_tags=step.add_tags,
            remove_tags=step.remove_tags,
        )
