"""What the engine decides, as data. Adapters turn these into helpdesk writes.

A `Step` is one action of the procedure: exactly one ficha note, and at most one e-mail, plus the
ticket changes that go with them. Its `key` is deterministic (derived from the ticket), so a step
decided again after a crash or a conflict is recognisably the same step, and an adapter that
writes in several calls can tell what already went out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from worker.core.state import Phase


class TargetStatus(enum.Enum):
    """Logical statuses; the configuration names them in the helpdesk."""

    IN_PROGRESS = "in_progress"  # "Em atendimento"
    WAITING_CUSTOMER = "waiting_customer"  # "Aguardando retorno do cliente"
    SOLVED = "solved"


class FieldKey(enum.Enum):
    """Logical ticket fields; the configuration names them in the helpdesk."""

    SITUATION = "situation"
    ATTEMPTS = "attempts"
    REASON = "reason"
    OUTCOME = "outcome"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Message:
    """A template to render and the values it needs. Rendering happens in the shell."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Email:
    """A public reply on the ticket: the helpdesk e-mails it to the requester and the CCs."""

    message: Message
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepRecord:
    """Why the engine took a step, as it decided it: the row of the transition table the step
    carries out (its position in `table.TABLE`, its trigger, guard and § as the support lead's
    page prints them), the phases it went between, and the events it consumed (`c<id>.<line>`
    an agent's command line, `c<id>` a message, `t<id>` another ticket). `explain` prints this
    record rather than working the reasons out again, so it cannot say one thing while the
    engine did another, and the log line of a handled ticket names the same rows."""

    row: int
    trigger: str
    guard: str
    section: str
    before: Phase
    after: Phase
    consumed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    key: str
    note: Message
    marker: str  # the machine-readable line appended to the note: the procedure's state
    email: Email | None = None
    status: TargetStatus | None = None
    fields: tuple[tuple[FieldKey, str | None], ...] = ()
    add_tags: frozenset[str] = frozenset()
    remove_tags: frozenset[str] = frozenset()
    # Tickets to handle right after this step: every open cancellation of the account (linking
    # a new ticket: each must see it), or this one when the step recorded a call to the
    # contract system still to be made.
    follow_ups: tuple[str, ...] = ()
    why: StepRecord | None = None  # None only for a step built outside the engine (tests)


@dataclass(frozen=True)
class RelatedQuery:
    """Tickets created by any of `emails` since `since` (CONTRACT 4 and 16), read for a case
    (`core/case.py`). With `open_cancellations` only the unresolved cancellation tickets among
    them matter (the others may be left out), so a helpdesk that already keeps those can answer
    without a search."""

    emails: tuple[str, ...]
    since: datetime
    open_cancellations: bool = False


@dataclass(frozen=True)
class ContractRequest:
    """Cancel an account's contract in the company's system (`contract_cancellation.mode: http`).

    `key` comes from the ticket and the step that recorded the decision, so a retry, a restart or
    a second worker sends the same one, and the system, told to dedupe on it, cancels once."""

    key: str
    ticket_id: str
    document: str  # CPF or CNPJ, without punctuation
    account_name: str
    reason: str
    why: str


@dataclass(frozen=True)
class ContractAnswer:
    """What the company's system answered, after the adapter's retries; it comes back to the
    engine, which records it in a note (the state lives in the ticket, not in the adapter)."""

    cancelled: bool
    refused: bool = False  # it answered no (4xx): retrying cannot help
    status: int | None = None  # the last HTTP status; None when nothing came back
    detail: str = ""  # the last answer or failure in one line, masked, for the agent's note
    attempts: int = 1


@dataclass(frozen=True)
class Decision:
    """The engine's answer on one case: every step to take now, in order."""

    steps: tuple[Step, ...] = ()
