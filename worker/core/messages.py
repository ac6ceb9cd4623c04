"""Every text the worker writes, as a template name and the values it needs.

One function per message keeps the engine and `templates/` in step: the engine only calls these,
and the template test renders what each of them returns. E-mails live in `templates/emails/NAME`
(`.txt.j2` and `.html.j2`), notes in `templates/notes/NAME.txt.j2`.

Every context has the common keys of `TicketFacts.as_context()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.core.effects import Message

EMAIL_TEMPLATES = (
    "contact_attempt_holder",
    "contact_attempt_partners",
    "partners_confirmation_request",
    "partners_last_notice",
    "cancellation_confirmation",
    "not_cancelled_unconfirmed",
    "third_party",
    "third_party_reinforcement",
    "retained",
)


@dataclass(frozen=True)
class TicketFacts:
    """What every text may mention. Names are pt-BR-facing values, already formatted."""

    protocol: str  # the ticket number, shown as the protocol number
    subject: str
    requester_name: str
    requester_email: str
    account_name: str  # "" when unknown
    document_label: str  # "CPF", "CNPJ" or ""
    situation_label: str  # "" when not decided yet
    received_at: str  # when the request arrived, "dd/mm/aaaa hh:mm"
    signature: str  # from the configuration
    phone: str  # the support phone as shown, from the configuration; "" when not set
    chat: str  # where the chat is (a URL or "no nosso site"), from the configuration; or ""

    def as_context(self) -> dict[str, Any]:
        return {
            "protocolo": self.protocol,
            "assunto": self.subject,
            "solicitante_nome": self.requester_name,
            "saudacao_nome": _greeting_name(self.requester_name, self.requester_email),
            "solicitante_email": self.requester_email,
            "conta_nome": self.account_name,
            "documento_tipo": self.document_label,
            "situacao": self.situation_label,
            "recebido_em": self.received_at,
            "assinatura": self.signature,
            "telefone": self.phone,
            "chat": self.chat,
        }


def _greeting_name(name: str, email: str) -> str:
    """The name to greet a person by, or "" for a neutral greeting: a helpdesk names a user who
    wrote from a bare address after the address or its local part ("contato"), and
    "Olá, contato!" reads as a machine's mistake."""
    shown = name.strip()
    address = email.strip().casefold()
    if shown.casefold() in ("", address, address.partition("@")[0]):
        return ""
    return shown


def _message(template: str, facts: TicketFacts, **values: Any) -> Message:
    return Message(template, {**facts.as_context(), **values})


Partner = dict[str, str]  # {"nome": ..., "email": ...}


# --- e-mails -------------------------------------------------------------------------------


def contact_attempt_holder_email(facts: TicketFacts, attempts: int, deadline: str) -> Message:
    """§3.3, after the failed calls: we tried to call; please answer by `deadline`."""
    return _message("emails/contact_attempt_holder", facts, tentativas=attempts, prazo=deadline)


def contact_attempt_partners_email(
    facts: TicketFacts, attempts: int, deadline: str, partners: list[Partner]
) -> Message:
    """§4.3: we tried to call; why cancel? every managing partner (listed) must confirm."""
    return _message(
        "emails/contact_attempt_partners",
        facts,
        tentativas=attempts,
        prazo=deadline,
        socios=partners,
    )


def partners_confirmation_request_email(
    facts: TicketFacts, deadline: str, pending: list[Partner], cancellation_protocol: str
) -> Message:
    """§4.4: to the partners still to confirm (CC'd): reply to this e-mail confirming the
    cancellation requested by the requester, by `deadline`."""
    return _message(
        "emails/partners_confirmation_request",
        facts,
        prazo=deadline,
        socios_pendentes=pending,
        protocolo_cancelamento=cancellation_protocol,
    )


def partners_last_notice_email(
    facts: TicketFacts, confirmed: list[Partner], pending: list[Partner]
) -> Message:
    """§4.7: the contract was NOT cancelled; we are still waiting for `pending` partners;
    the request is closed, a new one can be opened once all partners agree."""
    return _message(
        "emails/partners_last_notice",
        facts,
        socios_confirmados=confirmed,
        socios_pendentes=pending,
    )


def cancellation_confirmation_email(facts: TicketFacts, cancelled_on: str) -> Message:
    """§3.6: the contract is cancelled as of `cancelled_on`."""
    return _message("emails/cancellation_confirmation", facts, cancelado_em=cancelled_on)


def not_cancelled_unconfirmed_email(facts: TicketFacts, deadline: str) -> Message:
    """§3.7: no answer by `deadline` and the request did not come from the registered e-mail,
    so for the customer's protection we did not cancel; call us to proceed."""
    return _message("emails/not_cancelled_unconfirmed", facts, prazo=deadline)


