"""The cancellation procedure (PROCEDURE.md §1-§7) as a pure function of the ticket.

`decide` reads where the ticket stands from the worker's own notes (see `state.py`), handles every
event it has not handled yet, in order (agents' command lines, the customers' messages, other
tickets of the account's people), then the clock (a deadline that passed), and returns the steps to
take. Each step carries exactly one note and the state after it, so applying the steps and deciding
again yields nothing: the fixed point that makes retries, restarts and duplicate polls harmless.

The parts live in `worker/core/procedure/`: `start` (how a ticket enters), `agent_commands`,
`incoming` (what customers and partners write), `outcomes` (confirmations, cancelling, deadlines,
the call to the company's contract system). Each is handed where the decision stands (`At`: a
read-only view of the case and the state so far) and returns its transitions (`Move`, `Skip`);
`fold` is the one place they become steps: it checks each against the table, applies the table's
rules, numbers it, records the events it consumed, and hands the state to the next handler.

A decision is taken on the account's cancellation case (`core/case.py`), not on the ticket
alone: `reads` says, from the snapshot, which of the account's other tickets and which contract
answer the decision may need; the shell reads them once and `decide` runs once on the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from worker.core.calendar import BusinessCalendar
from worker.core.case import CancellationCase
from worker.core.effects import Decision, FieldKey, Step, StepRecord, TargetStatus
from worker.core.model import StatusCategory
from worker.core.procedure import agent_commands, incoming, outcomes, start, table
from worker.core.procedure.reads import reads
from worker.core.procedure.run import (
    FINAL_STATUSES,
    At,
    Context,
    Move,
    Skip,
    Transitions,
    View,
    ticket_events,
)
from worker.core.procedure.table import Trigger
from worker.core.settings import ProcedureSettings
from worker.core.state import Marker, Phase, StepKey, read_history
from worker.core.unnoted import settle_unnoted_email

__all__ = ["decide", "reads", "ticket_events"]


def decide(
    case: CancellationCase, settings: ProcedureSettings, calendar: BusinessCalendar, now: datetime
) -> Decision:
    """The steps to take now on the case's ticket."""
    steps = _play(View.of(Context(case, settings, calendar, now)))
    return Decision(steps=settle_unnoted_email(case.ticket, steps, settings.tags.review))


@dataclass(frozen=True)
class Progress:
    """The decision as the fold leaves it: where it stands, the events handled by doing nothing
    and not recorded yet, the steps so far, and what the ticket shows once they are written
    (the deadline field, whether it shows "waiting")."""

    at: At
    skipped: tuple[str, ...]
    steps: tuple[Step, ...]
    deadline_shown: str | None
    shows_waiting: bool

    @staticmethod
    def begin(view: View) -> Progress:
        ticket = view.ticket
        history = read_history(ticket)
        return Progress(
            at=At(view, history.state, history.steps, history.consumed),
            skipped=(),
            steps=(),
            deadline_shown=ticket.fields.get(FieldKey.DEADLINE.value),
            # The helpdesk moves a waiting ticket back to open when anyone of the customer's
            # side writes, though the procedure may still wait.
            shows_waiting=ticket.status is StatusCategory.PENDING,
        )


def fold(progress: Progress, trigger: Trigger, transitions: Transitions) -> Progress:
    """Takes a handler's transitions, in order: each step is one the table declares (else
    `table.UndeclaredStep`), its status comes from the table's row, and the table's rules amend
    what it changes; the step is numbered, its note's marker carries the state after it and the
    events it consumed (with those skipped before it), and its record names the row (of
    `trigger`, what the handler was handling, where several rows declare the same step)."""
    for item in transitions:
        if isinstance(item, Skip):
            progress = replace(progress, skipped=(*progress.skipped, item.ref))
        else:
            progress = _take(progress, trigger, item)
    return progress


def _take(progress: Progress, trigger: Trigger, move: Move) -> Progress:
    at = progress.at
    row = table.transition(at.state.phase, move.kind, move.state.phase, trigger)
    table.check_email(row, move.email)
    where = table.Where(
        after=move.state,
        deadline_shown=progress.deadline_shown,
        shows_waiting=progress.shows_waiting,
        under_review=_needs_review(progress, move),
        ticket_id=at.ticket.id,
    )
    change = table.apply_rules(table.Change(row.status, move.fields, move.follow_ups), where)
    deadline_shown = progress.deadline_shown
    for name, value in change.fields:
        if name is FieldKey.DEADLINE:
            deadline_shown = value
    shows_waiting = progress.shows_waiting
    if change.status is not None:
        shows_waiting = change.status is TargetStatus.WAITING_CUSTOMER
    refs = (*progress.skipped, *([move.ref] if move.ref else []))
    key = StepKey(at.steps + 1, move.kind)
    step = Step(
        key=str(key),
        note=move.note,
        marker=Marker(key, refs, move.state).render(),
        email=move.email,
        status=change.status,
        fields=change.fields,
        add_tags=move.add_tags,
        remove_tags=move.remove_tags,
        follow_ups=change.follow_ups,
        why=StepRecord(
            row=table.row_number(row),
            trigger=row.trigger.value,
            guard=row.guard,
            section=row.section,
            before=at.state.phase,
            after=move.state.phase,
            consumed=refs,
        ),
    )
    return Progress(
        at=at.then((*map(Skip, progress.skipped), move)),
        skipped=(),
        steps=(*progress.steps, step),
        deadline_shown=deadline_shown,
        shows_waiting=shows_waiting,
    )


def _needs_review(progress: Progress, move: Move) -> bool:
    """Whether the review tag is on the ticket once this step's tags are applied, counting
    what the earlier steps of this decision did."""
    tags = set(progress.at.ticket.tags)
    for step in progress.steps:
        tags = (tags - step.remove_tags) | step.add_tags
    tags = (tags - move.remove_tags) | move.add_tags
    return progress.at.settings.tags.review in tags


def _play(view: View) -> tuple[Step, ...]:
    progress = Progress.begin(view)
    ticket = view.ticket
    if progress.at.state.phase in (Phase.NEW, Phase.POSSIBLE):
        if ticket.status in FINAL_STATUSES:
            return ()
        started, transitions = start.enter(progress.at)
        progress = fold(progress, Trigger.FIRST_SIGHT, transitions)
        if not started:
            return progress.steps
    elif ticket.status in FINAL_STATUSES:
        # Solved or closed (by the worker, or by an agent after a reopening): nothing more is ours
        # to do until someone writes again and the helpdesk reopens it.
        return ()
    progress = fold(progress, Trigger.AGENT, start.follow_situation_field(progress.at))
    progress = fold(progress, Trigger.OWED, agent_commands.owed_steps(progress.at))
    events = ticket_events(ticket, progress.at.consumed)
    last_message = next((e.ref for e in reversed(events) if e.command is None), None)
    for event in events:
        if event.ref in progress.skipped:
            continue
        if event.command is not None:
            transitions = agent_commands.on_command(progress.at, event, event.command)
            progress = fold(progress, Trigger.AGENT, transitions)
        else:
            transitions = incoming.on_message(progress.at, event, last_message)
            progress = fold(progress, Trigger.MESSAGE, transitions)
    progress = fold(progress, Trigger.OTHER_TICKET, incoming.on_other_tickets(progress.at))
    progress = fold(progress, Trigger.CLOCK, outcomes.on_clock(progress.at))
    typed = outcomes.typed_deadline(progress.at, progress.deadline_shown)
    return fold(progress, Trigger.CLOCK, typed).steps
