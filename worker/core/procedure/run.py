"""What every part of the procedure is handed and what it hands back: the read-only view of the
case (`View`), where the decision stands (`At`), and the transitions a handler returns (`Move`,
`Skip`), which the engine folds into steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from worker.core import messages as msg
from worker.core.calendar import SAO_PAULO, BusinessCalendar, format_date, format_datetime
from worker.core.case import CancellationCase, MissingRead
from worker.core.commands import Command, InvalidCommand, parse_commands
from worker.core.effects import (
    ContractAnswer,
    ContractRequest,
    Email,
    FieldKey,
    Message,
)
from worker.core.model import (
    AuthorRole,
    Comment,
    Member,
    RelatedTicket,
    Situation,
    StatusCategory,
    Ticket,
)
from worker.core.procedure.table import PHASE_LABELS, SITUATION_LABELS
from worker.core.settings import ProcedureSettings
from worker.core.situation import Identification, identify
from worker.core.state import (
    UNDER_WAY,
    Phase,
    ProcedureState,
    StepKind,
)
from worker.core.text import normalize


@dataclass(frozen=True)
class Context:
    case: CancellationCase
    settings: ProcedureSettings
    calendar: BusinessCalendar
    now: datetime


CHANNEL_LABELS = {
    "email": "e-mail",
    "web": "formulário web",
    "api": "API",
    "chat": "chat",
    "phone": "telefone",
    "other": "outro",
}
OTHER_REASON = "outro"  # the reason option a free-text reason falls back to
OUTCOME_RETAINED = "revertido"
OUTCOME_CANCELLED = "cancelado"
OUTCOME_NOT_CANCELLED = "nao_cancelado"
OUTCOME_THIRD_PARTY = "terceiro"

FINAL_STATUSES = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})


@dataclass(frozen=True)
class Deadline:
    ends: datetime  # the procedure acts at or after this instant
    shown: str  # "29/12/2026 (terça-feira)", for texts
    field: str  # "2026-12-29", for the deadline field (views and the sweep)


# Why the contract is cancelled when the last partner's confirmation arrives.
ALL_PARTNERS_CONFIRMED = "todos os sócios-administradores confirmaram"


@dataclass(frozen=True)
class Event:
    """An unhandled comment line: a command (or a malformed one), or a customer's message."""

    ref: str
    comment: Comment
    command: Command | InvalidCommand | None = None


def ticket_events(ticket: Ticket, consumed: frozenset[str]) -> list[Event]:
    """Agents' command lines and customers' messages not handled yet, in the order they came.

    The ticket's first comment is the request itself. Commands count only in agents' private
    notes the helpdesk does not doubt (never the worker's own notes, never a customer's text:
    CONTRACT 13); one typed in a public comment, or in a doubted note, is not applied, and the
    agent is told why (the customer already received a public one by e-mail)."""
    events: list[Event] = []
    for position, comment in enumerate(ticket.comments):
        if position == 0:
            continue
        if comment.role is AuthorRole.AGENT:
            refused = command_refusal(comment)
            for line in parse_commands(comment.body):
                ref = f"c{comment.id}.{line.line_index}"
                if ref not in consumed:
                    command = (
                        InvalidCommand(line.line_index, line.text, refused) if refused else line
                    )
                    events.append(Event(ref, comment, command))
        elif comment.role is AuthorRole.END_USER:
            ref = f"c{comment.id}"
            if ref not in consumed:
                events.append(Event(ref, comment))
    return events


PUBLIC_COMMAND = (
    "comando digitado em um comentário público, que o cliente recebe por e-mail: não foi "
    "aplicado. Digite-o de novo em uma nota interna"
)


def command_refusal(comment: Comment) -> str:
    """Why an agent's comment cannot carry commands ("" when it can)."""
    if comment.public:
        return PUBLIC_COMMAND
    if comment.doubt:
        return f"a nota não foi aceita como comando ({comment.doubt}). Digite-o de novo"
    return ""


@dataclass(frozen=True)
class Move:
    """One transition a handler returns: the step it takes and the state after it. The engine's
    fold (`engine.fold`) checks it against the table, amends it by the table's rules, numbers it
    and records it; no handler writes anything itself."""

    kind: StepKind
    note: Message
    state: ProcedureState
    ref: str | None = None
    email: Email | None = None
    fields: tuple[tuple[FieldKey, str | None], ...] = ()
    add_tags: frozenset[str] = frozenset()
    remove_tags: frozenset[str] = frozenset()
    follow_ups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """An event handled by doing nothing: recorded with the next step, so it is never re-read."""

    ref: str


