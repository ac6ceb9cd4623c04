"""One row per ticket, read from the worker's own markers: what happened to each request.

The markers are the procedure's record (`core/state.py`), written only by the worker's user, so
the report counts what the worker did rather than what a field or a tag says now (an agent may
edit those by hand). Pure: the CLI and the demo hand it tickets they read.
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from worker.core.calendar import SAO_PAULO
from worker.core.model import AuthorRole, Comment, Ticket
from worker.core.state import Marker, Phase, parse_marker


class Outcome(enum.Enum):
    """Values are what the CSV holds; `label` is what a person reads."""

    CANCELLED = "cancelado"
    RETAINED = "revertido"
    NOT_CANCELLED = "nao_cancelado"
    THIRD_PARTY = "terceiro"
    REVIEW = "revisao"
    OPEN = "aberto"
    LINKED = "vinculado"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.CANCELLED: "cancelado",
    Outcome.RETAINED: "revertido",
    Outcome.NOT_CANCELLED: "não cancelado (sem resposta ou confirmações)",
    Outcome.THIRD_PARTY: "terceiro orientado",
    Outcome.REVIEW: "em revisão",
    Outcome.OPEN: "em andamento",
    Outcome.LINKED: "vinculado a outro ticket",
}

# The step that closed a ticket says how it ended (the `passo` kinds of core/procedure).
_CLOSING = {
    "cancelado": Outcome.CANCELLED,
    "revertido": Outcome.RETAINED,
    "nao-cancelado": Outcome.NOT_CANCELLED,
    "prazo-socios": Outcome.NOT_CANCELLED,
    "terceiro": Outcome.THIRD_PARTY,
    "terceiro-reforco": Outcome.THIRD_PARTY,
    "vinculado": Outcome.LINKED,
}
# Closed by an agent's command: the command's author closed it.
_BY_AGENT = frozenset({Outcome.CANCELLED, Outcome.RETAINED})
AUTOMATIC = "automático"
NO_SITUATION = "sem situação"


@dataclass(frozen=True)
class Row:
    """A ticket's line in outcomes.csv. No customer's name, e-mail or document: the protocol
    (the ticket number) is what links it back to the helpdesk, where access is controlled."""

    protocol: str
    created: date  # in São Paulo
    situation: str
    outcome: Outcome
    reason: str  # the dissatisfaction reason an agent typed, masked by the caller
    calls_before_contact: int
    emails_sent: int
    days_to_close: float | None
    closed_by: str  # the agent whose command closed it, or AUTOMATIC
    went_to_review: bool
    deadline: datetime | None  # for open tickets: when the worker acts next


def _markers(ticket: Ticket) -> list[tuple[Comment, Marker]]:
    found = []
    for comment in ticket.comments:
        if comment.role is not AuthorRole.WORKER or comment.public:
            continue
        if (marker := parse_marker(comment.body)) is not None:
            found.append((comment, marker))
    return found


def _kind(marker: Marker) -> str:
    return marker.step.kind.value


def _closing(found: list[tuple[Comment, Marker]]) -> tuple[Comment, Marker] | None:
    for comment, marker in found:
        if marker.state.phase is Phase.DONE and _kind(marker) in _CLOSING:
            return comment, marker
    return None


def _closer(ticket: Ticket, marker: Marker) -> str:
    """The author of the comment the closing step consumed (`c<id>.<line>`)."""
    ids = {ref[1:].partition(".")[0] for ref in marker.refs if ref.startswith("c")}
    names = [c.author.name for c in ticket.comments if c.id in ids and c.role is AuthorRole.AGENT]
    return names[0] if names else "agente"


def row_of(ticket: Ticket, masked: Callable[[str], str]) -> Row | None:
    """The ticket's row, or None when the worker never acted on it (not a cancellation)."""
    found = _markers(ticket)
    if not found:
        return None
    state = found[-1][1].state
    closing = _closing(found)
    if state.phase is Phase.DONE and closing is not None:
        outcome = _CLOSING[_kind(closing[1])]
    elif state.phase is Phase.REVIEW:
        outcome = Outcome.REVIEW
    else:
        outcome = Outcome.OPEN
    finished = outcome not in (Outcome.REVIEW, Outcome.OPEN)
    contact = next((m for _, m in found if m.state.contact_email_sent), found[-1][1])
    days = None
    closed_by = ""
    if finished and closing is not None:
        days = round((closing[0].created_at - ticket.created_at) / timedelta(days=1), 1)
        closed_by = _closer(ticket, closing[1]) if outcome in _BY_AGENT else AUTOMATIC
    return Row(
        protocol=ticket.id,
        created=ticket.created_at.astimezone(SAO_PAULO).date(),
        situation=state.situation or NO_SITUATION,
        outcome=outcome,
        reason=masked(state.reason or ""),
        calls_before_contact=contact.state.attempts,
        emails_sent=sum(1 for c in ticket.comments if c.role is AuthorRole.WORKER and c.public),
        days_to_close=days,
        closed_by=closed_by,
        went_to_review=any(m.state.phase is Phase.REVIEW for _, m in found),
        deadline=state.deadline if not finished else None,
    )


