"""The imperative shell around the procedure: read, decide, render, write, for every ticket due.

Per ticket: read it, its ficha and what the decision needs of the account (`engine.reads`),
decide once on that case, render each step and apply it against the
ticket as read, then each next step against the ticket as the previous write left it (the
helpdesk says so), so the steps of one decision never undo each other. When the helpdesk says
the ticket changed meanwhile (an agent, or our own lost response) the ticket is read again and
decided again, never overwritten: a step already applied shows in the ticket's notes, so
deciding again never repeats it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from worker.config import Config, procedure_settings
from worker.core import engine
from worker.core import messages as msg
from worker.core.calendar import BusinessCalendar
from worker.core.effects import ContractAnswer, ContractRequest, Step
from worker.core.model import AuthorRole, Ficha, Ticket
from worker.core.state import StepKey, parse_marker, read_history
from worker.metrics import Metrics
from worker.ports import (
    ContractSystem,
    Helpdesk,
    HelpdeskError,
    OutgoingEmail,
    RenderedStep,
    StaleTicket,
    TicketGone,
    TicketHeader,
)
from worker.render import Renderer
from worker.safety import Guard, Paused
from worker.state_dir import PollPlace, PollPlaceFile

MAX_REDECISIONS = 5  # conflicts in a row before a ticket waits for the next poll

log = structlog.get_logger("worker")


@dataclass
class TicketOutcome:
    ticket_id: str
    steps: list[str] = field(default_factory=list)
    emails: int = 0
    conflicts: int = 0
    follow_ups: list[str] = field(default_factory=list)
    # What the one `ticket.handled` line says of the ticket (docs/operations.md).
    outcome: str = "nothing"
    situation: str | None = None
    phase_before: str | None = None
    phase_after: str | None = None
    rows: list[int] = field(default_factory=list)  # of the transition table, one per step


# The `outcome` of a `ticket.handled` line.
WRITTEN = "written"
DRY_RUN = "dry-run"
NOTHING = "nothing"  # decided, and nothing was due
CONFLICT_GAVE_UP = "conflict-gave-up"
OUTSIDE_ALLOW_LIST = "skipped-outside-allow-list"
GONE = "gone"
FAILED = "failed"
PAUSED = "paused"
STOPPED = "stopped"


@dataclass
class PollReport:
    tickets: int = 0
    steps: int = 0
    emails: int = 0
    conflicts: int = 0
    failed: list[str] = field(default_factory=list)
    paused: str | None = None  # why the run stopped writing, if it did
    stopped: bool = False  # a stop was requested (SIGTERM) and the run ended early

    def add(self, other: PollReport) -> PollReport:
        return PollReport(
            self.tickets + other.tickets,
            self.steps + other.steps,
            self.emails + other.emails,
            self.conflicts + other.conflicts,
            self.failed + other.failed,
            self.paused or other.paused,
            self.stopped or other.stopped,
        )


class Stopping(Exception):
    """A stop was requested: the step in flight finished, nothing new starts."""


Read = tuple[Ticket, Ficha]


class ReadAhead:
    """The next tickets' reads (the ticket and its ficha), in a few threads while this one
    decides and writes: with a helpdesk 150 ms away, a ticket read after another spends most
    of its time waiting for answers. Decisions and writes stay here, one ticket after another
    and in order, so writes keep their pacing and every ticket's steps their sequence. A read
    made early is no risk: a ticket changed since is refused at its write (StaleTicket) and read
    again. A read that failed is simply read again here, failing the way it always did."""

    def __init__(
        self, helpdesk: Helpdesk, threads: int, headers: Mapping[str, TicketHeader]
    ) -> None:
        self.helpdesk = helpdesk
        self.threads = threads
        self.headers = headers  # what the page showed of each ticket, handed back to the read
        self._pool = ThreadPoolExecutor(threads, "read-ahead") if threads > 0 else None
        self._pending: dict[str, Future[Read]] = {}
        self._queue: list[str] = []

    def plan(self, ticket_ids: Sequence[str]) -> None:
        self._queue = list(ticket_ids)
        self._fill()

    def take(self, ticket_id: str) -> Read | None:
        """The ticket's read if it was made ahead and succeeded; None to read it now."""
        if ticket_id in self._queue:
            self._queue.remove(ticket_id)
        future = self._pending.pop(ticket_id, None)
        self._fill()
        if future is None:
            return None
        try:
            return future.result()
        except Exception:
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()

    def _fill(self) -> None:
        if self._pool is None:
            return
        while self._queue and len(self._pending) < self.threads:
            ticket_id = self._queue.pop(0)
            if ticket_id not in self._pending:
                self._pending[ticket_id] = self._pool.submit(self._read, ticket_id)

    def _read(self, ticket_id: str) -> Read:
        ticket = self.helpdesk.read_ticket(ticket_id, self.headers.get(ticket_id))
        return ticket, self.helpdesk.read_ficha(ticket)


