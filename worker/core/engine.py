"""The cancellation procedure (PROCEDURE.md §1-§7) as a pure function of the ticket.

`decide` reads where the ticket stands from the worker's own notes (see `state.py`), handles every
event it has not handled yet, in order (agents' command lines, the customers' messages), then the
clock (a deadline that passed), and returns the steps to take. Each step carries exactly one note
and the state after it, so applying the steps and deciding again yields nothing: the fixed point
that makes retries, restarts and duplicate polls harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from worker.config import Config
from worker.core import messages as msg
from worker.core.calendar import SAO_PAULO, BusinessCalendar, format_date, format_datetime
from worker.core.commands import (
    VALID_COMMANDS,
    Command,
    CommandKind,
    InvalidCommand,
    parse_commands,
)
from worker.core.detection import DetectionResult, detect
from worker.core.effects import (
    Decision,
    Email,
    FieldKey,
    Message,
    RelatedQuery,
    Step,
    TargetStatus,
)
from worker.core.model import (
    AuthorRole,
    Comment,
    Ficha,
    Member,
    RelatedTicket,
    Situation,
    StatusCategory,
    Ticket,
)
from worker.core.replies import classify_confirmation, excerpt, is_auto_reply
from worker.core.situation import identify
from worker.core.state import (
    WAITING_PHASES,
    Marker,
    Phase,
    ProcedureState,
    ReviewReason,
    read_history,
)
from worker.core.text import normalize


@dataclass(frozen=True)
class Context:
    ticket: Ticket
    ficha: Ficha
    config: Config
    calendar: BusinessCalendar
    now: datetime
    related: Mapping[RelatedQuery, tuple[RelatedTicket, ...]] = field(default_factory=dict)


class NeedRelated(Exception):
    """Raised inside a run when a decision depends on tickets the shell has not read yet."""

    def __init__(self, query: RelatedQuery) -> None:
        super().__init__(query)
        self.query = query


SITUATION_LABELS = {
    Situation.HOLDER: "Situação 1 (titular)",
    Situation.PARTNER: "Situação 2 (sócio-administrador)",
    Situation.THIRD_PARTY: "Situação 3 (terceiro)",
}
CHANNEL_LABELS = {
    "email": "e-mail",
    "web": "formulário web",
    "api": "API",
    "chat": "chat",
    "phone": "telefone",
    "other": "outro",
}
OUTCOME_RETAINED = "revertido"
OUTCOME_CANCELLED = "cancelado"
OUTCOME_NOT_CANCELLED = "nao_cancelado"
OUTCOME_THIRD_PARTY = "terceiro"

FINAL_STATUSES = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})


@dataclass(frozen=True)
class _Event:
    """An unhandled comment line: a command (or a malformed one), or a customer's message."""

    ref: str
    comment: Comment
    command: Command | InvalidCommand | None = None


def decide(context: Context) -> Decision:
    """The steps to take now, or a request for the related tickets the decision depends on."""
    try:
        return Decision(steps=tuple(_Run(context).steps()))
    except NeedRelated as need:
        return Decision(needs_related=need.query)


def ticket_events(ticket: Ticket, consumed: frozenset[str]) -> list[_Event]:
    """Agents' command lines and customers' messages not handled yet, in the order they came.

    The ticket's first comment is the request itself. Commands count only in private comments
    by agents (never the worker's own notes, never a customer's text: CONTRACT 13)."""
    events: list[_Event] = []
    for position, comment in enumerate(ticket.comments):
        if position == 0:
            continue
        if comment.role is AuthorRole.AGENT and not comment.public:
            for line in parse_commands(comment.body):
                ref = f"c{comment.id}.{line.line_index}"
                if ref not in consumed:
                    events.append(_Event(ref, comment, line))
        elif comment.role is AuthorRole.END_USER:
            ref = f"c{comment.id}"
            if ref not in consumed:
                events.append(_Event(ref, comment))
    return events