def rows_of(tickets: Iterable[Ticket], masked: Callable[[str], str]) -> list[Row]:
    rows = [row for ticket in tickets if (row := row_of(ticket, masked)) is not None]
    return sorted(
        rows,
        key=lambda row: (
            row.created,
            int(row.protocol) if row.protocol.isdigit() else 0,
            row.protocol,
        ),
    )


# --- what the page shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class SaveRate:
    """retained / (retained + cancelled): the share of decided cancellations an agent saved."""

    group: str
    retained: int
    cancelled: int

    @property
    def rate(self) -> float | None:
        decided = self.retained + self.cancelled
        return self.retained / decided if decided else None


@dataclass(frozen=True)
class CloseTime:
    situation: str
    tickets: int
    median: float
    p90: float


@dataclass(frozen=True)
class Figures:
    outcomes: dict[Outcome, int]
    save_rate: SaveRate
    by_situation: list[SaveRate]
    by_reason: list[SaveRate]
    by_agent: list[SaveRate]
    reasons: list[tuple[str, int]]
    close_times: list[CloseTime]
    calls: list[tuple[int, int]]  # calls before contact -> tickets
    weeks: list[tuple[date, dict[Outcome, int]]]  # Monday of the week created -> outcomes
    open_tickets: list[Row]  # by deadline, the ones with none last


def _rates(rows: list[Row], key: Callable[[Row], str]) -> list[SaveRate]:
    counts: dict[str, Counter[Outcome]] = defaultdict(Counter)
    for row in rows:
        if row.outcome in _BY_AGENT:
            counts[key(row)][row.outcome] += 1
    return [
        SaveRate(group, c[Outcome.RETAINED], c[Outcome.CANCELLED])
        for group, c in sorted(counts.items())
    ]


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def figures(rows: list[Row]) -> Figures:
    outcomes = Counter(row.outcome for row in rows)
    overall = SaveRate("total", outcomes[Outcome.RETAINED], outcomes[Outcome.CANCELLED])
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.days_to_close is not None:
            times[row.situation].append(row.days_to_close)
    close_times = [
        CloseTime(situation, len(days), statistics.median(days), _p90(sorted(days)))
        for situation, days in sorted(times.items())
    ]
    contacted = Counter(
        row.calls_before_contact
        for row in rows
        if row.outcome not in (Outcome.LINKED, Outcome.THIRD_PARTY)
    )
    weeks: dict[date, Counter[Outcome]] = defaultdict(Counter)
    for row in rows:
        weeks[row.created - timedelta(days=row.created.weekday())][row.outcome] += 1
    still_open = [row for row in rows if row.outcome in (Outcome.OPEN, Outcome.REVIEW)]
    far = datetime.max.replace(tzinfo=SAO_PAULO)
    return Figures(
        outcomes={outcome: outcomes[outcome] for outcome in Outcome},
        save_rate=overall,
        by_situation=_rates(rows, lambda row: row.situation),
        by_reason=_rates(rows, lambda row: row.reason or "sem motivo informado"),
        by_agent=_rates(rows, lambda row: row.closed_by),
        reasons=Counter(row.reason for row in rows if row.reason).most_common(),
        close_times=close_times,
        calls=sorted(contacted.items()),
        weeks=[(monday, dict(weeks[monday])) for monday in sorted(weeks)],
        open_tickets=sorted(still_open, key=lambda row: (row.deadline or far, row.protocol)),
    )
