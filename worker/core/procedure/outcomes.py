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
    Run,
    sp_date,
)
from worker.core.state import WAITING_PHASES, Phase, ProcedureState, StepKind

CONTRACT_SYSTEM = "sistema de contratos"  # who recorded the cancelling, in the final note


def cancel_pending(run: Run, state: ProcedureState, why: str, ref: str | None) -> None:
    """§3.6/§7. Manual mode: an agent cancels the contract, then types #contrato-cancelado.
    HTTP mode: this note records the call and its key before the call is made, so a crash after
    it is followed by the same call (the system dedupes on the key), never by a different one.
    The reason an agent gave with #cancelar lands in the field here too, for the reports."""
    reason = run.reason_field(state.reason) if state.reason else ()
    manual = run.settings.contract_mode == "manual"
    key = None if manual else run.contract_key()
    run.step(
        StepKind.CANCEL_CONTRACT,
        msg.cancel_pending_note(run.facts(), why, state.reason or "", manual, key or ""),
        state.evolve(phase=Phase.CANCEL_PENDING, cancel_why=why, deadline=None, contract_key=key),
        ref=ref,
        fields=((FieldKey.DEADLINE, None), *reason),
        add_tags=run.tag_set(run.settings.tags.execute_contract) if manual else frozenset(),
        remove_tags=run.tag_set(run.settings.tags.review),
    )


def contract_call(run: Run) -> None:
    """The call recorded by `cancel_pending` (HTTP mode), made by the shell, its answer noted:
    success first in a note of its own, so the confirmation e-mail (the next step) never goes
    out before the ticket says the contract is cancelled; failure hands the ticket to an agent
    as manual mode would (`cancelamento-executar`, then #contrato-cancelado)."""
    state = run.state
    if state.phase is not Phase.CANCEL_PENDING:
        return
    if state.contract_cancelled:
        confirm_cancelled(run, CONTRACT_SYSTEM, None)  # the e-mail step, owed after a crash
        return
    if state.contract_key is None:
        return
    answer = run.contract_answer()
    facts = run.facts()
    if answer.cancelled:
        run.step(
            StepKind.CONTRACT_SYSTEM_CANCELLED,
            msg.contract_system_cancelled_note(facts, state.contract_key),
            state.evolve(contract_key=None, contract_cancelled=True),
        )
        confirm_cancelled(run, CONTRACT_SYSTEM, None)
        return
    run.step(
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
        add_tags=run.tag_set(run.settings.tags.execute_contract),
    )


def confirm_cancelled(run: Run, by: str, ref: str | None) -> None:
    """§3.6: the contract is cancelled (`by` an agent or the system): confirmation e-mail to the
    requester (and the partners, Situação 2), ticket resolved."""
    facts = run.facts()
    cc = (
        run.cc(p.person.key for p in run.partners()) if run.situation() is Situation.PARTNER else ()
    )
    run.step(
        StepKind.CANCELLED,
        msg.cancelled_note(facts, by, [run.ticket.requester.email, *cc]),
        run.state.evolve(phase=Phase.DONE, contract_cancelled=False),
        ref=ref,
        email=Email(
            msg.cancellation_confirmation_email(facts, format_date(sp_date(run.context.now))),
            cc=cc,
        ),
        fields=((FieldKey.OUTCOME, OUTCOME_CANCELLED),),
        add_tags=run.tag_set(run.settings.tags.cancelled),
        remove_tags=run.tag_set(run.settings.tags.execute_contract, run.settings.tags.review),
    )


def record_confirmation(
    run: Run, partner: Member, how: str, ref: str, *, by_agent: bool = False
) -> None:
    confirmed = run.state.confirmed
    if partner.person.key not in confirmed:
        confirmed = (*confirmed, partner.person.key)
    state = run.state.evolve(confirmed=confirmed)
    done, pending = run.partner_lists(state)
    run.step(
        StepKind.PARTNER_CONFIRMED,
        msg.partner_confirmed_note(run.facts(), run.as_partner(partner), how, done, pending),
        state,
        ref=ref,
    )
    if run.all_confirmed(state) and (by_agent or run.state.phase is not Phase.REVIEW):
        cancel_pending(run, run.state, ALL_PARTNERS_CONFIRMED, None)


def on_clock(run: Run) -> None:
    state = run.state
    if state.phase not in WAITING_PHASES or state.deadline is None:
        return
    if run.context.now < state.deadline:
        return
    shown = run.shown(state.deadline)
    if run.situation() is Situation.PARTNER and run.all_confirmed(state):
        cancel_pending(run, state, ALL_PARTNERS_CONFIRMED, None)
    elif run.situation() is Situation.PARTNER:
        partners_deadline(run, state, shown)
    elif state.from_registered_email or state.identity_confirmed:
        cancel_pending(
            run,
            state,
            "sem resposta do cliente no prazo "
            + (
                "e a solicitação veio do e-mail de cadastro"
                if state.from_registered_email
                else "e um agente confirmou os dados (#identidade-confirmada)"
            ),
            None,
        )
    else:
        facts = run.facts()
        run.step(
            StepKind.NOT_CANCELLED,
            msg.not_cancelled_note(facts, shown),
            state.evolve(phase=Phase.DONE, deadline=None),
            email=Email(msg.not_cancelled_unconfirmed_email(facts, shown)),
            fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
            add_tags=run.tag_set(run.settings.tags.not_cancelled),
        )


def typed_deadline(run: Run) -> None:
    """A deadline field typed past the calendar's end (9999-12-31) is that ticket's data
    problem, told once: the engine follows the deadline its notes keep, never the field, so one
    note says which, for an agent to look at, and the field gets it back (or is emptied). The
    ticket then holds a date the sweep can compare, so it is not read again at every sweep.
    Checked last, on the field as this decision's steps left it; in #manual the worker writes
    nothing."""
    typed = typed_day_out_of_range(run.deadline_shown)
    state = run.state
    if typed is None or state.phase is Phase.MANUAL:
        return
    waiting = state.phase in WAITING_PHASES and state.deadline is not None
    kept = run.context.calendar.last_day(state.deadline) if waiting and state.deadline else None
    run.step(
        StepKind.DEADLINE_OUT_OF_RANGE,
        msg.deadline_out_of_range_note(
            run.facts(),
            run.settings.deadline_field,
            format_date(typed),
            format_date(kept) if kept else "",
        ),
        state,
        fields=((FieldKey.DEADLINE, kept.isoformat() if kept else None),),
        add_tags=run.tag_set(run.settings.tags.review),
    )


def partners_deadline(run: Run, state: ProcedureState, shown: str) -> None:
    """§4.7: never cancel without every partner: last e-mail, record everything, resolve."""
    confirmed, pending = run.partner_lists(state)
    facts = run.facts()
    run.step(
        StepKind.PARTNERS_DEADLINE,
        msg.partners_deadline_note(facts, shown, confirmed, pending),
        state.evolve(phase=Phase.DONE, deadline=None),
        email=Email(
            msg.partners_last_notice_email(facts, confirmed, pending),
            cc=run.cc(p.person.key for p in run.partners()),
        ),
        fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
        add_tags=run.tag_set(run.settings.tags.not_cancelled),
    )
