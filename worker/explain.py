"""`explain TICKET_ID`: where one ticket stands and what the worker would do next, and why.

Reads the ticket, its ficha and (through `Worker.decide`) the related tickets the decision needs;
writes nothing. The answer is plain pt-BR text for an agent or an operator: the situation, the
phase, the deadline, the steps already taken (from the worker's own notes), and the steps the
worker would take now with the note each would write, and why: the engine's own record of each
step (`Step.why`: the table's row, the phases, the events consumed), never reasons worked out
again here. It goes through `logs.shown`, like every
text a person reads: a ticket may quote a credential as well as personal data (CONTRACT 12).
"""

from __future__ import annotations

import re
from datetime import datetime

from worker.config import Config, detection_settings
from worker.core.calendar import format_date, format_datetime
from worker.core.detection import detect, keywords_refused
from worker.core.effects import Step, TargetStatus
from worker.core.engine import ticket_events
from worker.core.model import AuthorRole, Comment, Situation, StatusCategory, Ticket
from worker.core.procedure.run import FINAL_STATUSES, Event, account_people
from worker.core.procedure.table import (
    EMAIL_LABELS,
    PHASE_LABELS,
    SITUATION_LABELS,
    TABLE,
    Trigger,
)
from worker.core.procedure.trust import doubt
from worker.core.situation import Identification, identify
from worker.core.state import (
    MARKER_PREFIX,
    WAITING_PHASES,
    Marker,
    Phase,
    ProcedureState,
    ReviewReason,
    StepKind,
    parse_marker,
    read_history,
)
from worker.logs import shown
from worker.ports import RenderedStep
from worker.service import Worker

NOTE_PREFIX = "[Cancelamento] "
COMMAND = re.compile(r"#[\w-]+")  # a command as a table row's guard names it
NOTE_LINES = 3  # lines of a next step's note shown
GIST_LENGTH = 110

REVIEW_LABELS = {
    ReviewReason.MISSING_DATA: "dados da ficha faltando ou ambíguos",
    ReviewReason.IN_PROGRESS: "agentes já atendiam o ticket antes do worker",
    ReviewReason.PARTNER_REFUSED: "houve uma recusa",
    ReviewReason.RELATED_TICKETS: "há outros tickets da conta desde o e-mail de contato",
    ReviewReason.THIRD_PARTY_LOOP: "limite de respostas a um terceiro",
}
STATUS_LABELS = {
    StatusCategory.NEW: "novo",
    StatusCategory.OPEN: "aberto",
    StatusCategory.PENDING: "pendente",
    StatusCategory.HOLD: "em espera",
    StatusCategory.SOLVED: "resolvido",
    StatusCategory.CLOSED: "fechado",
}


def explain(worker: Worker, ticket_id: str, now: datetime) -> str:
    """Where `ticket_id` stands and what the worker would do at `now`, as masked pt-BR text.

    Only reads: the ticket, its ficha, the related tickets the decision asks for."""
    ticket = worker.helpdesk.read_ticket(ticket_id)
    ficha = worker.helpdesk.read_ficha(ticket)
    identification = identify(ticket.requester, ficha)
    state = read_history(ticket).state
    steps = worker.decide(ticket, now, ficha)
    view = _View(worker, ticket, identification, state, now)
    lines = [
        *view.header(),
        *view.situation(),
        *view.phase(),
        view.deadline(),
        *view.done(),
        *view.pending_events(),
        *view.distrusted(),
        f"O que o worker faria agora ({format_datetime(now)}):",
        *(view.next_steps(steps) if steps else view.idle()),
    ]
    return shown("\n".join(lines))