ERROR_MARK = "[cancelamento-worker-erro] "


class Worker:
    def __init__(
        self,
        helpdesk: Helpdesk,
        config: Config,
        renderer: Renderer,
        *,
        guard: Guard,
        dry_run: bool = False,
        place_file: PollPlaceFile | None = None,
        stop_requested: Callable[[], bool] = lambda: False,
        metrics: Metrics | None = None,
        contract: ContractSystem | None = None,
        read_ahead: int = 0,
    ) -> None:
        """Built by `worker.bootstrap`, the one place that wires the application. No clock:
        each run is given its `now` by its caller, read once, so every ticket of a run (and
        every replay of its decision) is decided at the same moment."""
        self.helpdesk = helpdesk
        self.config = config
        self.settings = procedure_settings(config)  # what the core reads of it
        self.renderer = renderer
        self.calendar = BusinessCalendar.from_config(config.calendar)
        self.dry_run = dry_run
        self.place_file = place_file
        self.guard = guard
        self.stop_requested = stop_requested
        self.metrics = metrics or Metrics()
        self.contract = contract
        self.read_ahead = read_ahead  # threads reading the next tickets (ReadAhead); 0: none
        place = place_file.load() if place_file is not None else PollPlace()
        # A different allow-list is a different set of tickets: start again from the look-back
        # so tickets skipped before are seen now (deciding again is harmless).
        self.scope = _scope(config)
        self.cursor: str | None = place.cursor if place.scope == self.scope else None
        self.retry: set[str] = set(place.retry)

    # --- one run: the poll and the sweep -----------------------------------------------------

    def run_once(self, now: datetime) -> PollReport:
        """One poll and one sweep, as `run --once` does, both at `now`."""
        report = self.poll(now)
        if report.paused or report.stopped:
            return report
        return report.add(self.sweep(now))

    def poll(self, now: datetime) -> PollReport:
        """Every ticket changed since the last poll (on the first, the configured look-back),
        after the tickets that failed last time: the cursor moved past them, so they are kept
        here until a poll gets through them. A poll starts a run: the e-mail cap counts from
        here (the sweep after it included)."""
        self.guard.start_run()
        return self._run("poll", lambda report: self._poll_pages(now, report))

    def sweep(self, now: datetime) -> PollReport:
        """Tickets whose deadline passed, though nothing on them changed."""
        return self._run("sweep", lambda report: self._sweep_due(now, report))

    def wake(self, ticket_id: str, now: datetime) -> PollReport:
        """A webhook named this ticket: handle it now, read afresh as the poll would (a failure
        goes to the retry list the next poll works through)."""
        return self._run("webhook", lambda report: self._handle_into(ticket_id, now, report))

    def _run(self, name: str, work: Callable[[PollReport], None]) -> PollReport:
        """Paused, a run reads nothing and keeps its place; a pause tripped or a stop requested
        midway ends it where it stands."""
        report = PollReport()
        if not self.dry_run and (reason := self.guard.paused_reason()) is not None:
            log.warning("paused: run skipped", job=name, reason=reason)
            report.paused = reason
            return report
        if not self.dry_run:
            # what a crash cut in the adapter's own writes, finished before any ticket is read
            # (reads never write: a dry run, explain and report only read)
            self.helpdesk.recover()
        try:
            with structlog.contextvars.bound_contextvars(job=name):
                work(report)
        except Paused as why:
            report.paused = str(why)
        except Stopping:
            report.stopped = True
        return report

    def _poll_pages(self, now: datetime, report: PollReport) -> None:
        self._handle_all(sorted(self.retry), now, report)
        since = now - timedelta(days=self.config.procedure.first_run_lookback_days)
        while True:
            page = self.helpdesk.changed_tickets(self.cursor, since)
            self._handle_all(page.ticket_ids, now, report, page.headers)
            self.cursor = page.cursor
            self._save_place()
            if not page.more:
                return

    def _sweep_due(self, now: datetime, report: PollReport) -> None:
        self._handle_all(self.helpdesk.due_tickets(now), now, report)

    def _handle_all(
        self,
        ticket_ids: Sequence[str],
        now: datetime,
        report: PollReport,
        headers: Mapping[str, TicketHeader] | None = None,
    ) -> None:
        headers = headers or {}
        ahead = ReadAhead(self.helpdesk, self.read_ahead if len(ticket_ids) > 1 else 0, headers)
        try:
            ahead.plan(ticket_ids)
            for ticket_id in ticket_ids:
                read = ahead.take(ticket_id)
                self._handle_into(ticket_id, now, report, read, headers.get(ticket_id))
        finally:
            ahead.close()

    def _save_place(self) -> None:
        """After each page: a restart resumes there, and still retries what failed before."""
        if self.place_file is not None and not self.dry_run:
            self.place_file.save(PollPlace(self.cursor, frozenset(self.retry), self.scope))

    def _handle_into(
        self,
        ticket_id: str,
        now: datetime,
        report: PollReport,
        read: Read | None = None,
        header: TicketHeader | None = None,
    ) -> None:
        if self.stop_requested():
            raise Stopping
        report.tickets += 1
        try:
            outcome = self.handle(ticket_id, now, read=read, header=header)
        except (Paused, Stopping):
            raise
        except TicketGone:
            # Deleted, merged away or spam: no retry can ever succeed, and keeping it would fail
            # (and alert) at every poll. If it comes back, the poll hands it out again.
            self.retry.discard(ticket_id)
            return
        except HelpdeskError as problem:
            log.warning("ticket failed, retried next poll", ticket_id=ticket_id, error=str(problem))
            self.metrics.ticket_failed()
            self.retry.add(ticket_id)
            report.failed.append(ticket_id)
            return
        except Exception as problem:
            # A bug or data the worker cannot read must not stop the other tickets: an agent is
            # told once, and the ticket is tried again when it changes.
            log.exception("ticket could not be decided; skipped", ticket_id=ticket_id)
            self.metrics.ticket_failed()
            self.retry.discard(ticket_id)
            report.failed.append(ticket_id)
            self._note_failure(ticket_id, problem)
            return
        self.retry.discard(ticket_id)
        self.metrics.ticket_handled()
        report.steps += len(outcome.steps)
        report.emails += outcome.emails
        report.conflicts += outcome.conflicts

    def _note_failure(self, ticket_id: str, problem: Exception) -> None:
        """One note and `cancelamento-revisar`, unless the ticket already says the same. The
        note names the kind of failure, never its text (it could carry personal data)."""
        signature = f"{type(problem).__name__}-{_digest(repr(problem.args))}"
        if self.dry_run or self.guard.paused_reason() is not None:
            return
        try:
            ticket = self.helpdesk.read_ticket(ticket_id)
            last = next(
                (c.body for c in reversed(ticket.comments) if c.role is AuthorRole.WORKER),
                "",
            )
            if ERROR_MARK + signature in last:
                return
            note = self.renderer.note(msg.worker_error_note(type(problem).__name__))
            step = RenderedStep(
                key="0:erro",
                note=f"{note}\n\n{ERROR_MARK}{signature}",
                email=None,
                status=None,
                fields={},
                add_tags=frozenset({self.config.tags.review}),
                remove_tags=frozenset(),
            )
            self.helpdesk.apply_step(ticket, step)
            log.warning("failure noted for an agent", ticket_id=ticket_id, failure=signature)
        except Exception:
            log.exception("could not note the failure on the ticket", ticket_id=ticket_id)

    # --- one ticket ---------------------------------------------------------------------------

    def decide(self, ticket: Ticket, now: datetime, ficha: Ficha | None = None) -> tuple[Step, ...]:
        """The engine's decision on the ticket's case: the ficha (unless the caller read it
        already), then what `engine.reads` says the decision may need (the account's other
        tickets, the contract call a note recorded), each read once; then one decision."""
        ficha = ficha if ficha is not None else self.helpdesk.read_ficha(ticket)
        needs = engine.reads(ticket, ficha, self.settings, now)
        answer: ContractAnswer | None = None
        if needs.contract is not None and (answer := self._cancel_contract(needs.contract)) is None:
            return ()
        found = {
            query: self.helpdesk.related_tickets(
                query.emails, query.since, open_cancellations=query.open_cancellations
            )
            for query in needs.queries()
        }
        case = needs.case(ticket, ficha, found, answer)
        return engine.decide(case, self.settings, self.calendar, now).steps

    def _cancel_contract(self, request: ContractRequest) -> ContractAnswer | None:
        """The one call outside the helpdesk. `engine.reads` names it only once a note records
        it, so sending it again (a crash before its answer was noted) repeats its key and the
        system cancels once. None in a dry run: nothing is called and nothing decided after."""
        event = {"ticket_id": request.ticket_id, "key": request.key}
        if self.dry_run:
            log.info("contract", outcome="dry-run (not called)", **event)
            return None
        if self.contract is None:
            raise HelpdeskError("contract_cancellation.mode is http, but no contract system is set")
        self.guard.before_write(False)
        answer = self.contract.cancel(request)
        outcome = "cancelled" if answer.cancelled else "refused" if answer.refused else "failed"
        log.info(
            "contract",
            outcome=outcome,
            status=answer.status,
            attempts=answer.attempts,
            detail=answer.detail,
            **event,
        )
        return answer

    def handle(
        self,
        ticket_id: str,
        now: datetime,
        *,
        follow_ups: bool = True,
        read: Read | None = None,
        header: TicketHeader | None = None,
    ) -> TicketOutcome:
        """Decide and write one ticket (from `read`, its ticket and ficha read ahead, if given;
        else read with `header`, what its page showed of it); then the tickets its steps point
        to (a new ticket linked to an account's cancellation under way is handled there at
        once)."""
        outcome = self._handled(ticket_id, now, read, header)
        if follow_ups:
            for other in dict.fromkeys(outcome.follow_ups):
                more = self._handled(other, now)
                outcome.steps.extend(more.steps)
                outcome.emails += more.emails
                outcome.conflicts += more.conflicts
        return outcome

    def _handled(
        self,
        ticket_id: str,
        now: datetime,
        read: Read | None = None,
        header: TicketHeader | None = None,
    ) -> TicketOutcome:
        """One ticket's handling, with `ticket_id` bound for every line logged meanwhile (the
        adapters' included), ending in its one `ticket.handled` line."""
        outcome = TicketOutcome(ticket_id)
        with structlog.contextvars.bound_contextvars(ticket_id=ticket_id), _handled_line(outcome):
            self._decide_and_write(outcome, now, read, header)
        return outcome

    def _decide_and_write(
        self, outcome: TicketOutcome, now: datetime, read: Read | None, header: TicketHeader | None
    ) -> None:
        ticket_id = outcome.ticket_id
        for _ in range(MAX_REDECISIONS):
            ficha: Ficha | None = None
            if read is None:
                ticket = self.helpdesk.read_ticket(ticket_id, header)
            else:
                (ticket, ficha), read = read, None  # after a conflict, read again
            header = None  # after a conflict the page's header is stale too
            if not self.guard.allows(ticket):
                outcome.outcome = OUTSIDE_ALLOW_LIST
                return
            state = read_history(ticket).state
            outcome.phase_before = outcome.phase_before or state.phase.value
            steps = self.decide(ticket, now, ficha)
            outcome.situation = _situation(steps[-1]) if steps else state.situation
            outcome.phase_after = _phase(steps[-1]) if steps else state.phase.value
            try:
                for n, step in enumerate(steps, start=1):
                    if self.stop_requested():
                        raise Stopping
                    ticket = self._write(ticket, step, _situation(step), last=n == len(steps))
                    outcome.steps.append(step.key)
                    outcome.rows += [step.why.row] if step.why else []
                    outcome.emails += step.email is not None
                    outcome.follow_ups.extend(step.follow_ups)
                outcome.outcome = (DRY_RUN if self.dry_run else WRITTEN) if steps else NOTHING
                return
            except StaleTicket:
                outcome.conflicts += 1
                log.debug("write", ticket_id=ticket_id, outcome="conflict")
        outcome.outcome = CONFLICT_GAVE_UP

    def _write(
        self, ticket: Ticket, step: Step, situation: str | None, *, last: bool = True
    ) -> Ticket:
        rendered = replace(self.render(step), completes_decision=last)
        emails = step.email is not None
        event = {"ticket_id": ticket.id, "situation": situation, "step": step.key, "email": emails}
        if self.dry_run:
            log.info("write", outcome="dry-run (nothing written)", **event)
            self.metrics.step_written(step.key, emails)
            return ticket
        self.guard.before_write(emails)
        try:
            written = self.helpdesk.apply_step(ticket, rendered)
        except StaleTicket:
            raise
        except HelpdeskError as problem:
            log.warning("write", outcome="failed", error=str(problem), **event)
            raise
        self.guard.after_write(emails)
        log.info("write", outcome="written", **event)
        self.metrics.step_written(step.key, emails)
        return written

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


