"""What the procedure reads of the configuration, as plain frozen values.

The configuration file is validated by pydantic and read from YAML by the shell
(`worker/config.py`); the core takes only these values, built from it by
`worker.config.procedure_settings`, so deciding never depends on how settings are loaded and a
purity test can forbid the core any import of the configuration's loading. The defaults live
in the configuration only; field names follow its names, so a setting reads the same in
`config/worker.yaml` and in the procedure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TagNames:
    """The helpdesk tags the procedure reads and writes (views and reports are built on them)."""

    cancellation: str
    review: str
    execute_contract: str
    retained: str
    cancelled: str
    not_cancelled: str
    third_party: str
    manual: str
    linked: str
    possible: str


@dataclass(frozen=True)
class ProcedureNumbers:
    """The counts and waits of PROCEDURE.md §3-§5 that a company may tune."""

    max_call_attempts: int
    customer_deadline_business_days: int
    partners_deadline_business_days: int
    third_party_max_replies: int
    third_party_window_days: int


@dataclass(frozen=True)
class EmailSettings:
    """How the e-mails sign off and where customers reach us."""

    signature: str
    phone: str
    chat: str


@dataclass(frozen=True)
class Reason:
    """One option of the reason field: what reports count (`value`) and what agents type."""

    value: str
    label: str


@dataclass(frozen=True)
class DetectionSettings:
    """How a first message is read as a request (`core/detection.py`); regular expressions
    matched against text without accents."""

    keywords_enabled: bool
    channels: tuple[str, ...]
    verbs: tuple[str, ...]
    weak_verbs: tuple[str, ...]
    objects: tuple[str, ...]
    other_objects: tuple[str, ...]
    maybe_cues: tuple[str, ...]
    maybe_phrases: tuple[str, ...]
    ignore_sentences: tuple[str, ...]


@dataclass(frozen=True)
class ReplySettings:
    """How a partner's answer is read (`core/replies.py`): phrases compared whole-word without
    accents, and the patterns of an auto-reply."""

    affirm: tuple[str, ...]
    refuse: tuple[str, ...]
    refuse_alone: tuple[str, ...]
    hedges: tuple[str, ...]
    courtesies: tuple[str, ...]
    auto_reply_patterns: tuple[str, ...]


@dataclass(frozen=True)
class ProcedureSettings:
    """Everything the procedure reads of the configuration, and nothing else."""

    helpdesk: str  # part of a contract call's idempotency key
    detection: DetectionSettings
    replies: ReplySettings
    tags: TagNames
    procedure: ProcedureNumbers
    emails: EmailSettings
    reasons: tuple[Reason, ...]
    contract_mode: Literal["manual", "http"]
    deadline_field: str  # the deadline field's name, quoted in a note
