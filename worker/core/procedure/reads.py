"""What a decision on a ticket may need beyond the ticket and its ficha (`CaseReads`).

Read from the same snapshot the decision reads, before it: the state its notes left, who the
ficha says is asking, the events not handled yet and whether the ticket is a request. Each
query is asked only in the states whose decision can use its answer; where the answer itself
decides whether another is used (an open cancellation elsewhere links a new request, and a
linked ticket does not look at the account's newer tickets), both are read, so the decision
never has to stop and ask. The walk follows the engine's order within one decision: a first
step that sends a ticket to review is followed, like a review a note left, by what agents
typed meanwhile (#retomar adopts it and a procedure begins). The engine raises `MissingRead`
if a decision ever needs more: a bug here, which the scenario and property suites, and a
property over random snapshots (tests/unit/test_case_reads.py), would show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from worker.core.case import CaseReads
from worker.core.commands import Command, CommandKind
from worker.core.effects import RelatedQuery
from worker.core.model import Ficha, Situation, Ticket
from worker.core.procedure.agent_commands import RESTART_REVIEWS
from worker.core.procedure.run import (
    FINAL_STATUSES,
    Event,
    account_people,
    contract_request,
    contract_request_pending,
    day_start,
    situation_field,
    ticket_events,
)
from worker.core.procedure.start import agents_already_handling, detect_request
from worker.core.settings import ProcedureSettings
from worker.core.situation import identify
from worker.core.state import (
    NOT_STARTED,
    UNDER_WAY,
    Phase,
    ProcedureState,
    ReviewReason,
    read_history,
)

# How far back an unresolved cancellation of the same account is looked for. Longer than any
# procedure runs (calls, two deadlines, an agent's review), so a request is never started twice.
OPEN_CANCELLATION_WINDOW = timedelta(days=365)

SPEAKS_FOR_ACCOUNT = frozenset({Situation.HOLDER, Situation.PARTNER})


def reads(ticket: Ticket, ficha: Ficha, settings: ProcedureSettings, now: datetime) -> CaseReads:
    """The reads and the call the decision on this snapshot may need (see the module)."""
    if ticket.status in FINAL_STATUSES:
        return CaseReads()  # solved or closed: nothing is decided, nothing is read
    history = read_history(ticket)
    state = history.state
    identification = identify(ticket.requester, ficha)
    events = ticket_events(ticket, history.consumed)
    commands = {e.command.kind for e in events if isinstance(e.command, Command)}
    field = situation_field(ticket)
    begins: set[Situation | None] = set()  # the situations a first step here may begin
    joins = False  # whether a new request may join an account's cancellation under way
    if state.phase in NOT_STARTED:
        detection = None if CommandKind.START in commands else detect_request(ticket, settings)
        if CommandKind.START not in commands and detection is None:
            return CaseReads()  # not a request: the procedure does not start
        speaks = identification.situation in SPEAKS_FOR_ACCOUNT
        agents = bool(agents_already_handling(ticket))
        maybe = detection is not None and detection.outcome != "request"
        if maybe and not speaks:
            return CaseReads()  # a maybe starts only by joining a cancellation under way
        joins = maybe or (speaks and field is None and not agents)
        begun, review = _first_step(identification.situation, field, agents=agents, maybe=maybe)
        if begun is not None:
            begins.add(begun)
        if review is not None:
            state = state.evolve(phase=Phase.REVIEW, review=review)
    # Then, in the same decision, what an agent does with a review the ticket is (or was just
    # sent) to: the situation field followed, or #retomar adopting the ticket (`start.adopt`).
    if state.review in RESTART_REVIEWS and (
        state.phase is Phase.REVIEW
        or (state.phase is Phase.MANUAL and state.resume_phase is Phase.REVIEW)
    ):
        if state.phase is Phase.REVIEW and state.review is ReviewReason.MISSING_DATA and field:
            begins.add(field)  # an agent chose the situation (`start.follow_situation_field`)
        if CommandKind.RESUME in commands:
            begins.add(field or identification.situation)  # `start.adopt`
    people = account_people(ticket, identification)
    window = timedelta(days=settings.procedure.third_party_window_days)
    situation = Situation(state.situation) if state.situation else None
    watches = (
        bool(begins & SPEAKS_FOR_ACCOUNT)
        if begins
        else situation in SPEAKS_FOR_ACCOUNT and _still_watching(state, events)
    )
    answers_third_party = Situation.THIRD_PARTY in begins or (
        situation is Situation.THIRD_PARTY
        and any(e.command is None for e in events)
        and (state.phase is not Phase.MANUAL or CommandKind.RESUME in commands)
    )
    return CaseReads(
        open_cancellations=(
            RelatedQuery(people, day_start(now - OPEN_CANCELLATION_WINDOW), open_cancellations=True)
            if joins
            else None
        ),
        account_tickets=RelatedQuery(people, day_start(ticket.created_at)) if watches else None,
        requester_tickets=(
            RelatedQuery((ticket.requester.key,), day_start(now - window))
            if answers_third_party
            else None
        ),
        contract=contract_request(ticket, identification, state),
    )


def _first_step(
    situation: Situation | None, field: Situation | None, *, agents: bool, maybe: bool
) -> tuple[Situation | None, ReviewReason | None]:
    """The situation `start.start` may begin on a ticket it enters, or the review it sends the
    ticket to instead; the decision goes on from there with the ticket's commands, so a review
    that #retomar restarts is walked on like one a note had left. A maybe enters only by
    joining, so it begins nothing unless an agent chose the situation; a request from the
    holder or a partner may join instead of beginning, which reading both covers."""
    if agents:
        return None, ReviewReason.IN_PROGRESS
    if field is not None:
        return field, None
    if maybe:
        return None, None
    if situation is None:
        return None, ReviewReason.MISSING_DATA
    return situation, None


def _still_watching(state: ProcedureState, events: list[Event]) -> bool:
    """Whether a started holder's or partners' ticket may still be in a phase that watches the
    account's other tickets once its owed step and its events are handled
    (`incoming.on_other_tickets` comes after them). Only what certainly ends the watch counts:
    the confirmation owed after the system cancelled the contract, #revertido and #manual
    wherever it watches, #contrato-cancelado while the contract is awaited; a message, #cancelar
    or #retomar move it between watching phases, and #retomar back from #manual. Anything not
    certain is read."""
    phase: Phase | None = state.phase  # None: one of the watching phases, not known which
    if phase is Phase.CANCEL_PENDING and state.contract_cancelled:
        phase = Phase.DONE  # `outcomes.contract_call`: the confirmation step, owed
    elif contract_request_pending(state):
        phase = None  # the system's answer decides (cancelled: the confirmation, owed)
    for event in events:
        command = event.command
        watching = phase is None or phase in UNDER_WAY
        if command is None:
            phase = None if watching else phase  # a refusal or a reply moves it, within
        elif not isinstance(command, Command):
            continue  # an invalid command gets a note, nothing more
        elif watching and command.kind in (CommandKind.RETAINED, CommandKind.MANUAL):
            phase = Phase.DONE if command.kind is CommandKind.RETAINED else Phase.MANUAL
        elif phase is Phase.CANCEL_PENDING and command.kind is CommandKind.CONTRACT_CANCELLED:
            phase = Phase.DONE
        elif command.kind in (CommandKind.CANCEL, CommandKind.RESUME) and (
            watching or (phase is Phase.MANUAL and command.kind is CommandKind.RESUME)
        ):
            phase = None
    return phase is None or phase in UNDER_WAY
