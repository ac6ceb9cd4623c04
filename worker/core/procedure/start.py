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
    At,
    Event,
    Move,
    Skip,
    Transitions,
    numeric,
    ticket_events,
)
from worker.core.settings import ProcedureSettings
from worker.core.state import Phase, ProcedureState, ReviewReason, StepKind


def start(at: At, detection: DetectionResult, *, skipped: tuple[str, ...] = ()) -> Transitions:
    """The first step on a request (`skipped`: the command that started it, if any)."""
    view = at.view
    detected_by = detection.describe()
    tags = view.tag_set(at.settings.tags.cancellation)
    # What the customer added before the worker came goes with the request when nobody will
    # act on it here (a third party's answer, a review, a linked ticket); a holder's or a
    # partner's procedure reads it as messages, so an early refusal or confirmation counts.
    prior = tuple(
        Skip(event.ref) for event in ticket_events(at.ticket, at.consumed) if event.command is None
    )
    before = (*(Skip(ref) for ref in skipped), *prior)
    evidence = agents_already_handling(at.ticket)
    if evidence:
        return (
            *before,
            Move(
                StepKind.AGENTS_HANDLING,
                msg.in_progress_note(at.facts(), evidence),
                at.state.evolve(phase=Phase.REVIEW, review=ReviewReason.IN_PROGRESS),
                add_tags=tags | {at.settings.tags.review},
            ),
        )
    agent_choice = view.situation_field()
    if agent_choice is not None:
        return begin(at, agent_choice, detected_by, tags, by_agent=True, before=before, prior=prior)
    identification = view.identification
    if identification.situation in (Situation.HOLDER, Situation.PARTNER):
        main = open_cancellation_elsewhere(at)
        if main is not None:
            return (*before, link_to(at, main, tags))
    if identification.situation is None:
        return (
            *before,
            Move(
                StepKind.REVIEW_DATA,
                msg.review_note(at.facts(), list(identification.problems), detected_by),
                at.state.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
                add_tags=tags | {at.settings.tags.review},
            ),
        )
    return begin(
        at, identification.situation, detected_by, tags, by_agent=False, before=before, prior=prior
    )


def enter(at: At) -> tuple[bool, Transitions]:
    """Whether the procedure starts now on a ticket it has not started on, and its first
    transitions. An agent's #iniciar-cancelamento starts it whatever detection said; a request
    starts it; a maybe gets one note (once) and waits for an agent; anything else is left
    alone."""
    command = start_command(at.ticket, at.consumed)
    if command is not None:
        detection = DetectionResult(by_tag=False, by_agent=at.view.agent(command))
        return True, start(at, detection, skipped=(command.ref,))
    found = detect_request(at.ticket, at.settings)
    if found is None:
        return False, ()
    if found.outcome == "request" or _joins_open_cancellation(at):
        # A maybe from the account of a cancellation under way ("ainda aguardo o
        # cancelamento") is about that one: it joins it like any second request.
        return True, start(at, found)
    if at.state.phase is Phase.NEW:
        return False, (
            Move(
                StepKind.POSSIBLE,
                msg.possible_request_note(
                    at.facts(), found.describe(), found.doubt or "", at.settings.tags.possible
                ),
                at.state.evolve(phase=Phase.POSSIBLE),
                add_tags=at.view.tag_set(at.settings.tags.possible),
            ),
        )
    return False, ()


def _joins_open_cancellation(at: At) -> bool:
    situation = at.view.identification.situation
    return situation in (Situation.HOLDER, Situation.PARTNER) and (
        open_cancellation_elsewhere(at) is not None
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
    at: At,
    situation: Situation,
    detected_by: str,
    tags: frozenset[str],
    *,
    by_agent: bool,
    before: Transitions = (),
    prior: Transitions = (),
) -> Transitions:
    """The first step of a situation: the first ficha note, status, situation field, tags.
    `before`: the events consumed with it; `prior`: those of them that are customers' messages
    sent before the worker came, which a holder's or a partner's procedure does not consume but
    reads next, as messages."""
    view = at.view
    identification = view.identification
    base = at.state.evolve(
        situation=situation.value,
        review=None,
        from_registered_email=identification.from_registered_email,
    )
    if situation is Situation.THIRD_PARTY:
        return (*before, *answer_third_party(at, base, detected_by, tags, first=True))
    if situation is Situation.PARTNER and not view.partners():
        problems = [*identification.problems, "Situação 2 sem sócios-administradores na ficha"]
        return (
            *before,
            Move(
                StepKind.REVIEW_DATA,
                msg.review_note(at.facts(), problems, detected_by),
                base.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
                add_tags=tags | {at.settings.tags.review},
                fields=((FieldKey.SITUATION, situation.value),),
            ),
        )
    kept = tuple(item for item in before if item not in prior)
    requester = view.partner_by_email(at.ticket.requester.email)
    doubt = trust.request_doubt(at)
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
    facts = view.facts(at.state.evolve(situation=situation.value))  # the texts see the situation
    _, pending = view.partner_lists(state)
    max_attempts = at.settings.procedure.max_call_attempts
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
        msg.situation_set_by_agent_note(facts, next_steps)
        if by_agent
        else msg.start_note(
            facts,
            detected_by,
            CHANNEL_LABELS.get(at.ticket.channel, at.ticket.channel),
            next_steps,
            [view.as_partner(p) for p in view.partners()] if situation is Situation.PARTNER else [],
            pending if situation is Situation.PARTNER else [],
            max_attempts,
        )
    )
    started: Transitions = (
        *kept,
        Move(
            StepKind.START,
            note,
            state,
            fields=((FieldKey.SITUATION, situation.value), (FieldKey.ATTEMPTS, "0")),
            add_tags=tags,
            remove_tags=view.tag_set(at.settings.tags.review),
        ),
    )
    if not doubt:
        return started
    first = at.ticket.comments[0]
    return (
        *started,
        trust.hold_for_agent(
            at.then(started), "", first.author, first.body, doubt, hold=False, request=True
        ),
    )