def third_party_email(facts: TicketFacts) -> Message:
    """§5.1: only the holder or a managing partner may ask, by phone (preferably) or chat."""
    return _message("emails/third_party", facts)


def third_party_reinforcement_email(facts: TicketFacts) -> Message:
    """§5.2: even if you are the holder, the request must be made by phone by the holder (the call
    is recorded); requests by e-mail are never accepted for this."""
    return _message("emails/third_party_reinforcement", facts)


def retained_email(facts: TicketFacts) -> Message:
    """§3.4 revertido: thank you for staying; the contract continues as agreed on the phone."""
    return _message("emails/retained", facts)


# --- notes (the ficha) ---------------------------------------------------------------------


def start_note(
    facts: TicketFacts,
    detected_by: str,
    channel: str,
    next_steps: str,
    partners: list[Partner],
    pending: list[Partner],
    max_attempts: int,
) -> Message:
    """§3.1/§4.1: the first ficha note: who, when, channel, account, situation, what happens next;
    for Situação 2 every partner and whose confirmation is missing. `detected_by` says how the
    ticket was recognised ("tag cancelamento" or "palavra-chave: ...")."""
    return _message(
        "notes/start",
        facts,
        detectado_por=detected_by,
        canal=channel,
        proximos_passos=next_steps,
        socios=partners,
        socios_pendentes=pending,
        max_tentativas=max_attempts,
    )


def possible_request_note(facts: TicketFacts, detected_by: str, doubt: str, tag: str) -> Message:
    """§1: maybe a request (a threat, a question about the terms, one service of several): no
    procedure, one note saying which words and where, and how an agent starts it."""
    return _message(
        "notes/possible_request", facts, detectado_por=detected_by, duvida=doubt, tag=tag
    )


def review_note(facts: TicketFacts, problems: list[str], detected_by: str) -> Message:
    """§2: data missing or ambiguous: what is missing (one line each), tagged for an agent, who can
    fix the ficha or set the situation field by hand."""
    return _message("notes/review", facts, problemas=problems, detectado_por=detected_by)


def in_progress_note(facts: TicketFacts, evidence: str) -> Message:
    """CONTRACT 17: agents were already handling this ticket (`evidence`); the worker will not act
    until an agent types #retomar."""
    return _message("notes/in_progress", facts, evidencia=evidence)


def third_party_replied_note(facts: TicketFacts, detected_by: str) -> Message:
    """§5.1: third party answered with the standard e-mail, ticket resolved."""
    return _message("notes/third_party_replied", facts, detectado_por=detected_by)


def third_party_reinforced_note(facts: TicketFacts, count: int, limit: int) -> Message:
    """§5.2: the third party wrote again; reinforcement `count` of `limit` sent; resolved."""
    return _message("notes/third_party_reinforced", facts, contagem=count, limite=limit)


def third_party_loop_note(facts: TicketFacts, limit: int) -> Message:
    """CONTRACT 4: past `limit` answers: no e-mail (possible mail loop), an agent should look."""
    return _message("notes/third_party_loop", facts, limite=limit)


def attempt_note(facts: TicketFacts, attempt: int, max_attempts: int, agent: str) -> Message:
    """§3.2: failed call recorded by `agent`: "tentativa N de 3"; past the limit, still noted."""
    return _message(
        "notes/attempt", facts, tentativa=attempt, max_tentativas=max_attempts, agente=agent
    )


def contact_email_sent_note(
    facts: TicketFacts, attempts: int, deadline: str, partners: list[Partner]
) -> Message:
    """§3.3/§4.3: contact-attempt e-mail sent, status waiting, answer expected by `deadline`;
    `partners` is empty for Situação 1."""
    return _message(
        "notes/contact_email_sent", facts, tentativas=attempts, prazo=deadline, socios=partners
    )


def customer_replied_note(facts: TicketFacts, author: str, excerpt: str) -> Message:
    """§3.5: the customer answered before the deadline: back to "Em atendimento", deadline
    cleared, the agent carries on."""
    return _message("notes/customer_replied", facts, autor=author, trecho=excerpt)


def retained_note(facts: TicketFacts, reason: str, agent: str) -> Message:
    """§3.4: retained, with the reason the agent typed; retention e-mail sent; resolved."""
    return _message("notes/retained", facts, motivo=reason, agente=agent)


