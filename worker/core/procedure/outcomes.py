"""Where the procedure ends (PROCEDURE.md §3.6-§3.7, §4.6-§4.7, §7): confirmations that complete
the partners, the contract to cancel, and what happens when a deadline passes."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.calendar import format_date, typed_day_out_of_range
from worker.core.effects import Email, FieldKey, TargetStatus
from worker.core.model import Member, Situation
from worker.core.procedure.run import (
    ALL_PARTNERS_CONFIRMED,
    OUTCOME_NOT_CANCELLED,
    Run,
)
from worker.core.state import WAITING_PHASES, Phase, ProcedureState


def cancel_pending(run: Run, state: ProcedureState, why: str, ref: str | None) -> None:
    """§3.6/§7 (manual mode): an agent cancels the contract, then types #contrato-cancelado.
    The reason an agent gave with #cancelar lands in the field here too, for the reports."""
    reason = run.reason_field(state.reason) if state.reason else ()
    run.step(
        "cancelar-contrato",
        msg.cancel_pending_note(run.facts(), why, state.reason or "", manual=True),
        state.evolve(phase=Phase.CANCEL_PENDING, cancel_why=why, deadline=None),
        ref=ref,
        status=TargetStatus.IN_PROGRESS,
        fields=((FieldKey.DEADLINE, None), *reason),
        add_tags=run.tag_set(run.config.tags.execute_contract),
        remove_tags=run.tag_set(run.config.tags.review),
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
        "confirmacao-socio",
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
            "nao-cancelado",
            msg.not_cancelled_note(facts, shown),
            state.evolve(phase=Phase.DONE, deadline=None),
            email=Email(msg.not_cancelled_unconfirmed_email(facts, shown)),
            status=TargetStatus.SOLVED,
            fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
            add_tags=run.tag_set(run.config.tags.not_cancelled),
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
        "prazo-invalido",
        msg.deadline_out_of_range_note(
            run.facts(),
            run.config.fields.deadline,
            format_date(typed),
            format_date(kept) if kept else "",
        ),
        state,
        fields=((FieldKey.DEADLINE, kept.isoformat() if kept else None),),
        add_tags=run.tag_set(run.config.tags.review),
    )


def partners_deadline(run: Run, state: ProcedureState, shown: str) -> None:
    """§4.7: never cancel without every partner: last e-mail, record everything, resolve."""
    confirmed, pending = run.partner_lists(state)
    facts = run.facts()
    run.step(
        "prazo-socios",
        msg.partners_deadline_note(facts, shown, confirmed, pending),
        state.evolve(phase=Phase.DONE, deadline=None),
        email=Email(
            msg.partners_last_notice_email(facts, confirmed, pending),
            cc=run.cc(p.person.key for p in run.partners()),
        ),
        status=TargetStatus.SOLVED,
        fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
        add_tags=run.tag_set(run.config.tags.not_cancelled),
    )
