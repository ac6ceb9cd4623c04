"""How a ticket enters the procedure (PROCEDURE.md §1-§2, §3.1, §4.1, §5): detection, the
first step of each situation, adopting a ticket agents had, linking a second request to the first,
and the answers to a third party with their mail-loop guard (CONTRACT 4)."""

from __future__ import annotations

from worker.core import messages as msg
from worker.core.calendar import format_datetime
from worker.core.commands import Command, CommandKind
from worker.core.detection import DetectionResult, detect
from worker.core.effects import Email, FieldKey
from worker.core.model import AuthorRole, RelatedTicket, Situation, StatusCategory, Ticket
from worker.core.procedure import trust
from worker.core.procedure.run import (
    CHANNEL_LABELS,
    FINAL_STATUSES,
    OUTCOME_THIRD_PARTY,
    Event,
    Run,
    numeric,
    ticket_events,
)
from worker.core.settings import ProcedureSettings
from worker.core.state import Phase, ProcedureState, ReviewReason, StepKind


def start(run: Run) -> None:
    assert run.detection is not None
    detected_by = run.detection.describe()
    tags = run.tag_set(run.settings.tags.cancellation)
    # What the customer added before the worker came goes with the request when nobody will
    # act on it here (a third party's answer, a review, a linked ticket); a holder's or a
    # partner's procedure reads it as messages, so an early refusal or confirmation counts.
    run.prior_messages = [
        event.ref for event in ticket_events(run.ticket, run.consumed) if event.command is None
    ]
    run.skipped.extend(run.prior_messages)
    evidence = agents_already_handling(run.ticket)
    if evidence:
        run.step(
            StepKind.AGENTS_HANDLING,
            msg.in_progress_note(run.facts(), evidence),
            run.state.evolve(phase=Phase.REVIEW, review=ReviewReason.IN_PROGRESS),
            add_tags=tags | {run.settings.tags.review},
        )
        return
    agent_choice = run.situation_field()
    if agent_choice is not None:
        begin(run, agent_choice, detected_by, tags, by_agent=True)
        return
    identification = run.identification
    if identification.situation in (Situation.HOLDER, Situation.PARTNER):
        main = open_cancellation_elsewhere(run)
        if main is not None:
            link_to(run, main, tags)
            return
    if identification.situation is None:
        run.step(
            StepKind.REVIEW_DATA,
            msg.review_note(run.facts(), list(identification.problems), detected_by),
            run.state.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
            add_tags=tags | {run.settings.tags.review},
        )
        return
    begin(run, identification.situation, detected_by, tags, by_agent=False)


def enter(run: Run) -> bool:
    """Whether the procedure starts now on a ticket it has not started on. An agent's
    #iniciar-cancelamento starts it whatever detection said; a request starts it; a maybe gets
    one note (once) and waits for an agent; anything else is left alone."""
    command = start_command(run.ticket, run.consumed)
    if command is not None:
        run.detection = DetectionResult(by_tag=False, by_agent=run.agent(command))
        run.skipped.append(command.ref)
        start(run)
        return True
    detection = detect_request(run.ticket, run.settings)
    if detection is None:
        return False
    if detection.outcome == "request" or _joins_open_cancellation(run):
        # A maybe from the account of a cancellation under way ("ainda aguardo o
        # cancelamento") is about that one: it joins it like any second request.
        run.detection = detection
        start(run)
        return True
    if run.state.phase is Phase.NEW:
        run.step(
            StepKind.POSSIBLE,
            msg.possible_request_note(
                run.facts(), detection.describe(), detection.doubt or "", run.settings.tags.possible
            ),
            run.state.evolve(phase=Phase.POSSIBLE),
            add_tags=run.tag_set(run.settings.tags.possible),
        )
    return False


def _joins_open_cancellation(run: Run) -> bool:
    situation = run.identification.situation
    return situation in (Situation.HOLDER, Situation.PARTNER) and (
        open_cancellation_elsewhere(run) is not None
    )


def start_command(ticket: Ticket, consumed: frozenset[str]) -> Event | None:
    for event in ticket_events(ticket, consumed):
        if isinstance(event.command, Command) and event.command.kind is CommandKind.START:
            return event
    return None


