"""What agents record with commands in internal notes (PROCEDURE.md §6, CONTRACT 3 and 13).

Each handler returns the transitions the command takes, or the reason (pt-BR) it does not apply
now, which becomes a note for the agent."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.commands import VALID_COMMANDS, Command, CommandKind, InvalidCommand
from worker.core.effects import Email, FieldKey
from worker.core.model import Situation
from worker.core.procedure import outcomes, start
from worker.core.procedure.run import (
    ALL_PARTNERS_CONFIRMED,
    OUTCOME_RETAINED,
    At,
    Event,
    Move,
    Skip,
    Transitions,
)
from worker.core.procedure.table import PHASE_LABELS
from worker.core.settings import ProcedureSettings
from worker.core.state import (
    CONTACTING,
    WAITING_PHASES,
    Phase,
    ProcedureState,
    ReviewReason,
    StepKind,
)


def reject(at: At, event: Event, line: str, problem: str) -> Move:
    return Move(
        StepKind.INVALID_COMMAND,
        msg.command_rejected_note(at.facts(), line, problem, list(VALID_COMMANDS)),
        at.state,
        ref=event.ref,
    )


def on_command(at: At, event: Event, command: Command | InvalidCommand) -> Transitions:
    phase = at.state.phase
    if phase is Phase.MANUAL and not (
        isinstance(command, Command) and command.kind is CommandKind.RESUME
    ):
        return (Skip(event.ref),)  # CONTRACT 3: nothing at all until #retomar
    if isinstance(command, InvalidCommand):
        return (reject(at, event, command.text, command.problem),)
    handler = {
        CommandKind.ATTEMPT: attempt,
        CommandKind.RETAINED: retained,
        CommandKind.CANCEL: cancel,
        CommandKind.IDENTITY_CONFIRMED: identity_confirmed,
        CommandKind.PARTNER_CONFIRMED: partner_confirmed,
        CommandKind.CONTRACT_CANCELLED: contract_cancelled,
        CommandKind.MANUAL: manual,
        CommandKind.RESUME: resume,
        CommandKind.START: started_already,
    }[command.kind]
    taken = handler(at, event, command)
    if isinstance(taken, str):
        return (reject(at, event, command.text, taken),)
    return taken


def started_already(at: At, event: Event, command: Command) -> Transitions | str:
    """#iniciar-cancelamento counts only before the procedure starts (`start.enter`)."""
    return "o procedimento de cancelamento já foi iniciado neste ticket"


def attempt(at: At, event: Event, command: Command) -> Transitions | str:
    if at.state.phase not in CONTACTING:
        return at.not_now()
    attempts = at.state.attempts + 1
    max_attempts = at.settings.procedure.max_call_attempts
    counted = Move(
        StepKind.ATTEMPT,
        msg.attempt_note(at.facts(), attempts, max_attempts, at.view.agent(event)),
        at.state.evolve(attempts=attempts),
        ref=event.ref,
        fields=((FieldKey.ATTEMPTS, str(attempts)),),
    )
    after = at.then((counted,))
    if (
        attempts >= max_attempts
        and not after.state.contact_email_sent
        and after.state.phase is Phase.CALLING
    ):
        return (counted, send_contact_email(after))
    return (counted,)


def owed_steps(at: At) -> Transitions:
    """A decision that takes two steps (the third call and the contact e-mail; the last
    confirmation and the cancelling; the cancelling and the contract system's answer; that
    answer and the confirmation e-mail) can be cut between them by a crash or a conflict. The
    state the first step left says the second is owed, so it is decided again, before anything
    newer."""
    state = at.state
    if (
        state.phase is Phase.CALLING
        and state.attempts >= at.settings.procedure.max_call_attempts
        and not state.contact_email_sent
    ):
        return (send_contact_email(at),)
    if (
        state.phase is Phase.WAITING_PARTNERS
        and at.situation() is Situation.PARTNER
        and at.view.all_confirmed(state)
    ):
        return (outcomes.cancel_pending(at, state, ALL_PARTNERS_CONFIRMED, None),)
    return outcomes.contract_call(at)


def send_contact_email(at: At) -> Move:
    """§3.3/§4.3: after the failed calls, the contact-attempt e-mail and a deadline."""
    view = at.view
    deadline = view.new_deadline(at.settings.procedure.customer_deadline_business_days)
    shown = deadline.shown
    state = at.state.evolve(
        phase=Phase.WAITING_CUSTOMER,
        contact_email_sent=True,
        deadline=deadline.ends,
        waiting_since=view.context.now,
    )
    facts = at.facts()
    if at.situation() is Situation.PARTNER:
        everyone = [view.as_partner(p) for p in view.partners()]
        email = Email(
            msg.contact_attempt_partners_email(facts, state.attempts, shown, everyone),
            cc=view.cc(p["email"] for p in everyone),
        )
        partners = everyone
    else:
        email = Email(msg.contact_attempt_holder_email(facts, state.attempts, shown))
        partners = []
    return Move(
        StepKind.CONTACT_EMAIL,
        msg.contact_email_sent_note(facts, state.attempts, shown, partners),
        state,
        email=email,
        fields=((FieldKey.DEADLINE, deadline.field),),
    )


def retained(at: At, event: Event, command: Command) -> Transitions | str:
    if not at.active():
        return at.not_now()
    view = at.view
    reason = command.argument or ""
    return (
        Move(
            StepKind.RETAINED,
            msg.retained_note(at.facts(), reason, view.agent(event)),
            at.state.evolve(phase=Phase.DONE, reason=reason, deadline=None),
            ref=event.ref,
            email=Email(msg.retained_email(at.facts())),
            fields=(*view.reason_field(reason), (FieldKey.OUTCOME, OUTCOME_RETAINED)),
            add_tags=view.tag_set(at.settings.tags.retained),
            remove_tags=view.tag_set(at.settings.tags.review, at.settings.tags.execute_contract),
        ),
    )