class _View:
    def __init__(
        self,
        worker: Worker,
        ticket: Ticket,
        identification: Identification,
        state: ProcedureState,
        now: datetime,
    ) -> None:
        self.worker = worker
        self.config: Config = worker.config
        self.ticket = ticket
        self.identification = identification
        self.state = state
        self.now = now
        self.notes = _worker_notes(ticket)
        self.comments = {comment.id: comment for comment in ticket.comments}

    # --- where the ticket stands -----------------------------------------------------------

    def header(self) -> list[str]:
        ticket = self.ticket
        status = ticket.custom_status or STATUS_LABELS[ticket.status]
        tags = ", ".join(sorted(ticket.tags)) or "nenhuma"
        return [
            f'Ticket #{ticket.id} — "{ticket.subject}"',
            f"Solicitante: {_person(ticket.requester.name, ticket.requester.email)}",
            f"Aberto em {format_datetime(ticket.created_at)} · status: {status} · tags: {tags}",
        ]

    def situation(self) -> list[str]:
        found = self.identification
        recorded = Situation(self.state.situation) if self.state.situation else None
        situation = recorded or found.situation
        if situation is not None:
            source = "registrada pelo worker" if recorded else "pela ficha; ainda não registrada"
            line = f"Situação: {SITUATION_LABELS[situation]} ({source})"
        else:
            line = "Situação: não identificada"
        account = found.account
        if account is not None:
            document = account.parsed_document
            label = f" ({document.label})" if document else ""
            line += f' — conta "{account.name}"{label}'
        lines = [line]
        if found.from_registered_email:
            lines.append("  o pedido veio do e-mail de cadastro da conta")
        if situation is None and found.problems:
            lines.append("  a ficha não permite classificar:")
            lines += [f"  - {problem}" for problem in found.problems]
        if situation is Situation.PARTNER and found.partners:
            lines.append("  Sócios-administradores:")
            for member in found.partners:
                done = member.person.key in self.state.confirmed
                mark = "confirmou" if done else "confirmação pendente"
                lines.append(f"  - {_person(member.person.name, member.person.email)}: {mark}")
        return lines

    def phase(self) -> list[str]:
        state = self.state
        since = self._phase_since()
        when = f" desde {format_datetime(since)}" if since else ""
        label = PHASE_LABELS[state.phase]
        named = (
            state.phase.value if label == state.phase.value else f"{state.phase.value} ({label})"
        )
        details = [f"Fase: {named}{when}"]
        if state.situation in (Situation.HOLDER.value, Situation.PARTNER.value):
            maximum = self.config.procedure.max_call_attempts
            sent = (
                "e-mail de contato enviado" if state.contact_email_sent else "sem e-mail de contato"
            )
            details.append(f"tentativas {state.attempts} de {maximum} · {sent}")
        if state.review is not None:
            details.append(f"revisão: {REVIEW_LABELS[state.review]}")
        if state.phase is Phase.MANUAL and state.resume_phase is not None:
            details.append(f"#retomar volta para {state.resume_phase.value}")
        if state.identity_confirmed:
            details.append("identidade confirmada por um agente")
        if state.reason:
            details.append(f"motivo: {state.reason}")
        if state.cancel_why and state.phase is Phase.CANCEL_PENDING:
            details.append(f"cancelar porque {state.cancel_why}")
        return [details[0] + (" · " + " · ".join(details[1:]) if details[1:] else "")]

    def deadline(self) -> str:
        deadline = self.state.deadline
        if deadline is None or self.state.phase not in WAITING_PHASES | {Phase.MANUAL}:
            return "Prazo: nenhum prazo correndo"
        last = format_date(self.worker.calendar.last_day(deadline))
        line = f"Prazo: até o fim de {last}; o worker age a partir de {format_datetime(deadline)}"
        if self.state.phase is Phase.MANUAL:
            return line + " (suspenso por #manual; #retomar abre um prazo novo)"
        if self.now >= deadline:
            return line + " (já terminou)"
        return line

    def done(self) -> list[str]:
        lines = ["Passos já feitos (notas do worker):"]
        for comment, marker in self.notes:
            title = _title(comment.body)
            lines.append(f"  {marker.step!s:<26} {format_datetime(comment.created_at)}  {title}")
        if not self.notes:
            lines.append("  nenhum")
        return lines

    def pending_events(self) -> list[str]:
        events = ticket_events(self.ticket, read_history(self.ticket).consumed)
        if not events:
            return []
        title = "Ainda não tratados pelo worker"
        if self.state.phase is Phase.MANUAL:
            title += " (ignorados até #retomar)"
        return [title + ":", *(f"  - {_event(e)}" for e in events)]

    def distrusted(self) -> list[str]:
        """Issue 14: the customers' messages the worker does not believe are from who they
        show, and why (they can stop or hold the procedure, never advance it)."""
        people = account_people(self.ticket, self.identification)
        lines: list[str] = []
        for comment in self.ticket.comments:
            if comment.role is AuthorRole.WORKER:
                continue
            why = doubt(comment, people) if comment.role is AuthorRole.END_USER else comment.doubt
            if why:
                who = _person(comment.author.name, comment.author.email)
                lines.append(f"  - de {who} em {format_datetime(comment.created_at)}: {why}")
        if not lines:
            return []
        return ["Mensagens sem remetente confirmado (podem parar, nunca avançar):", *lines]

    # --- what comes next -------------------------------------------------------------------

    def next_steps(self, steps: tuple[Step, ...]) -> list[str]:
        lines: list[str] = []
        before = self.state
        for step in steps:
            after = _after(step, before)
            rendered = self.worker.render(step)
            lines.append(f"  {step.key} — {self._actions(step, rendered)}")
            lines += [f"     {line}" for line in self._record(step, before, after)]
            note = _without_marker(rendered.note)
            shown = note.splitlines()[:NOTE_LINES]
            lines.append("     Nota: " + (shown[0] if shown else ""))
            lines += [f"           {line}" for line in shown[1:]]
            before = after
        return lines

    def _record(self, step: Step, before: ProcedureState, after: ProcedureState) -> list[str]:
        """The engine's own record of the step (`Step.why`): the table's row, the phases, what
        it consumed; then what the step's state says it changed. Nothing is worked out again
        here, so explain says what the engine did, whatever the engine's rules become."""
        why = step.why
        if why is None:  # only a step built outside the engine has none
            return []
        lines = [
            f"Por quê: {why.trigger}: {why.guard} ({why.section})",
            f"Linha {why.row} da tabela do procedimento · fase {_phases(why.before, why.after)}",
        ]
        changed = self._changes(before, after)
        if changed:
            lines.append("Registra: " + "; ".join(changed))
        if why.consumed:
            lines.append("Trata: " + "; ".join(self._ref(ref) for ref in why.consumed))
        return lines

    def _changes(self, before: ProcedureState, after: ProcedureState) -> list[str]:
        """What the state the step writes in its marker says that the state before did not."""
        changes: list[str] = []
        if after.situation and after.situation != before.situation:
            changes.append(f"situação: {SITUATION_LABELS[Situation(after.situation)]}")
        if after.attempts != before.attempts:
            maximum = self.config.procedure.max_call_attempts
            changes.append(f"tentativas {after.attempts} de {maximum}")
        if after.contact_email_sent and not before.contact_email_sent:
            changes.append("e-mail de contato enviado")
        if after.deadline != before.deadline:
            changes.append(
                f"prazo até o fim de {format_date(self.worker.calendar.last_day(after.deadline))}"
                if after.deadline
                else "sem prazo correndo"
            )
        if after.review is not None and after.review != before.review:
            changes.append(f"revisão: {REVIEW_LABELS[after.review]}")
        if after.cancel_why and after.cancel_why != before.cancel_why:
            changes.append(f"cancelar porque {after.cancel_why}")
        return changes

    def _actions(self, step: Step, rendered: RenderedStep) -> str:
        parts: list[str] = []
        if step.email is not None and rendered.email is not None:
            label = EMAIL_LABELS.get(step.email.message.template, step.email.message.template)
            email = f'envia o e-mail "{label}" para {self.ticket.requester.email}'
            if step.email.cc:
                email += f" (cópias: {', '.join(step.email.cc)})"
            gist = _gist(rendered.email.text)
            parts.append(email + (f': "{gist}"' if gist else ""))
        else:
            parts.append("escreve uma nota interna, sem e-mail")
        if step.status is not None:
            parts.append(f'status "{self._status(step.status)}"')
        if step.fields:
            shown = (
                f"{getattr(self.config.fields, k.value)} = {_value(v)}" for k, v in step.fields
            )
            parts.append("campos: " + ", ".join(shown))
        tags = [f"+{tag}" for tag in sorted(step.add_tags - self.ticket.tags)]
        tags += [f"−{tag}" for tag in sorted(step.remove_tags & self.ticket.tags)]
        if tags:
            parts.append("tags " + " ".join(tags))
        if step.follow_ups:
            where = "no ticket" if len(step.follow_ups) == 1 else "nos tickets"
            parts.append(f"e segue {where} " + ", ".join(f"#{t}" for t in step.follow_ups))
        return "; ".join(parts)

    def _status(self, status: TargetStatus) -> str:
        return {
            TargetStatus.IN_PROGRESS: self.config.statuses.in_progress,
            TargetStatus.WAITING_CUSTOMER: self.config.statuses.waiting_customer,
            TargetStatus.SOLVED: "Resolvido",
        }[status]

    def idle(self) -> list[str]:
        """Nothing to do now: say why, and for a wait, what happens when it ends."""
        state, ticket = self.state, self.ticket
        if ticket.status in FINAL_STATUSES:
            by = "pelo worker" if state.phase is Phase.DONE else "por um agente"
            status = STATUS_LABELS[ticket.status]
            return [f"  nada: ticket {status} ({by}); o worker não mexe em tickets {status}s"]
        if state.phase is Phase.NEW:
            return [f"  nada: {self._not_a_request()}"]
        if state.phase is Phase.MANUAL:
            since = self._phase_since()
            who = self._manual_agent()
            when = f" desde {format_datetime(since)}" if since else ""
            return [f"  nada: #manual{when}{who}; o worker não faz nada neste ticket até #retomar"]
        if state.phase in WAITING_PHASES and state.deadline is not None:
            return self._waiting(state.deadline)
        if state.phase is Phase.CANCEL_PENDING and state.contract_key:
            return [
                "  pedir o cancelamento ao sistema de contratos (chave "
                f"{state.contract_key}; repetir o pedido é seguro) e, quando ele confirmar,"
                " enviar o e-mail de confirmação ao cliente"
            ]
        details = [PHASE_LABELS[state.phase]]
        if state.phase is Phase.CALLING:
            maximum = self.config.procedure.max_call_attempts
            details.append(f"{state.attempts} de {maximum} registradas")
        if state.phase is Phase.REVIEW:
            details.append(REVIEW_LABELS[state.review] if state.review else "revisão")
        line = details[0] + (f" ({', '.join(details[1:])})" if details[1:] else "")
        commands = self._agent_commands()
        if commands:
            line += "; um agente pode: " + ", ".join(commands)
        return [f"  nada agora: {line}"]

    def _agent_commands(self) -> list[str]:
        """The commands the table's rows accept from an agent in this phase and situation, in
        the table's order: what moves the ticket on while the worker waits."""
        situation = Situation(self.state.situation) if self.state.situation else None
        found: dict[str, None] = {}
        for row in TABLE:
            if row.trigger is not Trigger.AGENT or self.state.phase not in row.phases:
                continue
            if situation is None or situation in row.situations:
                found.update(dict.fromkeys(COMMAND.findall(row.guard)))
        return list(found)

    def _waiting(self, deadline: datetime) -> list[str]:
        last = format_date(self.worker.calendar.last_day(deadline))
        if self.state.phase is Phase.WAITING_PARTNERS:
            found = self.identification.partners
            pending = [
                m.person.name or m.person.email
                for m in found
                if m.person.key not in self.state.confirmed
            ]
            who = "a confirmação dos sócios (" + (", ".join(pending) or "nenhum pendente") + ")"
        else:
            who = "a resposta do cliente"
        lines = [f"  nada agora: aguardando {who} até o fim de {last}"]
        if self.now >= deadline:
            return lines
        # The same decision at the deadline: `decide` only reads.
        then = self.worker.decide(self.ticket, deadline)
        if then:
            keys = ", ".join(step.key for step in then)
            first = then[0].why
            why = f" — {first.trigger}: {first.guard} ({first.section})" if first else ""
            lines.append(f"  em {format_datetime(deadline)}, sem novidades até lá: {keys}{why}")
        return lines

    def _not_a_request(self) -> str:
        ticket, config = self.ticket, self.config
        first = ticket.comments[0].body if ticket.comments else ""
        tag = config.tags.cancellation
        detection = detection_settings(config.detection)
        found = detect(ticket.subject, first, ticket.channel, ticket.tags, tag, detection)
        if found is not None:
            return "o worker ainda não começou este ticket"
        if refused := keywords_refused(ticket.channel, detection):
            return f"não é um pedido de cancelamento (sem a tag {tag}; {refused})"
        return (
            f"não é um pedido de cancelamento (sem a tag {tag} e sem pedido nas palavras do "
            "assunto ou da primeira mensagem)"
        )

    # --- helpers ---------------------------------------------------------------------------

    def _phase_since(self) -> datetime | None:
        """When the current phase began: the first note of the last run of notes in it."""
        since: datetime | None = None
        for comment, marker in self.notes:
            same = marker.state.phase is self.state.phase
            since = (since or comment.created_at) if same else None
        return since

    def _manual_agent(self) -> str:
        for _, marker in reversed(self.notes):
            if marker.step.kind is StepKind.MANUAL:
                for ref in marker.refs:
                    comment = self._comment(ref)
                    if comment is not None and comment.role is AuthorRole.AGENT:
                        return f" por {comment.author.name or 'um agente'}"
        return ""

    def _comment(self, ref: str) -> Comment | None:
        if not ref.startswith("c"):
            return None
        key = ref[1:]
        return self.comments.get(key) or self.comments.get(key.rsplit(".", 1)[0])

    def _ref(self, ref: str) -> str:
        if ref.startswith("t"):
            return f"ticket #{ref[1:]}"
        comment = self._comment(ref)
        if comment is None:
            return ref
        who = comment.author.name or comment.author.email
        when = format_datetime(comment.created_at)
        if comment.role is AuthorRole.AGENT:
            index = ref.rsplit(".", 1)[-1]
            lines = comment.body.splitlines()
            line = lines[int(index)] if index.isdigit() and int(index) < len(lines) else ""
            return f'"{line.strip()}" de {who} em {when}' if line else f"nota de {who} em {when}"
        return f"mensagem de {who} em {when}"


