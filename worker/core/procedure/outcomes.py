"""Where the procedure ends (PROCEDURE.md §3.6-§3.7, §4.6-§4.7, §7): confirmations that complete
the partners, the contract to cancel (by an agent, or by the company's system over HTTP), and
what happens when a deadline passes."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.calendar import format_date, typed_day_out_of_range
from worker.core.effects import Email, FieldKey
from worker.core.model import Member, Situation
from worker.core.procedure.run import (
    ALL_PARTNERS_CONFIRMED,
    OUTCOME_CANCELLED,
    OUTCOME_NOT_CANCELLED,
    At,
    Move,
    Transitions,
    sp_date,
)
from worker.core.state import WAITING_PHASES, Phase, ProcedureState, StepKind

CONTRACT_SYSTEM = "sistema de contratos"  # who recorded the cancelling, in the final note


def cancel_pending(at: At, state: ProcedureState, why: str, ref: str | None) -> Move:
    """§3.6/§7. Manual mode: an agent cancels the contract, then types #contrato-cancelado.
    HTTP mode: this note records the call and its key before the call is made, so a crash after
    it is followed by the same call (the system dedupes on the key), never by a different one.
    The reason an agent gave with #cancelar lands in the field here too, for the reports."""
    view = at.view
    reason = view.reason_field(state.reason) if state.reason else ()
    manual = at.settings.contract_mode == "manual"
    key = None if manual else at.contract_key()
    return Move(
        StepKind.CANCEL_CONTRACT,
        msg.cancel_pending_note(at.facts(), why, state.reason or "", manual, key or ""),
        state.evolve(phase=Phase.CANCEL_PENDING, cancel_why=why, deadline=None, contract_key=key),
        ref=ref,
        fields=((FieldKey.DEADLINE, None), *reason),
        add_tags=view.tag_set(at.settings.tags.execute_contract) if manual else frozenset(),
        remove_tags=view.tag_set(at.settings.tags.review),
    )


def contract_call(at: At) -> Transitions:
    """The call recorded by `cancel_pending` (HTTP mode), made by the shell, its answer noted:
    success first in a note of its own, so the confirmation e-mail (the next step) never goes
    out before the ticket says the contract is cancelled; failure hands the ticket to an agent
    as manual mode would (`cancelamento-executar`, then #contrato-cancelado)."""
    state = at.state
    if state.phase is not Phase.CANCEL_PENDING:
        return ()
    if state.contract_cancelled:
        return (confirm_cancelled(at, CONTRACT_SYSTEM, None),)  # the e-mail step, owed
    if state.contract_key is None:
        return ()
    answer = at.view.contract_answer()
    facts = at.facts()
    if answer.cancelled:
        noted = Move(
            StepKind.CONTRACT_SYSTEM_CANCELLED,
            msg.contract_system_cancelled_note(facts, state.contract_key),
            state.evolve(contract_key=None, contract_cancelled=True),
        )
        return (noted, confirm_cancelled(at.then((noted,)), CONTRACT_SYSTEM, None))
    return (
        Move(
            StepKind.CONTRACT_SYSTEM_FAILED,
            msg.contract_system_failed_note(
                facts,
                state.contract_key,
                answer.refused,
                answer.status or 0,
                answer.detail,
                answer.attempts,
            ),
            state.evolve(contract_key=None),
            add_tags=at.view.tag_set(at.settings.tags.execute_contract),
        ),
    )


def confirm_cancelled(at: At, by: str, ref: str | None) -> Move:
    """§3.6: the contract is cancelled (`by` an agent or the system): confirmation e-mail to the
    requester (and the partners, Situação 2), ticket resolved."""
    view = at.view
    facts = at.facts()
    cc = (
        view.cc(p.person.key for p in view.partners())
        if at.situation() is Situation.PARTNER
        else ()
    )
    return Move(
        StepKind.CANCELLED,
        msg.cancelled_note(facts, by, [at.ticket.requester.email, *cc]),
        at.state.evolve(phase=Phase.DONE, contract_cancelled=False),
        ref=ref,
        email=Email(
            msg.cancellation_confirmation_email(facts, format_date(sp_date(view.context.now))),
            cc=cc,
        ),
        fields=((FieldKey.OUTCOME, OUTCOME_CANCELLED),),
        add_tags=view.tag_set(at.settings.tags.cancelled),
        remove_tags=view.tag_set(at.settings.tags.execute_contract, at.settings.tags.review),
    )


