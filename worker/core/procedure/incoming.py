"""What customers and partners write (PROCEDURE.md §3.5, §4.5, §5.2, CONTRACT 14 and 16): replies on
the ticket, and other tickets of the account's people."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.effects import FieldKey
from worker.core.model import Member, RelatedTicket, Situation
from worker.core.procedure import outcomes, start, trust
from worker.core.procedure.run import Event, Run, numeric
from worker.core.replies import classify_confirmation, excerpt, is_auto_reply, read_answer
from worker.core.state import CONTACTING, UNDER_WAY, WAITING_PHASES, Phase, ReviewReason, StepKind


def on_message(run: Run, event: Event) -> None:
    phase = run.state.phase
    situation = run.situation()
    comment = event.comment
    if phase is Phase.MANUAL:
        run.skip(event)
        return
    if situation is Situation.THIRD_PARTY:
        if phase is Phase.DONE and event.ref != run.last_message:
            run.skip(event)  # several messages at once get one answer, to the last
        elif phase is Phase.DONE or run.state.review is ReviewReason.THIRD_PARTY_LOOP:
            start.answer_third_party(run, run.state, "", frozenset(), first=False, ref=event.ref)
        else:
            run.skip(event)
        return
    author = comment.author.name or comment.author.email
    text = excerpt(comment.body)
    if phase is Phase.DONE:
        run.step(
            StepKind.MESSAGE_AFTER_CLOSE,
            msg.message_after_close_note(run.facts(), author, text),
            run.state,
            ref=event.ref,
            add_tags=run.tag_set(run.settings.tags.review),
        )
        return
    partner = run.partner_by_email(comment.author.email)
    is_requester = comment.author.key == run.ticket.requester.key
    if refuses(run, comment.author.key, comment.body):
        stop_on_refusal(run, comment.author.key, author, comment.body, event.ref, comment.doubt)
        return
    why = trust.distrust(run, comment)
    if why:
        auto = is_auto_reply(run.ticket.subject, comment.body, run.settings.replies)
        trust.hold_for_agent(run, event.ref, comment.author, comment.body, why, hold=not auto)
        return
    if (
        situation is Situation.PARTNER
        and partner is not None
        and not is_requester
        and phase in CONTACTING
    ):
        on_partner_message(run, event, partner)
        return
    auto = is_auto_reply(run.ticket.subject, comment.body, run.settings.replies)
    if phase is Phase.WAITING_CUSTOMER and not auto:
        run.step(
            StepKind.CUSTOMER_REPLIED,
            msg.customer_replied_note(run.facts(), author, text),
            run.state.evolve(phase=Phase.CALLING, deadline=None, waiting_since=None),
            ref=event.ref,
            fields=((FieldKey.DEADLINE, None),),
        )
        return
    # Anything else the customer says is recorded for the agent; the procedure goes on.
    run.step(
        StepKind.MESSAGE,
        msg.customer_message_note(run.facts(), author, text),
        run.state,
        ref=event.ref,
    )


def on_partner_message(run: Run, event: Event, partner: Member) -> None:
    on_partner_text(run, partner, event.comment.body, event.ref, "neste ticket")


def on_partner_text(run: Run, partner: Member, body: str, ref: str, where: str) -> None:
    reading = read_answer(body, run.settings.replies)
    verdict = reading.verdict
    if verdict == "affirm":
        outcomes.record_confirmation(run, partner, f"por e-mail {where}", ref)
    elif verdict == "refuse":
        name = partner.person.name or partner.person.key
        stop_on_refusal(run, partner.person.key, name, body, ref)
    else:
        run.step(
            StepKind.PARTNER_UNCLEAR,
            msg.partner_needs_agent_note(
                run.facts(), run.as_partner(partner), excerpt(body), reading.sentence, reading.why
            ),
            run.state,
            ref=ref,
            add_tags=run.tag_set(run.settings.tags.review),
        )


def refuses(run: Run, email: str, body: str) -> bool:
    """The holder, a partner or the company's address says no (§4.5: a refusal stops it)."""
    if run.state.phase not in UNDER_WAY or run.situation() not in (
        Situation.HOLDER,
        Situation.PARTNER,
    ):
        return False
    key = email.strip().lower()
    account = run.identification.account
    registered = (account.registered_email or "").strip().lower() if account else ""
    speaks_for_account = (
        key == run.ticket.requester.key
        or run.partner_by_email(key) is not None
        or (bool(registered) and key == registered)
    )
    return speaks_for_account and classify_confirmation(body, run.settings.replies) == "refuse"