def cancel_pending_note(
    facts: TicketFacts, why: str, reason: str, manual: bool, key: str = ""
) -> Message:
    """§3.6/§7: the contract must be cancelled now (`why`: call, no answer with registered e-mail,
    all partners confirmed). Manual mode: an agent cancels it in the company's system and types
    #contrato-cancelado; the confirmation e-mail goes out only then. HTTP mode: the worker asks
    the company's system, under the idempotency `key` agents can quote to whoever runs it."""
    by_system = {} if manual else {"chave": key}
    return _message(
        "notes/cancel_pending", facts, porque=why, motivo=reason, manual=manual, **by_system
    )


def contract_system_cancelled_note(facts: TicketFacts, key: str) -> Message:
    """HTTP mode: the company's system answered that the contract is cancelled; the
    confirmation e-mail follows in the next note."""
    return _message("notes/contract_system_cancelled", facts, chave=key)


def contract_system_failed_note(
    facts: TicketFacts, key: str, refused: bool, status: int, detail: str, attempts: int
) -> Message:
    """HTTP mode: the system refused (`refused`, a 4xx) or kept failing after `attempts`: an
    agent cancels by hand, as in manual mode. `status` is 0 when nothing came back; `detail`
    is already masked."""
    return _message(
        "notes/contract_system_failed",
        facts,
        chave=key,
        recusado=refused,
        status_http=status or "",
        detalhe=detail,
        tentativas=attempts,
    )


def cancelled_note(facts: TicketFacts, agent: str, recipients: list[str]) -> Message:
    """§3.6: contract cancelled (recorded by `agent`), confirmation e-mail sent to `recipients`,
    ticket resolved."""
    return _message("notes/cancelled", facts, agente=agent, destinatarios=recipients)


def not_cancelled_note(facts: TicketFacts, deadline: str) -> Message:
    """§3.7: deadline passed, request not from the registered e-mail and identity never confirmed:
    not cancelled, e-mail says why, resolved."""
    return _message("notes/not_cancelled", facts, prazo=deadline)


def partners_requested_note(
    facts: TicketFacts, reason: str, deadline: str, pending: list[Partner], agent: str
) -> Message:
    """§4.4: the call got through and the partner wants to cancel (`reason`); confirmation asked of
    `pending` partners, copied on the ticket; waiting until `deadline`."""
    return _message(
        "notes/partners_requested",
        facts,
        motivo=reason,
        prazo=deadline,
        socios_pendentes=pending,
        agente=agent,
    )


def partner_confirmed_note(
    facts: TicketFacts,
    partner: Partner,
    how: str,
    confirmed: list[Partner],
    pending: list[Partner],
) -> Message:
    """§4.5: one partner confirmed (`how`: "por e-mail neste ticket", "registrado por <agente>");
    who has confirmed and who is still missing."""
    return _message(
        "notes/partner_confirmed",
        facts,
        socio=partner,
        como=how,
        socios_confirmados=confirmed,
        socios_pendentes=pending,
    )


def partner_needs_agent_note(
    facts: TicketFacts, partner: Partner, excerpt: str, sentence: str, why: str
) -> Message:
    """§4.5: a partner wrote something unclear: an agent reads it and, if it is a confirmation,
    records it with #socio-confirmou. The sentence that decided is quoted with the reason, so
    the agent can check the worker's reading at a glance."""
    return _message(
        "notes/partner_needs_agent",
        facts,
        socio=partner,
        trecho=excerpt,
        frase=sentence,
        motivo=why,
    )


def refused_note(
    facts: TicketFacts, person: Partner, excerpt: str, partners: bool, doubt: str = ""
) -> Message:
    """§4.5 (and the holder changing their mind): `person` refused; the cancellation is stopped
    wherever it stood, their confirmation no longer counts, nothing was cancelled; an agent
    talks to them and records what they decide (`partners`: Situação 2). A refusal stops even
    when the helpdesk doubts who wrote it (`doubt`), since stopping is always safe."""
    return _message(
        "notes/refused",
        facts,
        pessoa=person,
        trecho=excerpt,
        situacao_socios=partners,
        duvida=doubt,
    )


def untrusted_message_note(
    facts: TicketFacts,
    person: Partner,
    excerpt: str,
    reason: str,
    *,
    held: bool,
    partner: bool,
    request: bool = False,
) -> Message:
    """Issue 14: a message (or the request itself) the worker does not believe is from who it
    shows: it counts as no confirmation, request or answer; an agent checks who wrote it and
    records what they verify (#socio-confirmou, #identidade-confirmada). `held`: it arrived
    while waiting for an answer, so the deadline was lifted (holding is always safe)."""
    return _message(
        "notes/untrusted_message",
        facts,
        pessoa=person,
        trecho=excerpt,
        motivo=reason,
        segurou=held,
        socio=partner,
        pedido=request,
    )


