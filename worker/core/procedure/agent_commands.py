"""What agents record with commands in internal notes (PROCEDURE.md §6, CONTRACT 3 and 13).

Each handler returns None when it took its step, or the reason (pt-BR) the command does not apply
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
    Event,
    Run,
)
from worker.core.procedure.table import PHASE_LABELS
from worker.core.state import (
    CONTACTING,
    WAITING_PHASES,
    Phase,
    ProcedureState,
    ReviewReason,
    StepKind,
)


def reject(run: Run, event: Event, line: str, problem: str) -> None:
    run.step(
        StepKind.INVALID_COMMAND,
        msg.command_rejected_note(run.facts(), line, problem, list(VALID_COMMANDS)),
        run.state,
        ref=event.ref,
    )


def on_command(run: Run, event: Event, command: Command | InvalidCommand) -> None:
    phase = run.state.phase
    if phase is Phase.MANUAL and not (
        isinstance(command, Command) and command.kind is CommandKind.RESUME
    ):
        run.skip(event)  # CONTRACT 3: nothing at all until #retomar
        return
    if isinstance(command, InvalidCommand):
        reject(run, event, command.text, command.problem)
        return
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
    problem = handler(run, event, command)
    if problem:
        reject(run, event, command.text, problem)


def started_already(run: Run, event: Event, command: Command) -> str | None:
    """#iniciar-cancelamento counts only before the procedure starts (`start.enter`)."""
    return "o procedimento de cancelamento já foi iniciado neste ticket"


def attempt(run: Run, event: Event, command: Command) -> str | None:
    if run.state.phase not in CONTACTING:
        return run.not_now()
    attempts = run.state.attempts + 1
    max_attempts = run.settings.procedure.max_call_attempts
    run.step(
        StepKind.ATTEMPT,
        msg.attempt_note(run.facts(), attempts, max_attempts, run.agent(event)),
        run.state.evolve(attempts=attempts),
        ref=event.ref,
        fields=((FieldKey.ATTEMPTS, str(attempts)),),
    )
    if (
        attempts >= max_attempts
        and not run.state.contact_email_sent
        and run.state.phase is Phase.CALLING
    ):
        send_contact_email(run)
    return None


def owed_steps(run: Run) -> None:
    """A decision that takes two steps (the third call and the contact e-mail; the last
    confirmation and the cancelling; the cancelling and the contract system's answer; that
    answer and the confirmation e-mail) can be cut between them by a crash or a conflict. The
    state the first step left says the second is owed, so it is decided again, before anything
    newer."""
    state = run.state
    if (
        state.phase is Phase.CALLING
        and state.attempts >= run.settings.procedure.max_call_attempts
        and not state.contact_email_sent
    ):
        send_contact_email(run)
    elif (
        state.phase is Phase.WAITING_PARTNERS
        and run.situation() is Situation.PARTNER
        and run.all_confirmed(state)
    ):
        outcomes.cancel_pending(run, state, ALL_PARTNERS_CONFIRMED, None)
    else:
        outcomes.contract_call(run)


def send_contact_email(run: Run) -> None:
    """§3.3/§4.3: after the failed calls, the contact-attempt e-mail and a deadline."""
    deadline = run.new_deadline(run.settings.procedure.customer_deadline_business_days)
    shown = deadline.shown
    state = run.state.evolve(
        phase=Phase.WAITING_CUSTOMER,
        contact_email_sent=True,
        deadline=deadline.ends,
        waiting_since=run.context.now,
    )
    facts = run.facts()
    if run.situation() is Situation.PARTNER:
        everyone = [run.as_partner(p) for p in run.partners()]
        email = Email(
            msg.contact_attempt_partners_email(facts, state.attempts, shown, everyone),
            cc=run.cc(p["email"] for p in everyone),
        )
        partners = everyone
    else:
        email = Email(msg.contact_attempt_holder_email(facts, state.attempts, shown))
        partners = []
    run.step(
        StepKind.CONTACT_EMAIL,
        msg.contact_email_sent_note(facts, state.attempts, shown, partners),
        state,
        email=email,
        fields=((FieldKey.DEADLINE, deadline.field),),
    )


def retained(run: Run, event: Event, command: Command) -> str | None:
    if not run.active():
        return run.not_now()
    reason = command.argument or ""
    run.step(
        StepKind.RETAINED,
        msg.retained_note(run.facts(), reason, run.agent(event)),
        run.state.evolve(phase=Phase.DONE, reason=reason, deadline=None),
        ref=event.ref,
        email=Email(msg.retained_email(run.facts())),
        fields=(*run.reason_field(reason), (FieldKey.OUTCOME, OUTCOME_RETAINED)),
        add_tags=run.tag_set(run.settings.tags.retained),
        remove_tags=run.tag_set(run.settings.tags.review, run.settings.tags.execute_contract),
    )
    return None


