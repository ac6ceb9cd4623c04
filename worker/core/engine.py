"""The cancellation procedure (PROCEDURE.md §1-§7) as a pure function of the ticket.

`decide` reads where the ticket stands from the worker's own notes (see `state.py`), handles every
event it has not handled yet, in order (agents' command lines, the customers' messages, other
tickets of the account's people), then the clock (a deadline that passed), and returns the steps to
take. Each step carries exactly one note and the state after it, so applying the steps and deciding
again yields nothing: the fixed point that makes retries, restarts and duplicate polls harmless.

The parts live in `worker/core/procedure/`: `start` (how a ticket enters), `agent_commands`,
`incoming` (what customers and partners write), `outcomes` (confirmations, cancelling, deadlines,
the call to the company's contract system), all working on one `Run`.

A decision is taken on the account's cancellation case (`core/case.py`), not on the ticket
alone: `reads` says, from the snapshot, which of the account's other tickets and which contract
answer the decision may need; the shell reads them once and `decide` runs once on the whole.
"""

from __future__ import annotations

from datetime import datetime

from worker.core.calendar import BusinessCalendar
from worker.core.case import CancellationCase
from worker.core.effects import Decision, Step
from worker.core.procedure import agent_commands, incoming, outcomes, start
from worker.core.procedure.reads import reads
from worker.core.procedure.run import FINAL_STATUSES, Context, Run, ticket_events
from worker.core.procedure.table import Trigger
from worker.core.settings import ProcedureSettings
from worker.core.state import Phase
from worker.core.unnoted import settle_unnoted_email

__all__ = ["decide", "reads", "ticket_events"]


def decide(
    case: CancellationCase, settings: ProcedureSettings, calendar: BusinessCalendar, now: datetime
) -> Decision:
    """The steps to take now on the case's ticket."""
    steps = tuple(_play(Run(Context(case, settings, calendar, now))))
    return Decision(steps=settle_unnoted_email(case.ticket, steps, settings.tags.review))


def _play(run: Run) -> list[Step]:
    run.trigger = Trigger.FIRST_SIGHT
    if run.state.phase in (Phase.NEW, Phase.POSSIBLE):
        if run.ticket.status in FINAL_STATUSES or not start.enter(run):
            return run.out
    elif run.ticket.status in FINAL_STATUSES:
        # Solved or closed (by the worker, or by an agent after a reopening): nothing more is ours
        # to do until someone writes again and the helpdesk reopens it.
        return []
    run.trigger = Trigger.AGENT
    start.follow_situation_field(run)
    run.trigger = Trigger.OWED
    agent_commands.owed_steps(run)
    events = ticket_events(run.ticket, run.consumed)
    run.last_message = next((e.ref for e in reversed(events) if e.command is None), None)
    for event in events:
        if event.ref in run.skipped:
            continue
        if event.command is not None:
            run.trigger = Trigger.AGENT
            agent_commands.on_command(run, event, event.command)
        else:
            run.trigger = Trigger.MESSAGE
            incoming.on_message(run, event)
    run.trigger = Trigger.OTHER_TICKET
    incoming.on_other_tickets(run)
    run.trigger = Trigger.CLOCK
    outcomes.on_clock(run)
    outcomes.typed_deadline(run)
    return run.out
