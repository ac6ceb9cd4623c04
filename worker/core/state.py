"""Where a ticket stands, read back from the worker's own notes.

The worker keeps no state of its own that matters: every note it writes ends with one marker
line holding the procedure's state after that step and the events (comments, command lines) the
step consumed. The last marker is the current state; the union of their refs is what was already
handled. Only notes written by the worker's own user count, so nobody can forge a marker.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from worker.core.model import AuthorRole, Ticket

MARKER_PREFIX = "[cancelamento-worker] "


class Phase(enum.Enum):
    NEW = "novo"  # the worker has not acted yet
    POSSIBLE = "possivel"  # maybe a request: noted for an agent, who may #iniciar-cancelamento
    REVIEW = "revisar"  # an agent must look before the worker goes on
    CALLING = "ligando"  # "Em atendimento": agents phone the customer
    WAITING_CUSTOMER = "aguardando_cliente"  # contact e-mail sent, a deadline runs
    WAITING_PARTNERS = "aguardando_socios"  # Situação 2: confirmations asked, a deadline runs
    CANCEL_PENDING = "cancelar_contrato"  # the contract must be cancelled (agent or system)
    MANUAL = "manual"  # an agent took the ticket over (#manual) until #retomar
    DONE = "encerrado"  # the worker resolved the ticket


# The phase sets the procedure's rules speak of, each named once.
NOT_STARTED = frozenset({Phase.NEW, Phase.POSSIBLE})
WAITING_PHASES = frozenset({Phase.WAITING_CUSTOMER, Phase.WAITING_PARTNERS})
# Calling the customer or waiting for an answer: calls, answers and partners' confirmations count.
CONTACTING = frozenset({Phase.CALLING}) | WAITING_PHASES
# A Situação 1 or 2 cancellation not finished yet: a refusal still stops it, the account's other
# tickets still matter, an agent's #revertido or #manual still applies.
UNDER_WAY = CONTACTING | {Phase.CANCEL_PENDING, Phase.REVIEW}


class StepKind(enum.StrEnum):
    """What a step did. The values are written on real tickets (in every marker and step key,
    and Zendesk's sent tag), so they never change: a ticket written by any earlier worker must
    read back the same."""

    AGENTS_HANDLING = "em-andamento"
    REVIEW_DATA = "revisar"
    POSSIBLE = "possivel"
    START = "inicio"
    LINKED = "vinculado"
    UNTRUSTED_REQUEST = "pedido-nao-confiavel"
    THIRD_PARTY = "terceiro"
    THIRD_PARTY_AGAIN = "terceiro-reforco"
    THIRD_PARTY_LOOP = "terceiro-loop"
    ATTEMPT = "tentativa"
    CONTACT_EMAIL = "email-contato"
    RETAINED = "revertido"
    PARTNERS_ASKED = "pedido-socios"
    IDENTITY = "identidade"
    PARTNER_CONFIRMED = "confirmacao-socio"
    PARTNER_UNCLEAR = "socio-resposta-incerta"
    CANCEL_CONTRACT = "cancelar-contrato"
    CONTRACT_SYSTEM_CANCELLED = "contrato-cancelado-sistema"
    CONTRACT_SYSTEM_FAILED = "contrato-falhou"
    CANCELLED = "cancelado"
    NOT_CANCELLED = "nao-cancelado"
    PARTNERS_DEADLINE = "prazo-socios"
    CUSTOMER_REPLIED = "cliente-respondeu"
    MESSAGE = "mensagem"
    UNTRUSTED_MESSAGE = "mensagem-nao-confiavel"
    REFUSAL = "recusa"
    OTHER_TICKETS = "outros-tickets"
    OTHER_TICKET_MESSAGE = "mensagem-outro-ticket"
    MESSAGE_AFTER_CLOSE = "mensagem-apos-encerramento"
    MANUAL = "manual"
    RESUME = "retomar"
    INVALID_COMMAND = "comando-invalido"
    DEADLINE_OUT_OF_RANGE = "prazo-invalido"


@dataclass(frozen=True)
class StepKey:
    """A step's identity on its ticket, `<number>:<kind>`: deterministic, so a step decided again
    after a crash is recognisably the same one (CONTRACT 5)."""

    number: int
    kind: StepKind

    def __str__(self) -> str:
        return f"{self.number}:{self.kind.value}"

    @classmethod
    def parse(cls, text: str) -> StepKey:
        """Raises ValueError for anything no worker wrote."""
        number, _, kind = text.partition(":")
        return cls(int(number), StepKind(kind))


class ReviewReason(enum.Enum):
    MISSING_DATA = "dados"  # ficha missing or ambiguous: classification could not be made
    IN_PROGRESS = "em_andamento"  # agents were handling it before the worker (CONTRACT 17)
    PARTNER_REFUSED = "recusa"
    RELATED_TICKETS = "outros_tickets"  # CONTRACT 16
    THIRD_PARTY_LOOP = "loop"


@dataclass(frozen=True)
class ProcedureState:
    phase: Phase = Phase.NEW
    situation: str | None = None  # Situation value as the worker last applied it
    attempts: int = 0
    contact_email_sent: bool = False
    deadline: datetime | None = None
    waiting_since: datetime | None = None
    from_registered_email: bool = False
    identity_confirmed: bool = False
    confirmed: tuple[str, ...] = ()  # partners' e-mails, lower-case, in order of confirmation
    reason: str | None = None  # the dissatisfaction reason typed by the agent
    cancel_why: str | None = None
    review: ReviewReason | None = None
    resume_phase: Phase | None = None  # the phase #retomar returns to
    third_party_replies: int = 0  # e-mails sent to a third party on this ticket
    # contract_cancellation.mode http: the idempotency key of a call recorded and not yet
    # answered; then whether the system answered that the contract is cancelled.
    contract_key: str | None = None
    contract_cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["phase"] = self.phase.value
        data["review"] = self.review.value if self.review else None
        data["resume_phase"] = self.resume_phase.value if self.resume_phase else None
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        data["waiting_since"] = self.waiting_since.isoformat() if self.waiting_since else None
        data["confirmed"] = list(self.confirmed)
        return {key: value for key, value in data.items() if value not in (None, False, 0, [])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcedureState:
        def moment(key: str) -> datetime | None:
            raw = data.get(key)
            return datetime.fromisoformat(raw) if raw else None

        resume = data.get("resume_phase")
        review = data.get("review")
        return cls(
            phase=Phase(data.get("phase", Phase.NEW.value)),
            situation=data.get("situation"),
            attempts=int(data.get("attempts", 0)),
            contact_email_sent=bool(data.get("contact_email_sent", False)),
            deadline=moment("deadline"),
            waiting_since=moment("waiting_since"),
            from_registered_email=bool(data.get("from_registered_email", False)),
            identity_confirmed=bool(data.get("identity_confirmed", False)),
            confirmed=tuple(data.get("confirmed", ())),
            reason=data.get("reason"),
            cancel_why=data.get("cancel_why"),
            review=ReviewReason(review) if review else None,
            resume_phase=Phase(resume) if resume else None,
            third_party_replies=int(data.get("third_party_replies", 0)),
            contract_key=data.get("contract_key"),
            contract_cancelled=bool(data.get("contract_cancelled", False)),
        )

    def evolve(self, **changes: Any) -> ProcedureState:
        return replace(self, **changes)


@dataclass(frozen=True)
class Marker:
    step: StepKey
    refs: tuple[str, ...]
    state: ProcedureState

    def render(self) -> str:
        payload = {"passo": str(self.step), "refs": list(self.refs), "estado": self.state.to_json()}
        return MARKER_PREFIX + json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class History:
    """What the ticket's worker notes say: the current state, what was handled, how many steps."""

    state: ProcedureState = field(default_factory=ProcedureState)
    consumed: frozenset[str] = frozenset()
    steps: int = 0


def parse_marker(body: str) -> Marker | None:
    for line in reversed(body.splitlines()):
        if line.startswith(MARKER_PREFIX):
            try:
                payload = json.loads(line[len(MARKER_PREFIX) :])
                return Marker(
                    step=StepKey.parse(str(payload["passo"])),
                    refs=tuple(str(ref) for ref in payload.get("refs", ())),
                    state=ProcedureState.from_json(payload["estado"]),
                )
            except (ValueError, KeyError, TypeError):
                return None
    return None


def read_history(ticket: Ticket) -> History:
    state = ProcedureState()
    consumed: set[str] = set()
    steps = 0
    for comment in ticket.comments:
        if comment.role is not AuthorRole.WORKER or comment.public:
            continue
        marker = parse_marker(comment.body)
        if marker is None:
            continue
        state = marker.state
        consumed.update(marker.refs)
        steps += 1
    return History(state, frozenset(consumed), steps)