def record_confirmation(
    at: At, partner: Member, how: str, ref: str, *, by_agent: bool = False
) -> Transitions:
    view = at.view
    confirmed = at.state.confirmed
    if partner.person.key not in confirmed:
        confirmed = (*confirmed, partner.person.key)
    state = at.state.evolve(confirmed=confirmed)
    done, pending = view.partner_lists(state)
    recorded = Move(
        StepKind.PARTNER_CONFIRMED,
        msg.partner_confirmed_note(at.facts(), view.as_partner(partner), how, done, pending),
        state,
        ref=ref,
    )
    after = at.then((recorded,))
    if view.all_confirmed(state) and (by_agent or after.state.phase is not Phase.REVIEW):
        return (recorded, cancel_pending(after, after.state, ALL_PARTNERS_CONFIRMED, None))
    return (recorded,)


def on_clock(at: At) -> Transitions:
    view = at.view
    state = at.state
    if state.phase not in WAITING_PHASES or state.deadline is None:
        return ()
    if view.context.now < state.deadline:
        return ()
    shown = view.shown(state.deadline)
    if at.situation() is Situation.PARTNER and view.all_confirmed(state):
        return (cancel_pending(at, state, ALL_PARTNERS_CONFIRMED, None),)
    if at.situation() is Situation.PARTNER:
        return (partners_deadline(at, state, shown),)
    if state.from_registered_email or state.identity_confirmed:
        why = "sem resposta do cliente no prazo " + (
            "e a solicitação veio do e-mail de cadastro"
            if state.from_registered_email
            else "e um agente confirmou os dados (#identidade-confirmada)"
        )
        return (cancel_pending(at, state, why, None),)
    facts = at.facts()
    return (
        Move(
            StepKind.NOT_CANCELLED,
            msg.not_cancelled_note(facts, shown),
            state.evolve(phase=Phase.DONE, deadline=None),
            email=Email(msg.not_cancelled_unconfirmed_email(facts, shown)),
            fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
            add_tags=view.tag_set(at.settings.tags.not_cancelled),
        ),
    )


def typed_deadline(at: At, deadline_shown: str | None) -> Transitions:
    """A deadline field typed past the calendar's end (9999-12-31) is that ticket's data
    problem, told once: the engine follows the deadline its notes keep, never the field, so one
    note says which, for an agent to look at, and the field gets it back (or is emptied). The
    ticket then holds a date the sweep can compare, so it is not read again at every sweep.
    Checked last, on the field as this decision's steps left it (`deadline_shown`); in #manual
    the worker writes nothing."""
    typed = typed_day_out_of_range(deadline_shown)
    state = at.state
    if typed is None or state.phase is Phase.MANUAL:
        return ()
    waiting = state.phase in WAITING_PHASES and state.deadline is not None
    calendar = at.view.context.calendar
    kept = calendar.last_day(state.deadline) if waiting and state.deadline else None
    return (
        Move(
            StepKind.DEADLINE_OUT_OF_RANGE,
            msg.deadline_out_of_range_note(
                at.facts(),
                at.settings.deadline_field,
                format_date(typed),
                format_date(kept) if kept else "",
            ),
            state,
            fields=((FieldKey.DEADLINE, kept.isoformat() if kept else None),),
            add_tags=at.view.tag_set(at.settings.tags.review),
        ),
    )


def partners_deadline(at: At, state: ProcedureState, shown: str) -> Move:
    """§4.7: never cancel without every partner: last e-mail, record everything, resolve."""
    view = at.view
    confirmed, pending = view.partner_lists(state)
    facts = at.facts()
    return Move(
        StepKind.PARTNERS_DEADLINE,
        msg.partners_deadline_note(facts, shown, confirmed, pending),
        state.evolve(phase=Phase.DONE, deadline=None),
        email=Email(
            msg.partners_last_notice_email(facts, confirmed, pending),
            cc=view.cc(p.person.key for p in view.partners()),
        ),
        fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
        add_tags=view.tag_set(at.settings.tags.not_cancelled),
    )