def stop_on_refusal(run: Run, email: str, name: str, body: str, ref: str, doubt: str = "") -> None:
    """Stops the cancellation wherever it stood (even with the contract about to be cancelled):
    the refuser's confirmation no longer counts, and an agent decides what happens next. A
    refusal stops even when who wrote it is in doubt (`doubt`, shown in the note)."""
    state = run.state
    partners = run.situation() is Situation.PARTNER
    resume: Phase
    if state.phase in CONTACTING:
        resume = state.phase
    elif state.phase is Phase.REVIEW and state.resume_phase is not None:
        resume = state.resume_phase
    else:
        resume = Phase.WAITING_PARTNERS if partners else Phase.CALLING
    key = email.strip().lower()
    run.step(
        StepKind.REFUSAL,
        msg.refused_note(run.facts(), {"nome": name, "email": key}, excerpt(body), partners, doubt),
        state.evolve(
            phase=Phase.REVIEW,
            review=ReviewReason.PARTNER_REFUSED,
            resume_phase=resume,
            confirmed=tuple(c for c in state.confirmed if c != key),
            cancel_why=None,
        ),
        ref=ref,
        add_tags=run.tag_set(run.settings.tags.review),
        remove_tags=run.tag_set(run.settings.tags.execute_contract),
    )


def on_other_tickets(run: Run) -> None:
    """Other tickets of the account's people, created after this one: partners' confirmations
    sent as new e-mails; tickets linked here (noted); and, while waiting for an answer,
    anything they wrote (customers often write anew instead of replying): an agent looks at
    those before anything happens on no answer (CONTRACT 16)."""
    phase = run.state.phase
    situation = run.situation()
    if situation not in (Situation.HOLDER, Situation.PARTNER) or phase not in UNDER_WAY:
        return
    created = run.ticket.created_at
    related = run.account_tickets()
    newer: list[RelatedTicket] = []
    for other in sorted(related, key=lambda t: (t.created_at, numeric(t.id))):
        ref = f"t{other.id}"
        if other.id == run.ticket.id or ref in run.consumed or other.created_at < created:
            continue
        waiting_since = run.state.waiting_since
        since_contact = waiting_since is None or other.created_at >= waiting_since
        partner = run.partner_by_email(other.requester_email)
        if refuses(run, other.requester_email, other.first_message):
            who = partner.person.name if partner else other.requester_email
            stop_on_refusal(run, other.requester_email, who, other.first_message, ref, other.doubt)
        elif (
            situation is Situation.PARTNER
            and partner is not None
            and partner.person.key not in run.state.confirmed
            and run.state.phase in CONTACTING
        ):
            if other.doubt:
                trust.hold_for_agent(
                    run, ref, partner.person, other.first_message, other.doubt, hold=False
                )
            else:
                on_partner_text(run, partner, other.first_message, ref, f"no ticket #{other.id}")
        elif run.state.phase in WAITING_PHASES and since_contact:
            newer.append(other)
        elif start.linked_tag(run, run.ticket.id) in other.tags:
            run.step(
                StepKind.OTHER_TICKET_MESSAGE,
                msg.other_ticket_message_note(
                    run.facts(), other.id, other.requester_email, excerpt(other.first_message)
                ),
                run.state,
                ref=ref,
            )
    if newer:
        state = run.state
        deadline = state.deadline
        shown = run.shown(deadline) if deadline else ""
        run.skipped.extend(f"t{t.id}" for t in newer)
        run.step(
            StepKind.OTHER_TICKETS,
            msg.related_tickets_note(run.facts(), [f"#{t.id} – {t.subject}" for t in newer], shown),
            state.evolve(
                phase=Phase.REVIEW,
                review=ReviewReason.RELATED_TICKETS,
                resume_phase=state.phase,
            ),
            add_tags=run.tag_set(run.settings.tags.review),
        )
