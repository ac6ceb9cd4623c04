"""What customers and partners write (PROCEDURE.md §3.5, §4.5, §5.2, CONTRACT 14 and 16): replies on
the ticket, and other tickets of the account's people."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.effects import FieldKey
from worker.core.model import Member, RelatedTicket, Situation
from worker.core.procedure import outcomes, start, trust
from worker.core.procedure.run import At, Event, Move, Skip, Transitions, numeric
from worker.core.replies import classify_confirmation, excerpt, is_auto_reply, read_answer
from worker.core.state import (
    CONTACTING,
    UNDER_WAY,
    WAITING_PHASES,
    Phase,
    ProcedureState,
    ReviewReason,
    StepKind,
)


def on_message(at: At, event: Event, last_message: str | None) -> Transitions:
    """A customer's message on the ticket (`last_message`: the last one not handled yet)."""
    view = at.view
    phase = at.state.phase
    situation = at.situation()
    comment = event.comment
    if phase is Phase.MANUAL:
        return (Skip(event.ref),)
    if situation is Situation.THIRD_PARTY:
        if phase is Phase.DONE and event.ref != last_message:
            return (Skip(event.ref),)  # several messages at once get one answer, to the last
        if phase is Phase.DONE or at.state.review is ReviewReason.THIRD_PARTY_LOOP:
            return start.answer_third_party(
                at, at.state, "", frozenset(), first=False, ref=event.ref
            )
        return (Skip(event.ref),)
    author = comment.author.name or comment.author.email
    text = excerpt(comment.body)
    if phase is Phase.DONE:
        return (
            Move(
                StepKind.MESSAGE_AFTER_CLOSE,
                msg.message_after_close_note(at.facts(), author, text),
                at.state,
                ref=event.ref,
                add_tags=view.tag_set(at.settings.tags.review),
            ),
        )
    partner = view.partner_by_email(comment.author.email)
    is_requester = comment.author.key == at.ticket.requester.key
    if refuses(at, comment.author.key, comment.body):
        return (
            stop_on_refusal(at, comment.author.key, author, comment.body, event.ref, comment.doubt),
        )
    why = trust.distrust(at, comment)
    if why:
        auto = is_auto_reply(at.ticket.subject, comment.body, at.settings.replies)
        return (
            trust.hold_for_agent(at, event.ref, comment.author, comment.body, why, hold=not auto),
        )
    if (
        situation is Situation.PARTNER
        and partner is not None
        and not is_requester
        and phase in CONTACTING
    ):
        return on_partner_text(at, partner, comment.body, event.ref, "neste ticket")
    auto = is_auto_reply(at.ticket.subject, comment.body, at.settings.replies)
    if phase is Phase.WAITING_CUSTOMER and not auto:
        return (
            Move(
                StepKind.CUSTOMER_REPLIED,
                msg.customer_replied_note(at.facts(), author, text),
                at.state.evolve(phase=Phase.CALLING, deadline=None, waiting_since=None),
                ref=event.ref,
                fields=((FieldKey.DEADLINE, None),),
            ),
        )
    # Anything else the customer says is recorded for the agent; the procedure goes on.
    return (
        Move(
            StepKind.MESSAGE,
            msg.customer_message_note(at.facts(), author, text),
            at.state,
            ref=event.ref,
        ),
    )


def on_partner_text(at: At, partner: Member, body: str, ref: str, where: str) -> Transitions:
    view = at.view
    reading = read_answer(body, at.settings.replies)
    verdict = reading.verdict
    if verdict == "affirm":
        return outcomes.record_confirmation(at, partner, f"por e-mail {where}", ref)
    if verdict == "refuse":
        name = partner.person.name or partner.person.key
        return (stop_on_refusal(at, partner.person.key, name, body, ref),)
    return (
        Move(
            StepKind.PARTNER_UNCLEAR,
            msg.partner_needs_agent_note(
                at.facts(), view.as_partner(partner), excerpt(body), reading.sentence, reading.why
            ),
            at.state,
            ref=ref,
            add_tags=view.tag_set(at.settings.tags.review),
        ),
    )


def refuses(at: At, email: str, body: str) -> bool:
    """The holder, a partner or the company's address says no (§4.5: a refusal stops it)."""
    if at.state.phase not in UNDER_WAY or at.situation() not in (
        Situation.HOLDER,
        Situation.PARTNER,
    ):
        return False
    key = email.strip().lower()
    account = at.view.identification.account
    registered = (account.registered_email or "").strip().lower() if account else ""
    speaks_for_account = (
        key == at.ticket.requester.key
        or at.view.partner_by_email(key) is not None
        or (bool(registered) and key == registered)
    )
    return speaks_for_account and classify_confirmation(body, at.settings.replies) == "refuse"