Transitions = tuple[Move | Skip, ...]


@dataclass(frozen=True)
class View:
    """What a decision reads and never changes: the case, the settings, the calendar, `now`, who
    the requester is; the texts' facts, the partners, the deadline arithmetic."""

    context: Context
    identification: Identification

    @staticmethod
    def of(context: Context) -> View:
        ticket = context.case.ticket
        return View(context, identify(ticket.requester, context.case.ficha))

    @property
    def settings(self) -> ProcedureSettings:
        return self.context.settings

    @property
    def case(self) -> CancellationCase:
        return self.context.case

    @property
    def ticket(self) -> Ticket:
        return self.context.case.ticket

    def facts(self, state: ProcedureState) -> msg.TicketFacts:
        account = self.identification.account
        document = account.parsed_document if account else None
        situation = Situation(state.situation) if state.situation else None
        return msg.TicketFacts(
            protocol=self.ticket.id,
            subject=self.ticket.subject,
            requester_name=self.ticket.requester.name or self.ticket.requester.email,
            requester_email=self.ticket.requester.email,
            account_name=account.name if account else "",
            document_label=document.label if document else "",
            situation_label=SITUATION_LABELS[situation] if situation else "",
            received_at=format_datetime(self.ticket.created_at),
            signature=self.settings.emails.signature,
            phone=self.settings.emails.phone,
            chat=self.settings.emails.chat,
        )

    def tag_set(self, *names: str) -> frozenset[str]:
        return frozenset(names)

    def partners(self) -> tuple[Member, ...]:
        return self.identification.partners

    @staticmethod
    def as_partner(member: Member) -> msg.Partner:
        return {"nome": member.person.name or member.person.email, "email": member.person.key}

    def partner_lists(self, state: ProcedureState) -> tuple[list[msg.Partner], list[msg.Partner]]:
        confirmed = [p for p in self.partners() if p.person.key in state.confirmed]
        pending = [p for p in self.partners() if p.person.key not in state.confirmed]
        return [self.as_partner(p) for p in confirmed], [self.as_partner(p) for p in pending]

    def partner_by_email(self, email: str) -> Member | None:
        key = email.strip().lower()
        return next((p for p in self.partners() if p.person.key == key), None)

    def all_confirmed(self, state: ProcedureState) -> bool:
        partners = self.partners()
        return bool(partners) and all(p.person.key in state.confirmed for p in partners)

    def cc(self, emails: Iterable[str]) -> tuple[str, ...]:
        """Copies for a public reply: never the requester, each once, at most 48 (Zendesk's cap)."""
        requester = self.ticket.requester.key
        seen: list[str] = []
        for email in emails:
            if email != requester and email not in seen:
                seen.append(email)
        return tuple(seen[:48])

    def new_deadline(self, business_days: int) -> Deadline:
        """A wait that starts now: when it ends, how people see it, and the deadline field."""
        calendar = self.context.calendar
        ends = calendar.deadline_after(self.context.now, business_days)
        last_day = calendar.last_day(ends)
        return Deadline(ends, format_date(last_day), last_day.isoformat())

    def shown(self, deadline: datetime) -> str:
        """The last business day of a wait, as people read it."""
        return format_date(self.context.calendar.last_day(deadline))

    def reason_field(self, reason: str) -> tuple[tuple[FieldKey, str | None], ...]:
        """The reason option the agent's text names, else `outro` (when configured), so reports
        never lose a case; the text itself is kept in the note either way."""
        wanted = normalize(reason)
        for option in self.settings.reasons:
            label = normalize(option.label)
            if wanted in (label, option.value) or wanted.startswith((label + " ", label + ":")):
                return ((FieldKey.REASON, option.value),)
        fallback = [o.value for o in self.settings.reasons if o.value == OTHER_REASON]
        return ((FieldKey.REASON, fallback[0]),) if fallback else ()

    def agent(self, event: Event) -> str:
        return event.comment.author.name or "agente"

    def account_people(self) -> tuple[str, ...]:
        return account_people(self.ticket, self.identification)

    def open_cancellations(self) -> tuple[RelatedTicket, ...]:
        """The account's unresolved cancellation tickets (a new request joins the first)."""
        return _read(self.case.open_cancellations, "open_cancellations")

    def account_tickets(self) -> tuple[RelatedTicket, ...]:
        """Tickets the account's people opened since this one (CONTRACT 16)."""
        return _read(self.case.account_tickets, "account_tickets")

    def requester_tickets(self) -> tuple[RelatedTicket, ...]:
        """The requester's tickets in the third-party window (CONTRACT 4)."""
        return _read(self.case.requester_tickets, "requester_tickets")

    def contract_answer(self) -> ContractAnswer:
        """What the company's system answered to the call the last note recorded."""
        return _read(self.case.contract, "contract")

    def situation_field(self) -> Situation | None:
        return situation_field(self.ticket)

    def finished_tags(self) -> frozenset[str]:
        tags = self.settings.tags
        return frozenset(
            {tags.linked, tags.retained, tags.cancelled, tags.not_cancelled, tags.third_party}
        )


