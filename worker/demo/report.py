"""What `python -m worker demo` prints: each ticket's timeline as the customer and the agents
see it in the helpdesk, a summary table, and what the week cost the account's API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from worker.config import Tags
from worker.core.calendar import format_datetime
from worker.core.model import AuthorRole, StatusCategory, Ticket
from worker.core.state import MARKER_PREFIX, Phase, read_history
from worker.demo.world import DemoResult

WIDTH = 100

# The API collections `setup` writes to, as the summary names them.
COLLECTIONS = {
    "custom_statuses": "status",
    "ticket_fields": "campos de ticket",
    "user_fields": "campos de usuário",
    "organization_fields": "campos de organização",
    "macros": "macros",
    "views": "visões",
    "triggers": "gatilhos",
}

# The result field's values, as the summary names them.
OUTCOMES = {
    "cancelado": "cancelado",
    "revertido": "revertido",
    "nao_cancelado": "não cancelado",
    "terceiro": "terceiro orientado",
}


@dataclass(frozen=True)
class Row:
    ticket_id: str
    title: str
    situation: str
    outcome: str
    emails: int
    notes: int
    status: str
    field: str | None  # the result field, when it says something else than the outcome tag


def _tag_outcomes(tags: Tags) -> dict[str, str]:
    return {
        tags.cancelled: "cancelado",
        tags.retained: "revertido",
        tags.not_cancelled: "não cancelado",
        tags.third_party: "terceiro orientado",
    }


def outcome_of(ticket: Ticket, tags: Tags) -> str:
    """The ticket's outcome by the worker's outcome tag (what agents' views filter on)."""
    history = read_history(ticket)
    if history.steps == 0:
        return "ignorado (não é cancelamento)"
    if history.state.phase is Phase.DONE and tags.linked in ticket.tags:
        return "vinculado a outro ticket"
    if history.state.phase is Phase.REVIEW:  # an agent must look, whatever tags came before
        return f"em andamento ({history.state.phase.value})"
    for tag, label in _tag_outcomes(tags).items():
        if tag in ticket.tags:
            return label
    return f"em andamento ({history.state.phase.value})"


def field_disagreement(ticket: Ticket, tags: Tags) -> str | None:
    """What the result field says, when it is not the outcome the tag says (None if it agrees,
    or if the ticket has no outcome)."""
    by_tag = next((label for tag, label in _tag_outcomes(tags).items() if tag in ticket.tags), None)
    value = ticket.fields.get("outcome")
    by_field = OUTCOMES.get(value or "", value)
    if by_tag is None and by_field is None:
        return None
    return None if by_field == by_tag else (by_field or "vazio")


def summary(result: DemoResult) -> list[Row]:
    """One row per ticket, in ticket order: what the summary table shows."""
    rows = []
    for ticket_id in sorted(result.tickets, key=int):
        ticket = result.tickets[ticket_id]
        history = read_history(ticket)
        status = (
            "resolvido"
            if ticket.status is StatusCategory.SOLVED
            else (ticket.custom_status or ticket.status.value)
        )
        rows.append(
            Row(
                ticket_id,
                result.titles[ticket_id],
                history.state.situation or "-",
                outcome_of(ticket, result.config.tags),
                sum(1 for e in result.emails if e.ticket_id == ticket_id),
                history.steps,
                status,
                field_disagreement(ticket, result.config.tags),
            )
        )
    return rows


def _who(role: AuthorRole, public: bool, name: str) -> str:
    if role is AuthorRole.WORKER:
        return "WORKER · e-mail ao cliente" if public else "WORKER · nota interna (ficha)"
    if role is AuthorRole.AGENT:
        return f"{name} · {'resposta pública' if public else 'nota interna'}"
    return f"{name} · e-mail do cliente"


GREY, PLAIN = "\x1b[90m", "\x1b[0m"


def _indent(text: str, *, grey: bool) -> str:
    """A comment as the helpdesk shows it, the worker's marker line included (agents see it at
    the end of each note), greyed on a terminal: it is for the machine, not for them."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(
        f"    │ {GREY}{line}{PLAIN}"
        if grey and line.startswith(MARKER_PREFIX)
        else ("    │ " + line if line else "    │")
        for line in lines
    )


def _number(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def print_report(result: DemoResult, out: TextIO) -> None:
    grey = out.isatty()
    setup = result.provisioning
    created = ", ".join(
        f"{count} {COLLECTIONS.get(collection, collection)}"
        for collection, count in sorted(setup.created.items(), key=lambda item: -item[1])
    )
    out.write("=" * WIDTH + "\n")
    out.write(
        f"Zendesk simulado (sandbox) em {result.url}: HTTP real no loopback, sem conta, "
        "relógio simulado\n"
    )
    out.write(
        f"Conta provisionada pelo `setup`: {setup.total} objetos criados ({created}) "
        f"em {setup.requests} requisições\n"
    )
    out.write(
        "O worker (adaptador Zendesk) roda os jobs do agendador, poll e sweep, a cada 15 minutos "
        "simulados, de seg. 07/12 a sex. 11/12/2026\n"
    )
    for ticket_id in sorted(result.tickets, key=int):
        ticket = result.tickets[ticket_id]
        out.write("=" * WIDTH + "\n")
        out.write(f"Ticket #{ticket.id} — {result.titles[ticket_id]}\n")
        out.write(
            f"Assunto: {ticket.subject} · solicitante: {ticket.requester.name}"
            f" <{ticket.requester.email}>\n"
        )
        out.write("-" * WIDTH + "\n")
        for comment in ticket.comments:
            out.write(
                f"  {format_datetime(comment.created_at)}  "
                f"{_who(comment.role, comment.public, comment.author.name)}\n"
            )
            out.write(_indent(comment.body, grey=grey) + "\n")
        status = ticket.custom_status or ticket.status.value
        out.write(f"  → status final: {status} · tags: {', '.join(sorted(ticket.tags)) or '-'}\n\n")
    out.write("=" * WIDTH + "\nResumo\n" + "-" * WIDTH + "\n")
    out.write(
        f"{'Ticket':<8} {'Situação':<10} {'Resultado':<32} {'E-mails':>7} {'Notas':>6}  Status\n"
    )
    rows = summary(result)
    for row in rows:
        out.write(
            f"#{row.ticket_id:<7} {row.situation:<10} {row.outcome:<32} "
            f"{row.emails:>7} {row.notes:>6}  {row.status}\n"
        )
    disagreeing = [row for row in rows if row.field is not None]
    if disagreeing:
        out.write(
            f'ATENÇÃO: o campo "{result.config.fields.outcome}" não confere com a tag de '
            "resultado: "
            + ", ".join(f"#{row.ticket_id} ({row.field})" for row in disagreeing)
            + "\n"
        )
    keys = [(e.ticket_id, e.step) for e in result.emails]
    cost = result.cost
    out.write("-" * WIDTH + "\n")
    out.write(f"E-mails enviados: {len(keys)} · duplicados: {len(keys) - len(set(keys))}\n")
    if result.config.contract_cancellation.mode == "http":
        out.write(
            "Contratos cancelados pelo sistema de contratos (stand-in do sandbox): "
            f"{result.contracts_cancelled}\n"
        )
    out.write(
        f"Jobs do agendador: {result.jobs} (falharam: {result.failed_jobs}) · "
        f"custo na API: {cost.requests} requisições ({cost.reads} leituras, {cost.writes} "
        f"escritas) · {cost.steps} passos · {_number(cost.writes_per_step)} escritas por passo\n"
    )
    top = ", ".join(f"{name} {count}" for name, count in cost.by_endpoint.most_common())
    out.write(f"Por endpoint: {top}\n")
    out.write(f"Tempo real: {_number(result.seconds)} s\n")