def detect_request(ticket: Ticket, settings: ProcedureSettings) -> DetectionResult | None:
    first = ticket.comments[0].body if ticket.comments else ""
    return detect(
        ticket.subject,
        first,
        ticket.channel,
        ticket.tags,
        settings.tags.cancellation,
        settings.detection,
    )


def agents_already_handling(ticket: Ticket) -> str:
    """CONTRACT 17: an agent's public reply, or a status an agent moved past open."""
    for comment in ticket.comments:
        if comment.role is AuthorRole.AGENT and comment.public:
            return f"resposta pública de {comment.author.name} em " + format_datetime(
                comment.created_at
            )
    if ticket.status in (StatusCategory.PENDING, StatusCategory.HOLD):
        name = ticket.custom_status or ticket.status.value
        return f'o ticket já estava com o status "{name}"'
    return ""


def begin(
    run: Run, situation: Situation, detected_by: str, tags: frozenset[str], *, by_agent: bool
) -> None:
    """The first step of a situation: the first ficha note, status, situation field, tags."""
    identification = run.identification
    base = run.state.evolve(
        situation=situation.value,
        review=None,
        from_registered_email=identification.from_registered_email,
    )
    if situation is Situation.THIRD_PARTY:
        answer_third_party(run, base, detected_by, tags, first=True)
        return
    if situation is Situation.PARTNER and not run.partners():
        problems = [*identification.problems, "Situação 2 sem sócios-administradores na ficha"]
        run.step(
            StepKind.REVIEW_DATA,
            msg.review_note(run.facts(), problems, detected_by),
            base.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
            add_tags=tags | {run.settings.tags.review},
            fields=((FieldKey.SITUATION, situation.value),),
        )
        return
    run.skipped = [ref for ref in run.skipped if ref not in run.prior_messages]
    requester = run.partner_by_email(run.ticket.requester.email)
    doubt = trust.request_doubt(run)
    confirmed = (
        (requester.person.key,)
        if requester and situation is Situation.PARTNER and not doubt
        else ()
    )
    state = base.evolve(
        phase=Phase.CALLING,
        confirmed=confirmed,
        from_registered_email=base.from_registered_email and not doubt,
    )
    run.state = run.state.evolve(situation=situation.value)  # so the texts see the situation
    _, pending = run.partner_lists(state)
    max_attempts = run.settings.procedure.max_call_attempts
    if situation is Situation.PARTNER:
        next_steps = (
            f"ligar para o solicitante (até {max_attempts} tentativas, registre cada uma com "
            "#tentativa); todos os sócios-administradores precisam confirmar o cancelamento"
        )
    else:
        next_steps = (
            f"ligar para o cliente (até {max_attempts} tentativas, registre cada uma com "
            "#tentativa) para entender o motivo e tentar a reversão"
        )
    note = (
        msg.situation_set_by_agent_note(run.facts(), next_steps)
        if by_agent
        else msg.start_note(
            run.facts(),
            detected_by,
            CHANNEL_LABELS.get(run.ticket.channel, run.ticket.channel),
            next_steps,
            [run.as_partner(p) for p in run.partners()] if situation is Situation.PARTNER else [],
            pending if situation is Situation.PARTNER else [],
            max_attempts,
        )
    )
    run.step(
        StepKind.START,
        note,
        state,
        fields=((FieldKey.SITUATION, situation.value), (FieldKey.ATTEMPTS, "0")),
        add_tags=tags,
        remove_tags=run.tag_set(run.settings.tags.review),
    )
    if doubt:
        first = run.ticket.comments[0]
        trust.hold_for_agent(run, "", first.author, first.body, doubt, hold=False, request=True)


def follow_situation_field(run: Run) -> None:
    """§2: an agent who sets the situation field by hand is followed from then on."""
    chosen = run.situation_field()
    state = run.state
    if chosen is None or chosen.value == state.situation:
        return
    if state.phase is Phase.REVIEW and state.review is ReviewReason.MISSING_DATA:
        begin(run, chosen, "situação definida por um agente", frozenset(), by_agent=True)