class _Run:
    """One decision: folds the unhandled events into steps, keeping the state as it goes."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.config = context.config
        self.ticket = context.ticket
        history = read_history(context.ticket)
        self.state = history.state
        self.consumed = history.consumed
        self.step_number = history.steps
        self.skipped: list[str] = []
        self.out: list[Step] = []
        self.identification = identify(context.ticket.requester, context.ficha)
        self.detection: DetectionResult | None = None

    # --- the run ---------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        if self.state.phase is Phase.NEW:
            if self.ticket.status in FINAL_STATUSES:
                return []
            self.detection = self._detect()
            if self.detection is None:
                return []
            self._start()
        elif self.ticket.status is StatusCategory.CLOSED or (
            self.ticket.status is StatusCategory.SOLVED and self.state.phase is not Phase.DONE
        ):
            return []  # an agent solved it, or it is closed: the agent always wins
        self._follow_situation_field()
        for event in ticket_events(self.ticket, self.consumed):
            if event.ref in self.skipped:
                continue
            if event.command is not None:
                self._on_command(event, event.command)
            else:
                self._on_message(event)
        self._on_clock()
        return self.out

    def _detect(self) -> DetectionResult | None:
        first = self.ticket.comments[0].body if self.ticket.comments else ""
        return detect(
            self.ticket.subject,
            first,
            self.ticket.channel,
            self.ticket.tags,
            self.config.tags.cancellation,
            self.config.detection,
        )

    # --- building steps --------------------------------------------------------------------

    def _step(
        self,
        kind: str,
        note: Message,
        state: ProcedureState,
        *,
        ref: str | None = None,
        email: Email | None = None,
        status: TargetStatus | None = None,
        fields: tuple[tuple[FieldKey, str | None], ...] = (),
        add_tags: frozenset[str] = frozenset(),
        remove_tags: frozenset[str] = frozenset(),
    ) -> None:
        self.step_number += 1
        refs = [*self.skipped, *([ref] if ref else [])]
        self.skipped = []
        key = f"{self.step_number}:{kind}"
        self.consumed = self.consumed | frozenset(refs)
        self.state = state
        self.out.append(
            Step(
                key=key,
                note=note,
                marker=Marker(key, tuple(refs), state).render(),
                email=email,
                status=status,
                fields=fields,
                add_tags=add_tags,
                remove_tags=remove_tags,
            )
        )

    def _skip(self, event: _Event) -> None:
        """Handled by doing nothing; recorded with the next step so it is never re-read."""
        self.skipped.append(event.ref)

    def facts(self) -> msg.TicketFacts:
        account = self.identification.account
        document = account.parsed_document if account else None
        situation = self._situation()
        return msg.TicketFacts(
            protocol=self.ticket.id,
            subject=self.ticket.subject,
            requester_name=self.ticket.requester.name or self.ticket.requester.email,
            requester_email=self.ticket.requester.email,
            account_name=account.name if account else "",
            document_label=document.label if document else "",
            situation_label=SITUATION_LABELS[situation] if situation else "",
            received_at=format_datetime(self.ticket.created_at),
            signature=self.config.emails.signature,
        )

    def _situation(self) -> Situation | None:
        value = self.state.situation
        return Situation(value) if value else None

    def _tags(self, *names: str) -> frozenset[str]:
        return frozenset(names)

    # --- people ----------------------------------------------------------------------------

    def _partners(self) -> tuple[Member, ...]:
        return self.identification.partners

    @staticmethod
    def _as_partner(member: Member) -> msg.Partner:
        return {"nome": member.person.name or member.person.email, "email": member.person.key}

    def _partner_lists(self, state: ProcedureState) -> tuple[list[msg.Partner], list[msg.Partner]]:
        confirmed = [p for p in self._partners() if p.person.key in state.confirmed]
        pending = [p for p in self._partners() if p.person.key not in state.confirmed]
        return [self._as_partner(p) for p in confirmed], [self._as_partner(p) for p in pending]

    def _partner_by_email(self, email: str) -> Member | None:
        key = email.strip().lower()
        return next((p for p in self._partners() if p.person.key == key), None)

    def _all_confirmed(self, state: ProcedureState) -> bool:
        partners = self._partners()
        return bool(partners) and all(p.person.key in state.confirmed for p in partners)

    # --- start (§2, §3.1, §4.1, §5.1) ------------------------------------------------------

    def _start(self) -> None:
        assert self.detection is not None
        detected_by = self.detection.describe()
        tags = self._tags(self.config.tags.cancellation)
        # The request and anything the customer added before the worker came count as the request.
        for event in ticket_events(self.ticket, self.consumed):
            if event.command is None:
                self.skipped.append(event.ref)
        evidence = self._agents_already_handling()
        if evidence:
            self._step(
                "em-andamento",
                msg.in_progress_note(self.facts(), evidence),
                self.state.evolve(phase=Phase.REVIEW, review=ReviewReason.IN_PROGRESS),
                add_tags=tags | {self.config.tags.review},
            )
            return
        agent_choice = self._situation_field()
        if agent_choice is not None:
            self._begin(agent_choice, detected_by, tags, by_agent=True)
            return
        identification = self.identification
        if identification.situation is None:
            self._step(
                "revisar",
                msg.review_note(self.facts(), list(identification.problems), detected_by),
                self.state.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
                status=TargetStatus.IN_PROGRESS,
                add_tags=tags | {self.config.tags.review},
            )
            return
        self._begin(identification.situation, detected_by, tags, by_agent=False)

    def _agents_already_handling(self) -> str:
        """CONTRACT 17: an agent's public reply, or a status an agent moved past open."""
        for comment in self.ticket.comments:
            if comment.role is AuthorRole.AGENT and comment.public:
                return f"resposta pública de {comment.author.name} em " + format_datetime(
                    comment.created_at
                )
        if self.ticket.status in (StatusCategory.PENDING, StatusCategory.HOLD):
            name = self.ticket.custom_status or self.ticket.status.value
            return f'o ticket já estava com o status "{name}"'
        return ""

    def _situation_field(self) -> Situation | None:
        raw = self.ticket.fields.get(FieldKey.SITUATION.value)
        try:
            return Situation(raw) if raw else None
        except ValueError:
            return None

    def _begin(
        self, situation: Situation, detected_by: str, tags: frozenset[str], *, by_agent: bool
    ) -> None:
        """The first step of a situation: the first ficha note, status, situation field, tags."""
        identification = self.identification
        base = self.state.evolve(
            situation=situation.value,
            review=None,
            from_registered_email=identification.from_registered_email,
        )
        if situation is Situation.THIRD_PARTY:
            self._answer_third_party(base, detected_by, tags, first=True)
            return
        if situation is Situation.PARTNER and not self._partners():
            problems = [*identification.problems, "Situação 2 sem sócios-administradores na ficha"]
            self._step(
                "revisar",
                msg.review_note(self.facts(), problems, detected_by),
                base.evolve(phase=Phase.REVIEW, review=ReviewReason.MISSING_DATA),
                status=TargetStatus.IN_PROGRESS,
                add_tags=tags | {self.config.tags.review},
                fields=((FieldKey.SITUATION, situation.value),),
            )
            return
        requester = self._partner_by_email(self.ticket.requester.email)
        confirmed = (requester.person.key,) if requester and situation is Situation.PARTNER else ()
        state = base.evolve(phase=Phase.CALLING, confirmed=confirmed)
        self.state = state  # so the texts below see the situation
        _, pending = self._partner_lists(state)
        max_attempts = self.config.procedure.max_call_attempts
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
            msg.situation_set_by_agent_note(self.facts(), next_steps)
            if by_agent
            else msg.start_note(
                self.facts(),
                detected_by,
                CHANNEL_LABELS.get(self.ticket.channel, self.ticket.channel),
                next_steps,
                [self._as_partner(p) for p in self._partners()]
                if situation is Situation.PARTNER
                else [],
                pending if situation is Situation.PARTNER else [],
                max_attempts,
            )
        )
        self._step(
            "inicio",
            note,
            state,
            status=TargetStatus.IN_PROGRESS,
            fields=((FieldKey.SITUATION, situation.value), (FieldKey.ATTEMPTS, "0")),
            add_tags=tags,
            remove_tags=self._tags(self.config.tags.review),
        )

    def _follow_situation_field(self) -> None:
        """§2: an agent who sets the situation field by hand is followed from then on."""
        chosen = self._situation_field()
        state = self.state
        if chosen is None or chosen.value == state.situation:
            return
        if state.phase is Phase.REVIEW and state.review is ReviewReason.MISSING_DATA:
            self._begin(chosen, "tag cancelamento", frozenset(), by_agent=True)

    # --- Situação 3 ------------------------------------------------------------------------

    def _third_party_answered_before(self) -> int:
        """E-mails already sent to this requester as a third party in the window (CONTRACT 4)."""
        window = timedelta(days=self.config.procedure.third_party_window_days)
        query = RelatedQuery((self.ticket.requester.key,), _day_start(self.context.now - window))
        related = self._related(query)
        others = sum(
            1
            for ticket in related
            if ticket.id != self.ticket.id and self.config.tags.third_party in ticket.tags
        )
        return others + self.state.third_party_replies

    def _answer_third_party(
        self,
        base: ProcedureState,
        detected_by: str,
        tags: frozenset[str],
        *,
        first: bool,
        ref: str | None = None,
    ) -> None:
        limit = self.config.procedure.third_party_max_replies
        answered = self._third_party_answered_before()
        facts = self.facts()
        review_tags = self._tags(self.config.tags.review, self.config.tags.third_party)
        if answered > limit:
            self._step(
                "terceiro-loop",
                msg.third_party_loop_note(facts, limit),
                base.evolve(phase=Phase.REVIEW, review=ReviewReason.THIRD_PARTY_LOOP),
                ref=ref,
                status=TargetStatus.IN_PROGRESS,
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
        self._step(
            "terceiro" if first else "terceiro-reforco",
            note,
            state,
            ref=ref,
            email=Email(email),
            status=TargetStatus.SOLVED,
            fields=(
                (FieldKey.SITUATION, Situation.THIRD_PARTY.value),
                (FieldKey.OUTCOME, OUTCOME_THIRD_PARTY),
            ),
            add_tags=tags | {self.config.tags.third_party},
        )

    # --- agents' commands (§6) -------------------------------------------------------------

    def _reject(self, event: _Event, line: str, problem: str) -> None:
        self._step(
            "comando-invalido",
            msg.command_rejected_note(self.facts(), line, problem, list(VALID_COMMANDS)),
            self.state,
            ref=event.ref,
        )

    def _on_command(self, event: _Event, command: Command | InvalidCommand) -> None:
        phase = self.state.phase
        if phase is Phase.MANUAL and not (
            isinstance(command, Command) and command.kind is CommandKind.RESUME
        ):
            self._skip(event)  # CONTRACT 3: nothing at all until #retomar
            return
        if isinstance(command, InvalidCommand):
            self._reject(event, command.text, command.problem)
            return
        handler = {
            CommandKind.ATTEMPT: self._cmd_attempt,
            CommandKind.RETAINED: self._cmd_retained,
            CommandKind.CANCEL: self._cmd_cancel,
            CommandKind.IDENTITY_CONFIRMED: self._cmd_identity,
            CommandKind.PARTNER_CONFIRMED: self._cmd_partner_confirmed,
            CommandKind.CONTRACT_CANCELLED: self._cmd_contract_cancelled,
            CommandKind.MANUAL: self._cmd_manual,
            CommandKind.RESUME: self._cmd_resume,
        }[command.kind]
        problem = handler(event, command)
        if problem:
            self._reject(event, command.text, problem)

    def _agent(self, event: _Event) -> str:
        return event.comment.author.name or "agente"

    def _cmd_attempt(self, event: _Event, command: Command) -> str | None:
        if self.state.phase not in (Phase.CALLING, Phase.WAITING_CUSTOMER, Phase.WAITING_PARTNERS):
            return self._not_now()
        attempts = self.state.attempts + 1
        max_attempts = self.config.procedure.max_call_attempts
        self._step(
            "tentativa",
            msg.attempt_note(self.facts(), attempts, max_attempts, self._agent(event)),
            self.state.evolve(attempts=attempts),
            ref=event.ref,
            fields=((FieldKey.ATTEMPTS, str(attempts)),),
        )
        if (
            attempts >= max_attempts
            and not self.state.contact_email_sent
            and self.state.phase is Phase.CALLING
        ):
            self._send_contact_email()
        return None

    def _send_contact_email(self) -> None:
        """§3.3/§4.3: after the failed calls, the contact-attempt e-mail and a deadline."""
        days = self.config.procedure.customer_deadline_business_days
        deadline = self.context.calendar.deadline_after(self.context.now, days)
        shown = format_date(self.context.calendar.last_day(deadline))
        state = self.state.evolve(
            phase=Phase.WAITING_CUSTOMER,
            contact_email_sent=True,
            deadline=deadline,
            waiting_since=self.context.now,
        )
        facts = self.facts()
        if self._situation() is Situation.PARTNER:
            everyone = [self._as_partner(p) for p in self._partners()]
            email = Email(
                msg.contact_attempt_partners_email(facts, state.attempts, shown, everyone),
                cc=self._cc(p["email"] for p in everyone),
            )
            partners = everyone
        else:
            email = Email(msg.contact_attempt_holder_email(facts, state.attempts, shown))
            partners = []
        self._step(
            "email-contato",
            msg.contact_email_sent_note(facts, state.attempts, shown, partners),
            state,
            email=email,
            status=TargetStatus.WAITING_CUSTOMER,
            fields=((FieldKey.DEADLINE, self.context.calendar.last_day(deadline).isoformat()),),
        )

    def _cc(self, emails: object) -> tuple[str, ...]:
        requester = self.ticket.requester.key
        seen: list[str] = []
        for email in emails:  # type: ignore[attr-defined]
            if email != requester and email not in seen:
                seen.append(email)
        return tuple(seen[:48])

    def _not_now(self) -> str:
        return f"não se aplica na fase atual do ticket ({_PHASE_LABELS[self.state.phase]})"

    def _reason_field(self, reason: str) -> tuple[tuple[FieldKey, str | None], ...]:
        wanted = normalize(reason)
        for option in self.config.reasons:
            label = normalize(option.label)
            if wanted in (label, option.value) or wanted.startswith((label + " ", label + ":")):
                return ((FieldKey.REASON, option.value),)
        return ()

    def _active(self) -> bool:
        return self.state.phase in (
            Phase.CALLING,
            Phase.WAITING_CUSTOMER,
            Phase.WAITING_PARTNERS,
            Phase.CANCEL_PENDING,
            Phase.REVIEW,
        ) and self._situation() in (Situation.HOLDER, Situation.PARTNER)

    def _cmd_retained(self, event: _Event, command: Command) -> str | None:
        if not self._active():
            return self._not_now()
        reason = command.argument or ""
        self._step(
            "revertido",
            msg.retained_note(self.facts(), reason, self._agent(event)),
            self.state.evolve(phase=Phase.DONE, reason=reason, deadline=None),
            ref=event.ref,
            email=Email(msg.retained_email(self.facts())),
            status=TargetStatus.SOLVED,
            fields=(*self._reason_field(reason), (FieldKey.OUTCOME, OUTCOME_RETAINED)),
            add_tags=self._tags(self.config.tags.retained),
            remove_tags=self._tags(self.config.tags.review, self.config.tags.execute_contract),
        )
        return None

    def _cmd_cancel(self, event: _Event, command: Command) -> str | None:
        if self.state.phase not in (Phase.CALLING, Phase.WAITING_CUSTOMER, Phase.REVIEW):
            return self._not_now()
        if self._situation() not in (Situation.HOLDER, Situation.PARTNER):
            return self._not_now()
        reason = command.argument or ""
        state = self.state.evolve(reason=reason)
        if self._situation() is Situation.HOLDER:
            self._cancel_pending(
                state, "o cliente confirmou por telefone que quer cancelar", event.ref
            )
            return None
        if self._all_confirmed(state):
            self._cancel_pending(state, "todos os sócios-administradores confirmaram", event.ref)
            return None
        days = self.config.procedure.partners_deadline_business_days
        deadline = self.context.calendar.deadline_after(self.context.now, days)
        shown = format_date(self.context.calendar.last_day(deadline))
        state = state.evolve(
            phase=Phase.WAITING_PARTNERS, deadline=deadline, waiting_since=self.context.now
        )
        _, pending = self._partner_lists(state)
        facts = self.facts()
        self._step(
            "pedido-socios",
            msg.partners_requested_note(facts, reason, shown, pending, self._agent(event)),
            state,
            ref=event.ref,
            email=Email(
                msg.partners_confirmation_request_email(facts, shown, pending, self.ticket.id),
                cc=self._cc(p["email"] for p in pending),
            ),
            status=TargetStatus.WAITING_CUSTOMER,
            fields=(
                *self._reason_field(reason),
                (FieldKey.DEADLINE, self.context.calendar.last_day(deadline).isoformat()),
            ),
            remove_tags=self._tags(self.config.tags.review),
        )
        return None

    def _cancel_pending(self, state: ProcedureState, why: str, ref: str | None) -> None:
        """§3.6/§7 (manual mode): an agent cancels the contract, then types #contrato-cancelado."""
        self._step(
            "cancelar-contrato",
            msg.cancel_pending_note(self.facts(), why, state.reason or "", manual=True),
            state.evolve(phase=Phase.CANCEL_PENDING, cancel_why=why, deadline=None),
            ref=ref,
            status=TargetStatus.IN_PROGRESS,
            fields=((FieldKey.DEADLINE, None),),
            add_tags=self._tags(self.config.tags.execute_contract),
            remove_tags=self._tags(self.config.tags.review),
        )

    def _cmd_identity(self, event: _Event, command: Command) -> str | None:
        if not self._active():
            return self._not_now()
        self._step(
            "identidade",
            msg.identity_confirmed_note(self.facts(), self._agent(event)),
            self.state.evolve(identity_confirmed=True),
            ref=event.ref,
        )
        return None

    def _cmd_partner_confirmed(self, event: _Event, command: Command) -> str | None:
        if self._situation() is not Situation.PARTNER or not self._active():
            return self._not_now()
        if self.state.phase is Phase.CANCEL_PENDING:
            return self._not_now()
        partner = self._partner_by_email(command.argument or "")
        if partner is None:
            return f"{command.argument} não é sócio-administrador desta conta na ficha"
        self._record_confirmation(
            partner, f"registrada por {self._agent(event)} (#socio-confirmou)", event.ref
        )
        return None

    def _record_confirmation(self, partner: Member, how: str, ref: str) -> None:
        confirmed = self.state.confirmed
        if partner.person.key not in confirmed:
            confirmed = (*confirmed, partner.person.key)
        state = self.state.evolve(confirmed=confirmed)
        done, pending = self._partner_lists(state)
        self._step(
            "confirmacao-socio",
            msg.partner_confirmed_note(self.facts(), self._as_partner(partner), how, done, pending),
            state,
            ref=ref,
        )
        if self._all_confirmed(state) and self.state.phase is not Phase.REVIEW:
            self._cancel_pending(self.state, "todos os sócios-administradores confirmaram", None)

    def _cmd_contract_cancelled(self, event: _Event, command: Command) -> str | None:
        if self.state.phase is not Phase.CANCEL_PENDING:
            return self._not_now()
        facts = self.facts()
        if self._situation() is Situation.PARTNER:
            cc = self._cc(p.person.key for p in self._partners())
        else:
            cc = ()
        recipients = [self.ticket.requester.email, *cc]
        self._step(
            "cancelado",
            msg.cancelled_note(facts, self._agent(event), recipients),
            self.state.evolve(phase=Phase.DONE),
            ref=event.ref,
            email=Email(
                msg.cancellation_confirmation_email(facts, format_date(_sp_date(self.context.now))),
                cc=cc,
            ),
            status=TargetStatus.SOLVED,
            fields=((FieldKey.OUTCOME, OUTCOME_CANCELLED),),
            add_tags=self._tags(self.config.tags.cancelled),
            remove_tags=self._tags(self.config.tags.execute_contract, self.config.tags.review),
        )
        return None

    def _cmd_manual(self, event: _Event, command: Command) -> str | None:
        if self.state.phase in (Phase.MANUAL, Phase.DONE):
            return self._not_now()
        self._step(
            "manual",
            msg.manual_note(self.facts(), self._agent(event)),
            self.state.evolve(phase=Phase.MANUAL, resume_phase=self.state.phase),
            ref=event.ref,
            add_tags=self._tags(self.config.tags.manual),
        )
        return None

    def _cmd_resume(self, event: _Event, command: Command) -> str | None:
        state = self.state
        if state.phase is Phase.MANUAL:
            back = state.resume_phase or Phase.CALLING
        elif state.phase is Phase.REVIEW:
            back = Phase.NEW if state.review in _RESTART_REVIEWS else _review_return(state)
        else:
            return self._not_now()
        if back is Phase.NEW:
            return self._adopt(event)
        changes: dict[str, object] = {"phase": back, "resume_phase": None, "review": None}
        fields: tuple[tuple[FieldKey, str | None], ...] = ()
        if back in WAITING_PHASES:
            days = (
                self.config.procedure.partners_deadline_business_days
                if back is Phase.WAITING_PARTNERS
                else self.config.procedure.customer_deadline_business_days
            )
            deadline = self.context.calendar.deadline_after(self.context.now, days)
            changes.update(deadline=deadline, waiting_since=self.context.now)
            fields = ((FieldKey.DEADLINE, self.context.calendar.last_day(deadline).isoformat()),)
        new_state = state.evolve(**changes)
        self._step(
            "retomar",
            msg.resumed_note(self.facts(), self._agent(event), _PHASE_LABELS[back]),
            new_state,
            ref=event.ref,
            fields=fields,
            remove_tags=self._tags(self.config.tags.manual, self.config.tags.review),
        )
        return None

    def _adopt(self, event: _Event) -> str | None:
        """#retomar on a ticket the worker had not started: begin from the ficha as it is now."""
        identification = self.identification
        situation = self._situation_field() or identification.situation
        if situation is None:
            return "a ficha ainda não permite identificar o solicitante: " + "; ".join(
                identification.problems
            )
        self.skipped.append(event.ref)
        self._begin(situation, "retomado por #retomar", frozenset(), by_agent=True)
        return None

    # --- customers' messages (§3.5, §4.5, §5.2) --------------------------------------------

    def _on_message(self, event: _Event) -> None:
        phase = self.state.phase
        situation = self._situation()
        comment = event.comment
        if phase is Phase.MANUAL:
            self._skip(event)
            return
        if situation is Situation.THIRD_PARTY:
            if phase is Phase.DONE or self.state.review is ReviewReason.THIRD_PARTY_LOOP:
                self._answer_third_party(self.state, "", frozenset(), first=False, ref=event.ref)
            else:
                self._skip(event)
            return
        author = comment.author.name or comment.author.email
        text = excerpt(comment.body)
        if phase is Phase.DONE:
            self._step(
                "mensagem-apos-encerramento",
                msg.message_after_close_note(self.facts(), author, text),
                self.state,
                ref=event.ref,
                status=TargetStatus.IN_PROGRESS,
                add_tags=self._tags(self.config.tags.review),
            )
            return
        partner = self._partner_by_email(comment.author.email)
        is_requester = comment.author.key == self.ticket.requester.key
        if (
            situation is Situation.PARTNER
            and partner is not None
            and not is_requester
            and phase in (Phase.CALLING, Phase.WAITING_CUSTOMER, Phase.WAITING_PARTNERS)
        ):
            self._on_partner_message(event, partner)
            return
        auto = is_auto_reply(self.ticket.subject, comment.body, self.config.replies)
        if phase is Phase.WAITING_CUSTOMER and not auto:
            self._step(
                "cliente-respondeu",
                msg.customer_replied_note(self.facts(), author, text),
                self.state.evolve(phase=Phase.CALLING, deadline=None, waiting_since=None),
                ref=event.ref,
                status=TargetStatus.IN_PROGRESS,
                fields=((FieldKey.DEADLINE, None),),
            )
            return
        # Anything else the customer says is recorded for the agent; the procedure goes on.
        self._step(
            "mensagem",
            msg.customer_replied_note(self.facts(), author, text),
            self.state,
            ref=event.ref,
        )

    def _on_partner_message(self, event: _Event, partner: Member) -> None:
        verdict = classify_confirmation(event.comment.body, self.config.replies)
        if verdict == "affirm":
            self._record_confirmation(partner, "por e-mail neste ticket", event.ref)
            return
        refused = verdict == "refuse"
        state = (
            self.state.evolve(
                phase=Phase.REVIEW,
                review=ReviewReason.PARTNER_REFUSED,
                resume_phase=self.state.phase,
            )
            if refused
            else self.state
        )
        self._step(
            "socio-recusou" if refused else "socio-resposta-incerta",
            msg.partner_needs_agent_note(
                self.facts(), self._as_partner(partner), refused, excerpt(event.comment.body)
            ),
            state,
            ref=event.ref,
            status=TargetStatus.IN_PROGRESS if refused else None,
            add_tags=self._tags(self.config.tags.review),
        )

    # --- the clock (§3.7, §4.7, CONTRACT 16) -----------------------------------------------

    def _on_clock(self) -> None:
        state = self.state
        if state.phase not in WAITING_PHASES or state.deadline is None:
            return
        if self.context.now < state.deadline:
            return
        shown = format_date(self.context.calendar.last_day(state.deadline))
        newer = self._newer_tickets(state)
        if newer:
            self._step(
                "outros-tickets",
                msg.related_tickets_note(
                    self.facts(), [f"#{t.id} – {t.subject}" for t in newer], shown
                ),
                state.evolve(
                    phase=Phase.REVIEW,
                    review=ReviewReason.RELATED_TICKETS,
                    resume_phase=state.phase,
                ),
                status=TargetStatus.IN_PROGRESS,
                add_tags=self._tags(self.config.tags.review),
            )
            return
        if self._situation() is Situation.PARTNER:
            self._partners_deadline(state, shown)
        elif state.from_registered_email or state.identity_confirmed:
            self._cancel_pending(
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
            facts = self.facts()
            self._step(
                "nao-cancelado",
                msg.not_cancelled_note(facts, shown),
                state.evolve(phase=Phase.DONE, deadline=None),
                email=Email(msg.not_cancelled_unconfirmed_email(facts, shown)),
                status=TargetStatus.SOLVED,
                fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
                add_tags=self._tags(self.config.tags.not_cancelled),
            )

    def _partners_deadline(self, state: ProcedureState, shown: str) -> None:
        """§4.7: never cancel without every partner: last e-mail, record everything, resolve."""
        confirmed, pending = self._partner_lists(state)
        facts = self.facts()
        self._step(
            "prazo-socios",
            msg.partners_deadline_note(facts, shown, confirmed, pending),
            state.evolve(phase=Phase.DONE, deadline=None),
            email=Email(
                msg.partners_last_notice_email(facts, confirmed, pending),
                cc=self._cc(p.person.key for p in self._partners()),
            ),
            status=TargetStatus.SOLVED,
            fields=((FieldKey.OUTCOME, OUTCOME_NOT_CANCELLED),),
            add_tags=self._tags(self.config.tags.not_cancelled),
        )

    def _newer_tickets(self, state: ProcedureState) -> list[RelatedTicket]:
        since = state.waiting_since or self.ticket.created_at
        people = {self.ticket.requester.key}
        account = self.identification.account
        if account is not None:
            people.update(m.person.key for m in account.members)
            if account.registered_email:
                people.add(account.registered_email.strip().lower())
        related = self._related(RelatedQuery(tuple(sorted(people)), since))
        return [t for t in related if t.id != self.ticket.id and t.created_at >= since]

    def _related(self, query: RelatedQuery) -> tuple[RelatedTicket, ...]:
        if query not in self.context.related:
            raise NeedRelated(query)
        return self.context.related[query]


_RESTART_REVIEWS = frozenset({ReviewReason.MISSING_DATA, ReviewReason.IN_PROGRESS})

_PHASE_LABELS = {
    Phase.NEW: "ainda não iniciado",
    Phase.REVIEW: "aguardando um agente",
    Phase.CALLING: "Em atendimento, ligações ao cliente",
    Phase.WAITING_CUSTOMER: "aguardando retorno do cliente",
    Phase.WAITING_PARTNERS: "aguardando confirmação dos sócios",
    Phase.CANCEL_PENDING: "aguardando o cancelamento do contrato (#contrato-cancelado)",
    Phase.MANUAL: "conduzido manualmente por um agente",
    Phase.DONE: "encerrado",
}


def _review_return(state: ProcedureState) -> Phase:
    if state.review is ReviewReason.THIRD_PARTY_LOOP:
        return Phase.DONE
    return state.resume_phase or Phase.CALLING


def _sp_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