def stop_on_refusal(at: At, email: str, name: str, body: str, ref: str, doubt: str = "") -> Move:
    """Stops the cancellation wherever it stood (even with the contract about to be cancelled):
    the refuser's confirmation no longer counts, and an agent decides what happens next. A
    refusal stops even when who wrote it is in doubt (`doubt`, shown in the note)."""
    state = at.state
    partners = at.situation() is Situation.PARTNER
    resume: Phase
    if state.phase in CONTACTING:
        resume = state.phase
    elif state.phase is Phase.REVIEW and state.resume_phase is not None:
        resume = state.resume_phase
    else:
        resume = Phase.WAITING_PARTNERS if partners else Phase.CALLING
    key = email.strip().lower()
    return Move(
        StepKind.REFUSAL,
        msg.refused_note(at.facts(), {"nome": name, "email": key}, excerpt(body), partners, doubt),
        state.evolve(
            phase=Phase.REVIEW,
            review=ReviewReason.PARTNER_REFUSED,
            resume_phase=resume,
            confirmed=tuple(c for c in state.confirmed if c != key),
            cancel_why=None,
        ),
        ref=ref,
        add_tags=at.view.tag_set(at.settings.tags.review),
        remove_tags=at.view.tag_set(at.settings.tags.execute_contract),
    )


def on_other_tickets(at: At) -> Transitions:
    """Other tickets of the account's people, created after this one: partners' confirmations
    sent as new e-mails; tickets linked here (noted); and, while waiting for an answer,
    anything they wrote (customers often write anew instead of replying): an agent looks at
    those before anything happens on no answer (CONTRACT 16)."""
    view = at.view
    situation = at.situation()
    if situation not in (Situation.HOLDER, Situation.PARTNER) or at.state.phase not in UNDER_WAY:
        return ()
    created = at.ticket.created_at
    related = view.account_tickets()
    taken: Transitions = ()
    newer: list[RelatedTicket] = []
    for other in sorted(related, key=lambda t: (t.created_at, numeric(t.id))):
        now = at.then(taken)
        ref = f"t{other.id}"
        if other.id == at.ticket.id or ref in now.consumed or other.created_at < created:
            continue
        waiting_since = now.state.waiting_since
        since_contact = waiting_since is None or other.created_at >= waiting_since
        partner = view.partner_by_email(other.requester_email)
        if refuses(now, other.requester_email, other.first_message):
            who = partner.person.name if partner else other.requester_email
            taken = (
                *taken,
                stop_on_refusal(
                    now, other.requester_email, who, other.first_message, ref, other.doubt
                ),
            )
        elif (
            situation is Situation.PARTNER
            and partner is not None
            and partner.person.key not in now.state.confirmed
            and now.state.phase in CONTACTING
        ):
            if other.doubt:
                held = trust.hold_for_agent(
                    now, ref, partner.person, other.first_message, other.doubt, hold=False
                )
                taken = (*taken, held)
            else:
                where = f"no ticket #{other.id}"
                taken = (*taken, *on_partner_text(now, partner, other.first_message, ref, where))
        elif now.state.phase in WAITING_PHASES and since_contact:
            newer.append(other)
        elif start.linked_tag(at.settings, at.ticket.id) in other.tags:
            note = msg.other_ticket_message_note(
                now.facts(), other.id, other.requester_email, excerpt(other.first_message)
            )
            taken = (*taken, Move(StepKind.OTHER_TICKET_MESSAGE, note, now.state, ref=ref))
    if not newer:
        return taken
    now = at.then(taken)
    state = now.state
    deadline = state.deadline
    shown = view.shown(deadline) if deadline else ""
    return (
        *taken,
        *(Skip(f"t{t.id}") for t in newer),
        Move(
            StepKind.OTHER_TICKETS,
            msg.related_tickets_note(now.facts(), [f"#{t.id} – {t.subject}" for t in newer], shown),
            state.evolve(
                phase=Phase.REVIEW,
                review=ReviewReason.RELATED_TICKETS,
                resume_phase=resume_after_review(state),
            ),
            add_tags=view.tag_set(at.settings.tags.review),
        ),
    )


def resume_after_review(state: ProcedureState) -> Phase | None:
    """Where #retomar goes back to once an agent has looked. A ticket already in review (a
    refusal earlier in the same batch) keeps the way back its review recorded: the phase it
    stopped, not the review itself, so one #retomar resumes it."""
    return state.resume_phase if state.phase is Phase.REVIEW else state.phase