def adopt(run: Run, event: Event) -> str | None:
    """#retomar on a ticket the worker had not started: begin from the ficha as it is now."""
    identification = run.identification
    situation = run.situation_field() or identification.situation
    if situation is None:
        return "a ficha ainda não permite identificar o solicitante: " + "; ".join(
            identification.problems
        )
    run.skipped.append(event.ref)
    begin(run, situation, "retomado por #retomar", frozenset(), by_agent=True)
    return None


def linked_tag(run: Run, main_ticket: str) -> str:
    """Names the ticket a linked one belongs to, so only that ticket takes its message."""
    return f"{run.settings.tags.linked}-{main_ticket}"


def open_cancellation_elsewhere(run: Run) -> RelatedTicket | None:
    """The first older, unresolved cancellation ticket of the same account: this one joins it."""
    return next(iter(open_cancellations_before(run)), None)


def open_cancellations_before(run: Run) -> list[RelatedTicket]:
    """The account's unresolved cancellation tickets older than this one, oldest first."""
    candidates = [
        t
        for t in run.open_cancellations()
        if t.id != run.ticket.id
        and run.settings.tags.cancellation in t.tags
        and not t.tags & run.finished_tags()
        and t.status not in FINAL_STATUSES
        and (t.created_at, numeric(t.id)) < (run.ticket.created_at, numeric(run.ticket.id))
    ]
    return sorted(candidates, key=lambda t: (t.created_at, numeric(t.id)))


def link_to(run: Run, main: RelatedTicket, tags: frozenset[str]) -> None:
    """§4.5: a new ticket about an account whose cancellation is under way is handled on
    the first ticket (a partner's confirmation, a customer writing again): noted on both. Every
    open cancellation of the account is handled right after, not only the first: two can be
    under way at once (an older one reopened after a newer one started), and a refusal in the
    new ticket must stop each of them."""
    situation = run.identification.situation
    assert situation is not None
    run.step(
        StepKind.LINKED,
        msg.linked_note(run.facts(), main.id, main.subject),
        run.state.evolve(phase=Phase.DONE, situation=situation.value),
        add_tags=tags | {run.settings.tags.linked, linked_tag(run, main.id)},
        follow_ups=tuple(t.id for t in open_cancellations_before(run)),
    )


def third_party_answered_before(run: Run) -> int:
    """E-mails already sent to this requester as a third party in the window (CONTRACT 4)."""
    others = sum(
        1
        for ticket in run.requester_tickets()
        if ticket.id != run.ticket.id and run.settings.tags.third_party in ticket.tags
    )
    return others + run.state.third_party_replies


def answer_third_party(
    run: Run,
    base: ProcedureState,
    detected_by: str,
    tags: frozenset[str],
    *,
    first: bool,
    ref: str | None = None,
) -> None:
    limit = run.settings.procedure.third_party_max_replies
    answered = third_party_answered_before(run)
    facts = run.facts()
    review_tags = run.tag_set(run.settings.tags.review, run.settings.tags.third_party)
    if answered > limit:
        run.step(
            StepKind.THIRD_PARTY_LOOP,
            msg.third_party_loop_note(facts, limit),
            base.evolve(phase=Phase.REVIEW, review=ReviewReason.THIRD_PARTY_LOOP),
            ref=ref,
            fields=((FieldKey.SITUATION, Situation.THIRD_PARTY.value),),
            add_tags=tags | review_tags,
        )
        return
    state = base.evolve(phase=Phase.DONE, third_party_replies=base.third_party_replies + 1)
    if first and answered == 0:
        email = msg.third_party_email(facts)
        note = msg.third_party_replied_note(facts, detected_by)
    else:
        email = msg.third_party_reinforcement_email(facts)
        note = msg.third_party_reinforced_note(facts, max(answered, 1), limit)
    run.step(
        StepKind.THIRD_PARTY if first else StepKind.THIRD_PARTY_AGAIN,
        note,
        state,
        ref=ref,
        email=Email(email),
        fields=(
            (FieldKey.SITUATION, Situation.THIRD_PARTY.value),
            (FieldKey.OUTCOME, OUTCOME_THIRD_PARTY),
        ),
        add_tags=tags | {run.settings.tags.third_party},
    )