@dataclass(frozen=True)
class At:
    """Where the decision stands when a handler is asked: the read-only view, the state as the
    steps so far left it, how many steps the ticket has and which events they consumed. A
    handler that takes two steps asks the second one `then` its first."""

    view: View
    state: ProcedureState
    steps: int
    consumed: frozenset[str]

    @property
    def settings(self) -> ProcedureSettings:
        return self.view.settings

    @property
    def ticket(self) -> Ticket:
        return self.view.ticket

    def then(self, transitions: Transitions) -> At:
        """Where the decision stands once `transitions` are taken: the fold's own bookkeeping
        (skipped events count as consumed with the step that records them), so a handler's
        second step is decided exactly where the fold will take it."""
        state, steps, consumed = self.state, self.steps, self.consumed
        pending: list[str] = []
        for item in transitions:
            if isinstance(item, Skip):
                pending.append(item.ref)
                continue
            state, steps = item.state, steps + 1
            consumed = consumed | frozenset([*pending, *([item.ref] if item.ref else [])])
            pending = []
        return At(self.view, state, steps, consumed)

    def facts(self) -> msg.TicketFacts:
        return self.view.facts(self.state)

    def situation(self) -> Situation | None:
        value = self.state.situation
        return Situation(value) if value else None

    def not_now(self) -> str:
        return f"não se aplica na fase atual do ticket ({PHASE_LABELS[self.state.phase]})"

    def active(self) -> bool:
        return self.state.phase in UNDER_WAY and self.situation() in (
            Situation.HOLDER,
            Situation.PARTNER,
        )

    def contract_key(self) -> str:
        """The idempotency key of a call decided by the next step: helpdesk, ticket and step
        number, the same however often the decision is taken again."""
        return f"{self.settings.helpdesk}-{self.ticket.id}-{self.steps + 1}"


_T = TypeVar("_T")


def _read(value: _T | None, what: str) -> _T:
    if value is None:
        raise MissingRead(f"the decision needs {what}, which reads() did not ask for")
    return value


def situation_field(ticket: Ticket) -> Situation | None:
    """The situation an agent set by hand in the ticket's field (§2), if any."""
    raw = ticket.fields.get(FieldKey.SITUATION.value)
    try:
        return Situation(raw) if raw else None
    except ValueError:
        return None


def account_people(ticket: Ticket, identification: Identification) -> tuple[str, ...]:
    """Who speaks for the account: the requester, its members, its registered e-mail."""
    people = {ticket.requester.key}
    account = identification.account
    if account is not None:
        people.update(m.person.key for m in account.members)
        if account.registered_email:
            people.add(account.registered_email.strip().lower())
    return tuple(sorted(people))


def contract_request_pending(state: ProcedureState) -> bool:
    return (
        state.phase is Phase.CANCEL_PENDING
        and not state.contract_cancelled
        and state.contract_key is not None
    )


def contract_request(
    ticket: Ticket, identification: Identification, state: ProcedureState
) -> ContractRequest | None:
    """The call a `cancelar-contrato` note recorded (HTTP mode) and no note answered yet."""
    if not contract_request_pending(state) or state.contract_key is None:
        return None
    account = identification.account
    document = account.parsed_document if account else None
    return ContractRequest(
        key=state.contract_key,
        ticket_id=ticket.id,
        document=document.number if document else "",
        account_name=account.name if account else "",
        reason=state.reason or "",
        why=state.cancel_why or "",
    )


def sp_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def numeric(ticket_id: str) -> tuple[int, str]:
    """Ticket ids sort as numbers where they are numbers (Zendesk, Freshdesk)."""
    return (int(ticket_id), "") if ticket_id.isdigit() else (0, ticket_id)


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