def cancel(run: Run, event: Event, command: Command) -> str | None:
    situation = run.situation()
    allowed: tuple[Phase, ...] = (Phase.CALLING, Phase.WAITING_CUSTOMER)
    if situation is Situation.HOLDER:
        allowed = (*allowed, Phase.REVIEW)  # cancelling there sends nothing by itself
    if run.state.phase not in allowed or situation not in (
        Situation.HOLDER,
        Situation.PARTNER,
    ):
        return run.not_now()
    reason = command.argument or ""
    state = run.state.evolve(reason=reason)
    if run.situation() is Situation.HOLDER:
        outcomes.cancel_pending(
            run, state, "o cliente confirmou por telefone que quer cancelar", event.ref
        )
        return None
    if run.all_confirmed(state):
        outcomes.cancel_pending(run, state, ALL_PARTNERS_CONFIRMED, event.ref)
        return None
    deadline = run.new_deadline(run.settings.procedure.partners_deadline_business_days)
    shown = deadline.shown
    state = state.evolve(
        phase=Phase.WAITING_PARTNERS, deadline=deadline.ends, waiting_since=run.context.now
    )
    _, pending = run.partner_lists(state)
    facts = run.facts()
    run.step(
        StepKind.PARTNERS_ASKED,
        msg.partners_requested_note(facts, reason, shown, pending, run.agent(event)),
        state,
        ref=event.ref,
        email=Email(
            msg.partners_confirmation_request_email(facts, shown, pending, run.ticket.id),
            cc=run.cc(p["email"] for p in pending),
        ),
        fields=(
            *run.reason_field(reason),
            (FieldKey.DEADLINE, deadline.field),
        ),
        remove_tags=run.tag_set(run.settings.tags.review),
    )
    return None


def identity_confirmed(run: Run, event: Event, command: Command) -> str | None:
    if not run.active():
        return run.not_now()
    run.step(
        StepKind.IDENTITY,
        msg.identity_confirmed_note(run.facts(), run.agent(event)),
        run.state.evolve(identity_confirmed=True),
        ref=event.ref,
    )
    return None


def partner_confirmed(run: Run, event: Event, command: Command) -> str | None:
    if run.situation() is not Situation.PARTNER or not run.active():
        return run.not_now()
    if run.state.phase is Phase.CANCEL_PENDING:
        return run.not_now()
    partner = run.partner_by_email(command.argument or "")
    if partner is None:
        return f"{command.argument} não é sócio-administrador desta conta na ficha"
    outcomes.record_confirmation(
        run,
        partner,
        f"registrada por {run.agent(event)} (#socio-confirmou)",
        event.ref,
        by_agent=True,
    )
    return None


def contract_cancelled(run: Run, event: Event, command: Command) -> str | None:
    if run.state.phase is not Phase.CANCEL_PENDING:
        return run.not_now()
    outcomes.confirm_cancelled(run, run.agent(event), event.ref)
    return None


def manual(run: Run, event: Event, command: Command) -> str | None:
    if run.state.phase in (Phase.MANUAL, Phase.DONE):
        return run.not_now()
    run.step(
        StepKind.MANUAL,
        msg.manual_note(run.facts(), run.agent(event)),
        run.state.evolve(phase=Phase.MANUAL, resume_phase=run.state.phase),
        ref=event.ref,
        add_tags=run.tag_set(run.settings.tags.manual),
    )
    return None


def resume(run: Run, event: Event, command: Command) -> str | None:
    state = run.state
    if state.phase is Phase.MANUAL:
        back = state.resume_phase or Phase.CALLING
    elif state.phase is Phase.REVIEW:
        back = Phase.NEW if state.review in RESTART_REVIEWS else review_return(state)
    else:
        return run.not_now()
    if back is Phase.NEW:
        return start.adopt(run, event)
    changes: dict[str, object] = {"phase": back, "resume_phase": None, "review": None}
    fields: tuple[tuple[FieldKey, str | None], ...] = ()
    if back in WAITING_PHASES:
        days = (
            run.settings.procedure.partners_deadline_business_days
            if back is Phase.WAITING_PARTNERS
            else run.settings.procedure.customer_deadline_business_days
        )
        deadline = run.new_deadline(days)
        changes.update(deadline=deadline.ends, waiting_since=run.context.now)
        fields = ((FieldKey.DEADLINE, deadline.field),)
    new_state = state.evolve(**changes)
    run.step(
        StepKind.RESUME,
        msg.resumed_note(run.facts(), run.agent(event), PHASE_LABELS[back]),
        new_state,
        ref=event.ref,
        fields=fields,
        remove_tags=run.tag_set(run.settings.tags.manual, run.settings.tags.review),
    )
    if run.situation() is Situation.PARTNER and run.all_confirmed(new_state) and back in CONTACTING:
        outcomes.cancel_pending(run, run.state, ALL_PARTNERS_CONFIRMED, None)
    return None


RESTART_REVIEWS = frozenset({ReviewReason.MISSING_DATA, ReviewReason.IN_PROGRESS})


def review_return(state: ProcedureState) -> Phase:
    if state.review is ReviewReason.THIRD_PARTY_LOOP:
        return Phase.DONE
    return state.resume_phase or Phase.CALLING