def cancel(at: At, event: Event, command: Command) -> Transitions | str:
    view = at.view
    situation = at.situation()
    allowed: tuple[Phase, ...] = (Phase.CALLING, Phase.WAITING_CUSTOMER)
    if situation is Situation.HOLDER:
        allowed = (*allowed, Phase.REVIEW)  # cancelling there sends nothing by itself
    if at.state.phase not in allowed or situation not in (
        Situation.HOLDER,
        Situation.PARTNER,
    ):
        return at.not_now()
    reason = command.argument or ""
    state = at.state.evolve(reason=reason)
    if situation is Situation.HOLDER:
        why = "o cliente confirmou por telefone que quer cancelar"
        return (outcomes.cancel_pending(at, state, why, event.ref),)
    if view.all_confirmed(state):
        return (outcomes.cancel_pending(at, state, ALL_PARTNERS_CONFIRMED, event.ref),)
    deadline = view.new_deadline(at.settings.procedure.partners_deadline_business_days)
    shown = deadline.shown
    state = state.evolve(
        phase=Phase.WAITING_PARTNERS, deadline=deadline.ends, waiting_since=view.context.now
    )
    _, pending = view.partner_lists(state)
    facts = at.facts()
    return (
        Move(
            StepKind.PARTNERS_ASKED,
            msg.partners_requested_note(facts, reason, shown, pending, view.agent(event)),
            state,
            ref=event.ref,
            email=Email(
                msg.partners_confirmation_request_email(facts, shown, pending, at.ticket.id),
                cc=view.cc(p["email"] for p in pending),
            ),
            fields=(
                *view.reason_field(reason),
                (FieldKey.DEADLINE, deadline.field),
            ),
            remove_tags=view.tag_set(at.settings.tags.review),
        ),
    )


def identity_confirmed(at: At, event: Event, command: Command) -> Transitions | str:
    if not at.active():
        return at.not_now()
    return (
        Move(
            StepKind.IDENTITY,
            msg.identity_confirmed_note(at.facts(), at.view.agent(event)),
            at.state.evolve(identity_confirmed=True),
            ref=event.ref,
        ),
    )


def partner_confirmed(at: At, event: Event, command: Command) -> Transitions | str:
    if at.situation() is not Situation.PARTNER or not at.active():
        return at.not_now()
    if at.state.phase is Phase.CANCEL_PENDING:
        return at.not_now()
    partner = at.view.partner_by_email(command.argument or "")
    if partner is None:
        return f"{command.argument} não é sócio-administrador desta conta na ficha"
    return outcomes.record_confirmation(
        at,
        partner,
        f"registrada por {at.view.agent(event)} (#socio-confirmou)",
        event.ref,
        by_agent=True,
    )


def contract_cancelled(at: At, event: Event, command: Command) -> Transitions | str:
    if at.state.phase is not Phase.CANCEL_PENDING:
        return at.not_now()
    return (outcomes.confirm_cancelled(at, at.view.agent(event), event.ref),)


def manual(at: At, event: Event, command: Command) -> Transitions | str:
    if at.state.phase in (Phase.MANUAL, Phase.DONE):
        return at.not_now()
    return (
        Move(
            StepKind.MANUAL,
            msg.manual_note(at.facts(), at.view.agent(event)),
            at.state.evolve(phase=Phase.MANUAL, resume_phase=at.state.phase),
            ref=event.ref,
            add_tags=at.view.tag_set(at.settings.tags.manual),
        ),
    )


def resume(at: At, event: Event, command: Command) -> Transitions | str:
    view = at.view
    state = at.state
    if state.phase is Phase.MANUAL:
        back = state.resume_phase or Phase.CALLING
    elif state.phase is Phase.REVIEW:
        back = Phase.NEW if state.review in RESTART_REVIEWS else review_return(state)
    else:
        return at.not_now()
    if back is Phase.NEW:
        return start.adopt(at, event)
    changes: dict[str, object] = {"phase": back, "resume_phase": None, "review": None}
    fields: tuple[tuple[FieldKey, str | None], ...] = ()
    if back in WAITING_PHASES:
        deadline = view.new_deadline(deadline_days(at.settings, back))
        changes.update(deadline=deadline.ends, waiting_since=view.context.now)
        fields = ((FieldKey.DEADLINE, deadline.field),)
    new_state = state.evolve(**changes)
    resumed = Move(
        StepKind.RESUME,
        msg.resumed_note(at.facts(), view.agent(event), PHASE_LABELS[back]),
        new_state,
        ref=event.ref,
        fields=fields,
        remove_tags=view.tag_set(at.settings.tags.manual, at.settings.tags.review),
    )
    after = at.then((resumed,))
    if (
        after.situation() is Situation.PARTNER
        and view.all_confirmed(new_state)
        and back in CONTACTING
    ):
        return (resumed, outcomes.cancel_pending(after, after.state, ALL_PARTNERS_CONFIRMED, None))
    return (resumed,)


def deadline_days(settings: ProcedureSettings, back: Phase) -> int:
    """The wait a resumed ticket starts again: the partners' or the customer's."""
    procedure = settings.procedure
    if back is Phase.WAITING_PARTNERS:
        return procedure.partners_deadline_business_days
    return procedure.customer_deadline_business_days


RESTART_REVIEWS = frozenset({ReviewReason.MISSING_DATA, ReviewReason.IN_PROGRESS})


def review_return(state: ProcedureState) -> Phase:
    if state.review is ReviewReason.THIRD_PARTY_LOOP:
        return Phase.DONE
    return state.resume_phase or Phase.CALLING