@contextmanager
def _handled_line(outcome: TicketOutcome) -> Iterator[None]:
    """The one line an operator reads per ticket: what it was, what became of it, how long it
    took. Ids, phases and step keys only: no text of the ticket (LGPD)."""
    started = time.perf_counter()
    try:
        yield
    except TicketGone:
        outcome.outcome = GONE
        raise
    except Paused:
        outcome.outcome = PAUSED
        raise
    except Stopping:
        outcome.outcome = STOPPED
        raise
    except Exception:
        outcome.outcome = FAILED
        raise
    finally:
        failed = outcome.outcome in (FAILED, CONFLICT_GAVE_UP)
        log.log(
            logging.WARNING if failed else logging.INFO,
            "ticket.handled",
            ticket_id=outcome.ticket_id,
            job=structlog.contextvars.get_contextvars().get("job"),  # poll, sweep, webhook
            outcome=outcome.outcome,
            situation=outcome.situation,
            phase_before=outcome.phase_before,
            phase_after=outcome.phase_after,
            steps=list(outcome.steps),
            kinds=[StepKey.parse(key).kind.value for key in outcome.steps],
            rows=list(outcome.rows),
            emails=outcome.emails,
            conflicts=outcome.conflicts,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )


def _scope(config: Config) -> str | None:
    """The allow-list as a short fingerprint (ids and tags only)."""
    safety = config.safety
    if not safety.allow_list:
        return None
    return _digest(json.dumps([sorted(safety.only_tickets), sorted(safety.only_tags)]))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _situation(step: Step) -> str | None:
    """Who is asking as the step leaves it: a first step's line says what it just found out,
    not the nothing the ticket's notes said before it."""
    marker = parse_marker(step.marker)
    return marker.state.situation if marker is not None else None


def _phase(step: Step) -> str | None:
    marker = parse_marker(step.marker)
    return marker.state.phase.value if marker is not None else None