def partners_deadline_note(
    facts: TicketFacts, deadline: str, confirmed: list[Partner], pending: list[Partner]
) -> Message:
    """§4.7: deadline passed without every confirmation: NOT cancelled; last e-mail sent; everything
    recorded; resolved."""
    return _message(
        "notes/partners_deadline",
        facts,
        prazo=deadline,
        socios_confirmados=confirmed,
        socios_pendentes=pending,
    )


def identity_confirmed_note(facts: TicketFacts, agent: str) -> Message:
    """§3.7: an agent confirmed the account data: on no answer the contract may be cancelled."""
    return _message("notes/identity_confirmed", facts, agente=agent)


def manual_note(facts: TicketFacts, agent: str) -> Message:
    """CONTRACT 3: `agent` took the ticket over; the worker does nothing here until #retomar."""
    return _message("notes/manual", facts, agente=agent)


def email_already_sent_note(note: Message) -> Message:
    """A step's e-mail went out and its note never followed (a crash, a lost answer), and the
    step is now decided differently: `note` is the step decided now, followed by the warning
    that an e-mail already went out, which is never sent again."""
    return Message("notes/email_already_sent", {**note.context, "nota_do_passo": note.template})


def resumed_note(facts: TicketFacts, agent: str, where: str) -> Message:
    """#retomar: the worker carries on from `where` the ticket stands (a waiting period restarts
    now)."""
    return _message("notes/resumed", facts, agente=agent, situacao_atual=where)


def command_rejected_note(
    facts: TicketFacts, line: str, problem: str, valid_commands: list[str]
) -> Message:
    """§6: a command line that was not understood, or does not apply now: what and why, and the
    valid commands."""
    return _message(
        "notes/command_rejected", facts, linha=line, problema=problem, comandos=valid_commands
    )


def related_tickets_note(facts: TicketFacts, tickets: list[str], deadline: str) -> Message:
    """CONTRACT 16: at the deadline, newer tickets by the requester or the account's people exist
    (`tickets`, "#id – assunto"): nothing sent, an agent should look."""
    return _message("notes/related_tickets", facts, tickets=tickets, prazo=deadline)


def situation_set_by_agent_note(facts: TicketFacts, next_steps: str) -> Message:
    """§2: an agent set the situation field by hand; the worker follows it from here."""
    return _message("notes/situation_set_by_agent", facts, proximos_passos=next_steps)


def message_after_close_note(facts: TicketFacts, author: str, excerpt: str) -> Message:
    """A message arrived after the worker had resolved the ticket: an agent should read it."""
    return _message("notes/message_after_close", facts, autor=author, trecho=excerpt)


def linked_note(facts: TicketFacts, main_ticket: str, main_subject: str) -> Message:
    """§4.5: this ticket is about an account whose cancellation is already under way in
    `main_ticket`; its message is handled there (a partner's confirmation is recorded there);
    resolved here."""
    return _message(
        "notes/linked", facts, ticket_principal=main_ticket, assunto_principal=main_subject
    )


def other_ticket_message_note(
    facts: TicketFacts, other_ticket: str, author: str, excerpt: str
) -> Message:
    """A message that arrived as a new ticket (`other_ticket`, linked to this one and resolved
    there) by `author`: recorded here, where the cancellation is handled."""
    return _message(
        "notes/other_ticket_message",
        facts,
        ticket_origem=other_ticket,
        autor=author,
        trecho=excerpt,
    )


def customer_message_note(facts: TicketFacts, author: str, excerpt: str) -> Message:
    """A message from the customer that changes nothing by itself (while calling, after the
    cancellation was decided, an auto-reply while waiting): recorded for the agent."""
    return _message("notes/customer_message", facts, autor=author, trecho=excerpt)


def deadline_out_of_range_note(
    facts: TicketFacts, field_name: str, typed: str, deadline: str
) -> Message:
    """An agent typed `typed` in the deadline field (`field_name`), a date the worker cannot
    count to (9999-12-31): it keeps following `deadline` (its own, "" when none runs), which the
    field shows again; an agent looks, and changes the course with commands, not the field."""
    return _message(
        "notes/deadline_out_of_range",
        facts,
        campo=field_name,
        data_digitada=typed,
        prazo=deadline,
    )


def worker_error_note(failure_kind: str) -> Message:
    """The worker could not decide this ticket (bad data or a bug): an agent looks, once. Only
    the kind of failure is shown; its text may carry personal data and goes to the masked log."""
    return Message("notes/worker_error", {"tipo_falha": failure_kind})