def follow_situation_field(at: At) -> Transitions:
    """§2: an agent who sets the situation field by hand is followed from then on."""
    chosen = at.view.situation_field()
    state = at.state
    if chosen is None or chosen.value == state.situation:
        return ()
    if state.phase is Phase.REVIEW and state.review is ReviewReason.MISSING_DATA:
        return begin(at, chosen, "situação definida por um agente", frozenset(), by_agent=True)
    return ()


def adopt(at: At, event: Event) -> Transitions | str:
    """#retomar on a ticket the worker had not started: begin from the ficha as it is now."""
    identification = at.view.identification
    situation = at.view.situation_field() or identification.situation
    if situation is None:
        return "a ficha ainda não permite identificar o solicitante: " + "; ".join(
            identification.problems
        )
    return begin(
        at,
        situation,
        "retomado por #retomar",
        frozenset(),
        by_agent=True,
        before=(Skip(event.ref),),
    )


def linked_tag(settings: ProcedureSettings, main_ticket: str) -> str:
    """Names the ticket a linked one belongs to, so only that ticket takes its message."""
    return f"{settings.tags.linked}-{main_ticket}"


def open_cancellation_elsewhere(at: At) -> RelatedTicket | None:
    """The first older, unresolved cancellation ticket of the same account: this one joins it."""
    return next(iter(open_cancellations_before(at)), None)


def open_cancellations_before(at: At) -> list[RelatedTicket]:
    """The account's unresolved cancellation tickets older than this one, oldest first."""
    view = at.view
    candidates = [
        t
        for t in view.open_cancellations()
        if t.id != at.ticket.id
        and at.settings.tags.cancellation in t.tags
        and not t.tags & view.finished_tags()
        and t.status not in FINAL_STATUSES
        and (t.created_at, numeric(t.id)) < (at.ticket.created_at, numeric(at.ticket.id))
    ]
    return sorted(candidates, key=lambda t: (t.created_at, numeric(t.id)))


def link_to(at: At, main: RelatedTicket, tags: frozenset[str]) -> Move:
    """§4.5: a new ticket about an account whose cancellation is under way is handled on
    the first ticket (a partner's confirmation, a customer writing again): noted on both. Every
    open cancellation of the account is handled right after, not only the first: two can be
    under way at once (an older one reopened after a newer one started), and a refusal in the
    new ticket must stop each of them."""
    situation = at.view.identification.situation
    assert situation is not None
    return Move(
        StepKind.LINKED,
        msg.linked_note(at.facts(), main.id, main.subject),
        at.state.evolve(phase=Phase.DONE, situation=situation.value),
        add_tags=tags | {at.settings.tags.linked, linked_tag(at.settings, main.id)},
        follow_ups=tuple(t.id for t in open_cancellations_before(at)),
    )


def third_party_answered_before(at: At) -> int:
    """E-mails already sent to this requester as a third party in the window (CONTRACT 4)."""
    others = sum(
        1
        for ticket in at.view.requester_tickets()
        if ticket.id != at.ticket.id and at.settings.tags.third_party in ticket.tags
    )
    return others + at.state.third_party_replies


def answer_third_party(
    at: At,
    base: ProcedureState,
    detected_by: str,
    tags: frozenset[str],
    *,
    first: bool,
    ref: str | None = None,
) -> Transitions:
    limit = at.settings.procedure.third_party_max_replies
    answered = third_party_answered_before(at)
    facts = at.facts()
    review_tags = at.view.tag_set(at.settings.tags.review, at.settings.tags.third_party)
    if answered > limit:
        return (
            Move(
                StepKind.THIRD_PARTY_LOOP,
                msg.third_party_loop_note(facts, limit),
                base.evolve(phase=Phase.REVIEW, review=ReviewReason.THIRD_PARTY_LOOP),
                ref=ref,
                fields=((FieldKey.SITUATION, Situation.THIRD_PARTY.value),),
                add_tags=tags | review_tags,
            ),
        )
    state = base.evolve(phase=Phase.DONE, third_party_replies=base.third_party_replies + 1)
    if first and answered == 0:
        email = msg.third_party_email(facts)
        note = msg.third_party_replied_note(facts, detected_by)
    else:
        email = msg.third_party_reinforcement_email(facts)
        note = msg.third_party_reinforced_note(facts, max(answered, 1), limit)
    return (
        Move(
            StepKind.THIRD_PARTY if first else StepKind.THIRD_PARTY_AGAIN,
            note,
            state,
            ref=ref,
            email=Email(email),
            fields=(
                (FieldKey.SITUATION, Situation.THIRD_PARTY.value),
                (FieldKey.OUTCOME, OUTCOME_THIRD_PARTY),
            ),
            add_tags=tags | {at.settings.tags.third_party},
        ),
    )