def _worker_notes(ticket: Ticket) -> list[tuple[Comment, Marker]]:
    """The worker's notes with their markers, as `read_history` counts them."""
    notes: list[tuple[Comment, Marker]] = []
    for comment in ticket.comments:
        if comment.role is not AuthorRole.WORKER or comment.public:
            continue
        marker = parse_marker(comment.body)
        if marker is not None:
            notes.append((comment, marker))
    return notes


def _after(step: Step, before: ProcedureState) -> ProcedureState:
    marker = parse_marker(step.marker)
    return marker.state if marker else before


def _phases(before: Phase, after: Phase) -> str:
    return f"{before.value} → {after.value}" if after is not before else f"{before.value} (fica)"


def _event(event: Event) -> str:
    comment = event.comment
    who = comment.author.name or comment.author.email
    when = format_datetime(comment.created_at)
    if event.command is not None:
        return f'"{event.command.text.strip()}" de {who} em {when}'
    return f"mensagem de {who} em {when}: {_gist(comment.body)}"


def _person(name: str, email: str) -> str:
    return f"{name} <{email}>" if name else email


def _without_marker(note: str) -> str:
    kept = [line for line in note.splitlines() if not line.startswith(MARKER_PREFIX)]
    return "\n".join(kept).strip()


def _title(body: str) -> str:
    first = next((line for line in body.splitlines() if line.strip()), "")
    return first.removeprefix(NOTE_PREFIX).strip()


def _gist(text: str) -> str:
    """The first line that says something: not the protocol, not the greeting."""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("Protocolo", "Olá", ">")):
            continue
        return line if len(line) <= GIST_LENGTH else line[: GIST_LENGTH - 1].rstrip() + "…"
    return ""


def _value(value: str | None) -> str:
    return "(vazio)" if value is None else value


__all__ = ["explain"]
