"""The procedure as a declared transition table (in the spirit of h11's `_state.py`).

Each row says when the worker takes a step: in which phases, on which trigger, under which
condition (its guard, a pt-BR label a support lead can check against the written procedure),
which step, which phase follows, which e-mail goes out, which status the ticket gets, and the
section of `docs/procedure.md` it carries out. The handlers in this package decide; `engine.fold`
looks up the row of every step they take and refuses one the table does not declare, so every
scenario and property test also checks the engine against this table, and the page a support
lead reads (`python -m worker procedure`, `docs/procedure.md`) is printed from it.

The few rules that hold for every step (leaving a wait clears the deadline field, a step during
a wait keeps the waiting status, a ticket under review is never resolved, a recorded contract call
is made next) are declared here too, below the rows, and applied in one place (`apply_rules`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from worker.core.effects import Email, FieldKey, TargetStatus
from worker.core.model import Situation
from worker.core.state import (
    CONTACTING,
    NOT_STARTED,
    UNDER_WAY,
    WAITING_PHASES,
    Phase,
    ProcedureState,
    StepKind,
)


class Trigger(enum.Enum):
    """What makes the worker look at a ticket and take a step."""

    FIRST_SIGHT = "o worker vê o ticket pela primeira vez"
    AGENT = "um agente"
    MESSAGE = "uma mensagem no ticket"
    OTHER_TICKET = "outro ticket da conta"
    CLOCK = "o prazo termina"
    OWED = "passo devido"


class Next(enum.Enum):
    """A phase after a step that is not one fixed phase."""

    SAME = "a mesma fase"
    RESUMED = "a fase de antes"


HOLDER = frozenset({Situation.HOLDER})
PARTNER = frozenset({Situation.PARTNER})
HOLDER_OR_PARTNER = HOLDER | PARTNER
THIRD_PARTY = frozenset({Situation.THIRD_PARTY})
ANY = frozenset(Situation)
# The phases #retomar may return to: where #manual or a review interrupted a procedure, or the
# end of a third party's loop.
RESUMABLE = UNDER_WAY | {Phase.DONE}


@dataclass(frozen=True)
class Transition:
    phases: frozenset[Phase]  # the phase before the step is one of these
    trigger: Trigger
    guard: str  # pt-BR: the condition, as the support lead reads it
    kind: StepKind
    does: str  # pt-BR: what the worker does
    next: Phase | Next
    section: str  # of docs/procedure.md: "§3.3" or "regra 17"
    situations: frozenset[Situation] = ANY  # for the printed page
    emails: tuple[str, ...] = ()  # templates, one of which goes out; none: no e-mail
    status: TargetStatus | None = None  # None: the handler leaves the status alone

    def leads_to(self, before: Phase, after: Phase) -> bool:
        if self.next is Next.SAME:
            return after is before
        if self.next is Next.RESUMED:
            return after in RESUMABLE
        return after is self.next


def _row(
    phases: Iterable[Phase],
    trigger: Trigger,
    guard: str,
    kind: StepKind,
    does: str,
    next: Phase | Next,
    section: str,
    situations: frozenset[Situation] = ANY,
    emails: tuple[str, ...] = (),
    status: TargetStatus | None = None,
) -> Transition:
    return Transition(
        frozenset(phases), trigger, guard, kind, does, next, section, situations, emails, status
    )


IN_PROGRESS = TargetStatus.IN_PROGRESS
WAITING = TargetStatus.WAITING_CUSTOMER
SOLVED = TargetStatus.SOLVED
SAME = Next.SAME
K = StepKind
T = Trigger

# Guards shared by several rows.
CANCEL_WHEN_REGISTERED = (
    "prazo do cliente terminou sem resposta, e o pedido veio do e-mail de cadastro ou um agente "
    "confirmou os dados (#identidade-confirmada)"
)
EVERY_PARTNER = "todos os sócios-administradores confirmaram"
UNTRUSTED = "o remetente é duvidoso (o helpdesk duvida, ou não é pessoa da conta na ficha)"
# What the worker does, where several rows say the same.
CANCELS = "decide cancelar: o contrato é cancelado (§7)"
CONFIRMS_CANCELLED = "confirma o cancelamento por e-mail (aos sócios também, na Situação 2)"
NOTES_CONFIRMATION = "anota a confirmação e quem ainda falta"
STOPS = "para o cancelamento (mesmo prestes a cancelar); marca para revisão"
STARTS_CALLS = "primeira nota da ficha; começam as ligações"
SENDS_CONTACT = "envia o e-mail de tentativa de contato e abre o prazo do cliente"
NOTES_MISSING = "anota o que falta e marca para revisão"
NOTES_UNCLEAR = "anota para um agente e marca para revisão"
CONTACT_EMAILS = ("emails/contact_attempt_holder", "emails/contact_attempt_partners")
THIRD_PARTY_EMAILS = ("emails/third_party", "emails/third_party_reinforcement")

# One row a line of arguments, as the page prints them: easier to read than one argument a line.
# fmt: off
TABLE: tuple[Transition, ...] = (
    # --- how a ticket enters (§1, §2) -------------------------------------------------------
    _row(
        {Phase.NEW}, T.FIRST_SIGHT, "talvez um pedido (a detecção ficou em dúvida)",
        K.POSSIBLE, "anota para um agente, que decide com #iniciar-cancelamento",
        Phase.POSSIBLE, "§1",
    ),
    _row(
        NOT_STARTED, T.FIRST_SIGHT,
        "pedido (ou #iniciar-cancelamento), mas agentes já atendiam o ticket",
        K.AGENTS_HANDLING, "anota o que viu e marca para revisão; não muda o status",
        Phase.REVIEW, "regra 17",
    ),
    _row(
        NOT_STARTED, T.FIRST_SIGHT,
        "a conta já tem um cancelamento em andamento em outro ticket",
        K.LINKED, "anota nos dois tickets e resolve este; segue no primeiro",
        Phase.DONE, "§4.5", HOLDER_OR_PARTNER, status=SOLVED,
    ),
    _row(
        NOT_STARTED, T.FIRST_SIGHT,
        "a ficha não permite identificar quem pede (ou Situação 2 sem sócios na ficha)",
        K.REVIEW_DATA, NOTES_MISSING, Phase.REVIEW, "§2, regra 2",
        status=IN_PROGRESS,
    ),
    _row(
        NOT_STARTED, T.FIRST_SIGHT, "pedido do titular ou de um sócio-administrador",
        K.START, STARTS_CALLS, Phase.CALLING, "§3.1, §4.1",
        HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.CALLING}, T.FIRST_SIGHT, "logo após o início, quando o pedido em si é duvidoso",
        K.UNTRUSTED_REQUEST, "anota por que o pedido sozinho não vale como confirmação",
        SAME, "§2", HOLDER_OR_PARTNER,
    ),
    _row(
        {Phase.REVIEW}, T.AGENT,
        "define a situação à mão, ou #retomar, depois de uma revisão de dados",
        K.START, STARTS_CALLS, Phase.CALLING, "§2, regra 17",
        HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.REVIEW}, T.AGENT,
        "define a situação à mão, ou #retomar, mas a Situação 2 não tem sócios na ficha",
        K.REVIEW_DATA, NOTES_MISSING, SAME, "§2",
        status=IN_PROGRESS,
    ),
    # --- Situação 3 (§5) ----------------------------------------------------------------------
    _row(
        NOT_STARTED | {Phase.REVIEW}, T.FIRST_SIGHT,
        "quem pede não é titular nem sócio-administrador",
        K.THIRD_PARTY, "responde que só o titular ou um sócio pode pedir, por telefone ou chat",
        Phase.DONE, "§5.1", THIRD_PARTY, THIRD_PARTY_EMAILS, SOLVED,
    ),
    _row(
        {Phase.DONE, Phase.REVIEW}, T.MESSAGE,
        "o terceiro escreve de novo (várias mensagens seguidas: uma resposta, à última)",
        K.THIRD_PARTY_AGAIN, "reforça que o pedido é por telefone, pelo titular",
        Phase.DONE, "§5.2", THIRD_PARTY, ("emails/third_party_reinforcement",), SOLVED,
    ),
    _row(
        NOT_STARTED | {Phase.REVIEW}, T.FIRST_SIGHT,
        "quem pede é um terceiro que já recebeu o limite de respostas (3 por padrão)",
        K.THIRD_PARTY_LOOP, "não responde; anota e marca para revisão",
        Phase.REVIEW, "regra 4", THIRD_PARTY, status=IN_PROGRESS,
    ),
    _row(
        {Phase.DONE, Phase.REVIEW}, T.MESSAGE,
        "o terceiro escreve de novo e já recebeu o limite de respostas (3 por padrão)",
        K.THIRD_PARTY_LOOP, "não responde mais; anota e marca para revisão",
        Phase.REVIEW, "regra 4", THIRD_PARTY, status=IN_PROGRESS,
    ),
    # --- calls and the contact e-mail (§3.2-§3.3, §4.2-§4.3) ----------------------------------
    _row(
        CONTACTING, T.AGENT, "#tentativa", K.ATTEMPT,
        "anota a ligação sem sucesso (tentativa N de 3)", SAME, "§3.2, §4.2", HOLDER_OR_PARTNER,
    ),
    _row(
        {Phase.CALLING}, T.AGENT,
        "#tentativa que completa as ligações (3 por padrão), sem e-mail de contato enviado",
        K.CONTACT_EMAIL, SENDS_CONTACT,
        Phase.WAITING_CUSTOMER, "§3.3, §4.3", HOLDER_OR_PARTNER, CONTACT_EMAILS, WAITING,
    ),
    _row(
        {Phase.CALLING}, T.OWED,
        "a última ligação foi anotada, o e-mail de contato não (interrompido)",
        K.CONTACT_EMAIL, SENDS_CONTACT,
        Phase.WAITING_CUSTOMER, "§3.3, §4.3, regra 8", HOLDER_OR_PARTNER, CONTACT_EMAILS,
        WAITING,
    ),
    # --- what the customer and the partners write (§3.5, §4.5) --------------------------------
    _row(
        UNDER_WAY, T.MESSAGE, "o titular, um sócio ou o e-mail de cadastro recusa",
        K.REFUSAL, STOPS,
        Phase.REVIEW, "§4.5", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        UNDER_WAY, T.OTHER_TICKET, "a recusa chega num ticket novo da conta",
        K.REFUSAL, STOPS,
        Phase.REVIEW, "§4.5", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.WAITING_CUSTOMER}, T.MESSAGE, f"durante o prazo do cliente, {UNTRUSTED}",
        K.UNTRUSTED_MESSAGE, "anota a mensagem e por que não vale; suspende o prazo",
        Phase.CALLING, "§3.5", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        UNDER_WAY, T.MESSAGE, f"{UNTRUSTED}, ou é uma resposta automática",
        K.UNTRUSTED_MESSAGE, "anota a mensagem e por que não vale; marca para revisão",
        SAME, "§3.5", HOLDER_OR_PARTNER,
    ),
    _row(
        CONTACTING, T.OTHER_TICKET, f"um sócio escreve num ticket novo e {UNTRUSTED}",
        K.UNTRUSTED_MESSAGE, "anota a mensagem e por que não vale; marca para revisão",
        SAME, "§4.5", PARTNER,
    ),
    _row(
        CONTACTING, T.MESSAGE, "um sócio confirma por e-mail no ticket",
        K.PARTNER_CONFIRMED, NOTES_CONFIRMATION, SAME, "§4.5", PARTNER,
    ),
    _row(
        CONTACTING, T.OTHER_TICKET, "um sócio confirma num ticket novo da conta",
        K.PARTNER_CONFIRMED, NOTES_CONFIRMATION, SAME, "§4.5", PARTNER,
    ),
    _row(
        CONTACTING, T.MESSAGE, "a resposta de um sócio não é clara",
        K.PARTNER_UNCLEAR, NOTES_UNCLEAR, SAME, "§4.5, regra 14",
        PARTNER,
    ),
    _row(
        CONTACTING, T.OTHER_TICKET, "a resposta de um sócio, num ticket novo, não é clara",
        K.PARTNER_UNCLEAR, NOTES_UNCLEAR, SAME, "§4.5, regra 14",
        PARTNER,
    ),
    _row(
        {Phase.WAITING_CUSTOMER}, T.MESSAGE,
        "o cliente responde durante o prazo (não é resposta automática)",
        K.CUSTOMER_REPLIED, "anota a resposta; o prazo acaba e voltam as ligações",
        Phase.CALLING, "§3.5", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        UNDER_WAY, T.MESSAGE, "qualquer outra mensagem do cliente", K.MESSAGE,
        "anota a mensagem para o agente; o procedimento segue", SAME, "§3.5",
        HOLDER_OR_PARTNER,
    ),
    _row(
        {Phase.DONE}, T.MESSAGE, "mensagem depois do encerramento", K.MESSAGE_AFTER_CLOSE,
        "anota a mensagem e marca para revisão", SAME, "regra 18", HOLDER_OR_PARTNER,
        status=IN_PROGRESS,
    ),
    _row(
        UNDER_WAY, T.OTHER_TICKET, "um ticket vinculado a este (um segundo pedido da conta)",
        K.OTHER_TICKET_MESSAGE, "anota a mensagem do outro ticket", SAME, "§4.5",
        HOLDER_OR_PARTNER,
    ),
    _row(
        WAITING_PHASES, T.OTHER_TICKET,
        "durante um prazo, a conta abriu outros tickets desde o e-mail de contato",
        K.OTHER_TICKETS, "anota os tickets e marca para revisão antes de agir sem resposta",
        Phase.REVIEW, "regra 16", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.CANCEL_PENDING}, T.OTHER_TICKET,
        "idem, quando um desses tickets trouxe a confirmação que faltava e o cancelamento acabou "
        "de ser decidido",
        K.OTHER_TICKETS, "anota os tickets e marca para revisão; #retomar volta a cancelar",
        Phase.REVIEW, "regra 16", PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.REVIEW}, T.OTHER_TICKET,
        "idem, quando um ticket mais novo do mesmo lote trouxe uma recusa",
        K.OTHER_TICKETS, "anota os tickets, além da recusa", SAME, "regra 16",
        HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
    # --- what agents record (§6) --------------------------------------------------------------
    _row(
        UNDER_WAY, T.AGENT, "#revertido motivo: ...", K.RETAINED,
        "guarda o motivo e confirma ao cliente que ele fica", Phase.DONE, "§3.4, §4.4",
        HOLDER_OR_PARTNER, ("emails/retained",), SOLVED,
    ),
    _row(
        {Phase.CALLING, Phase.WAITING_CUSTOMER, Phase.REVIEW}, T.AGENT,
        "#cancelar motivo: ... (Situação 1)",
        K.CANCEL_CONTRACT, CANCELS, Phase.CANCEL_PENDING,
        "§3.4, §3.6", HOLDER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.CALLING, Phase.WAITING_CUSTOMER}, T.AGENT,
        f"#cancelar motivo: ... (Situação 2) e {EVERY_PARTNER}",
        K.CANCEL_CONTRACT, CANCELS, Phase.CANCEL_PENDING,
        "§4.6", PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.CALLING, Phase.WAITING_CUSTOMER}, T.AGENT,
        "#cancelar motivo: ... (Situação 2), com sócios por confirmar",
        K.PARTNERS_ASKED, "pede por e-mail a confirmação dos demais sócios; abre o prazo deles",
        Phase.WAITING_PARTNERS, "§4.4", PARTNER, ("emails/partners_confirmation_request",),
        WAITING,
    ),
    _row(
        UNDER_WAY, T.AGENT, "#identidade-confirmada", K.IDENTITY,
        "anota que um agente confirmou os dados do titular", SAME, "§3.7", HOLDER_OR_PARTNER,
    ),
    _row(
        CONTACTING | {Phase.REVIEW}, T.AGENT, "#socio-confirmou <email>",
        K.PARTNER_CONFIRMED, NOTES_CONFIRMATION, SAME, "§4.5, regra 15",
        PARTNER,
    ),
    _row(
        {Phase.CANCEL_PENDING}, T.AGENT, "#contrato-cancelado", K.CANCELLED,
        CONFIRMS_CANCELLED, Phase.DONE,
        "§3.6, §7", HOLDER_OR_PARTNER, ("emails/cancellation_confirmation",), SOLVED,
    ),
    _row(
        UNDER_WAY, T.AGENT, "#manual", K.MANUAL,
        "anota uma vez e não faz mais nada no ticket até #retomar", Phase.MANUAL, "regra 3",
    ),
    _row(
        {Phase.MANUAL, Phase.REVIEW}, T.AGENT, "#retomar", K.RESUME,
        "volta à fase de antes; um prazo interrompido recomeça do zero", Next.RESUMED,
        "regras 3 e 17",
    ),
    _row(
        UNDER_WAY | {Phase.DONE}, T.AGENT,
        "comando malformado, numa nota pública ou duvidosa, ou que não vale na fase",
        K.INVALID_COMMAND, "anota por que o comando não foi aplicado", SAME, "§6, regra 13",
    ),
    _row(
        UNDER_WAY | {Phase.DONE}, T.AGENT,
        "alguém digitou no campo de prazo uma data fora do calendário",
        K.DEADLINE_OUT_OF_RANGE, "anota e devolve ao campo o prazo que vale (ou o esvazia)",
        SAME, "regra 7",
    ),
    # --- reaching the end (§3.6-§3.7, §4.6-§4.7, §7) ------------------------------------------
    _row(
        CONTACTING | {Phase.REVIEW}, T.MESSAGE, f"a confirmação que faltava: {EVERY_PARTNER}",
        K.CANCEL_CONTRACT, CANCELS, Phase.CANCEL_PENDING,
        "§4.6", PARTNER, status=IN_PROGRESS,
    ),
    _row(
        WAITING_PHASES, T.OWED, f"{EVERY_PARTNER} e o cancelamento não foi anotado",
        K.CANCEL_CONTRACT, CANCELS, Phase.CANCEL_PENDING,
        "§4.6, regra 8", PARTNER, status=IN_PROGRESS,
    ),
    _row(
        {Phase.WAITING_CUSTOMER}, T.CLOCK, CANCEL_WHEN_REGISTERED, K.CANCEL_CONTRACT,
        CANCELS, Phase.CANCEL_PENDING, "§3.7", HOLDER,
        status=IN_PROGRESS,
    ),
    _row(
        WAITING_PHASES, T.CLOCK, f"o prazo terminou e {EVERY_PARTNER}", K.CANCEL_CONTRACT,
        CANCELS, Phase.CANCEL_PENDING, "§4.6", PARTNER,
        status=IN_PROGRESS,
    ),
    _row(
        {Phase.WAITING_CUSTOMER}, T.CLOCK,
        "o prazo do cliente terminou sem resposta; o pedido não veio do e-mail de cadastro nem "
        "teve os dados confirmados",
        K.NOT_CANCELLED, "não cancela; explica por e-mail por quê", Phase.DONE, "§3.7", HOLDER,
        ("emails/not_cancelled_unconfirmed",), SOLVED,
    ),
    _row(
        WAITING_PHASES, T.CLOCK, "o prazo terminou sem a confirmação de todos os sócios",
        K.PARTNERS_DEADLINE, "nunca cancela; último aviso aos sócios, dizendo quem faltou",
        Phase.DONE, "§4.7", PARTNER, ("emails/partners_last_notice",), SOLVED,
    ),
    _row(
        {Phase.CANCEL_PENDING}, T.OWED,
        "modo http: o sistema de contratos respondeu que cancelou",
        K.CONTRACT_SYSTEM_CANCELLED, "anota a resposta do sistema (o e-mail vem no passo seguinte)",
        SAME, "§7", HOLDER_OR_PARTNER,
    ),
    _row(
        {Phase.CANCEL_PENDING}, T.OWED,
        "modo http: o sistema cancelou, e a confirmação ao cliente ainda não saiu",
        K.CANCELLED, CONFIRMS_CANCELLED,
        Phase.DONE, "§3.6, §7", HOLDER_OR_PARTNER, ("emails/cancellation_confirmation",), SOLVED,
    ),
    _row(
        {Phase.CANCEL_PENDING}, T.OWED,
        "modo http: o sistema de contratos recusou ou não respondeu",
        K.CONTRACT_SYSTEM_FAILED, "passa a um agente, como no modo manual (#contrato-cancelado)",
        SAME, "§7, regra 6", HOLDER_OR_PARTNER, status=IN_PROGRESS,
    ),
)
# fmt: on


class UndeclaredStep(AssertionError):
    """A programming error: the engine took a step its transition table does not declare."""


def transition(
    before: Phase, kind: StepKind, after: Phase, trigger: Trigger | None = None
) -> Transition:
    """The row a step from `before` to `after` carries out: of the rows that match, one of
    `trigger` (what the engine was handling when it took the step) if there is one. The rows
    that match agree on the status and the e-mails (a test checks it), so the trigger only
    chooses which one the step's record names, never what the step does."""
    rows = [r for r in TABLE if r.kind is kind and before in r.phases and r.leads_to(before, after)]
    for row in sorted(rows, key=lambda row: row.trigger is not trigger):
        return row
    raise UndeclaredStep(
        f"step {kind.value} from {before.value} to {after.value} is not in the table"
    )


def row_number(row: Transition) -> int:
    """The row's place in `TABLE`, from 1: what a decision record and a log line call it."""
    return next(n for n, candidate in enumerate(TABLE, start=1) if candidate is row)


def check_email(row: Transition, email: Email | None) -> None:
    """The e-mail a step sends is one its row declares, and a row that e-mails always does."""
    template = email.message.template if email else None
    if (template is None) != (not row.emails) or (template and template not in row.emails):
        raise UndeclaredStep(f"step {row.kind.value} with e-mail {template} is not in the table")


# --- the rules every step follows ---------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What a step changes on the ticket besides its note, as the rules may amend it."""

    status: TargetStatus | None
    fields: tuple[tuple[FieldKey, str | None], ...]
    follow_ups: tuple[str, ...]


@dataclass(frozen=True)
class Where:
    """What the rules look at: the state after the step and the ticket as the step leaves it."""

    after: ProcedureState
    deadline_shown: str | None  # the deadline field as the earlier steps left it
    shows_waiting: bool  # the ticket's status shows "waiting" now
    under_review: bool  # the review tag is on the ticket once this step's tags apply
    ticket_id: str


@dataclass(frozen=True)
class Rule:
    name: str  # pt-BR
    text: str  # pt-BR, for the printed page
    section: str
    apply: Callable[[Change, Where], Change]


def _leaving_a_wait(change: Change, where: Where) -> Change:
    sets = any(name is FieldKey.DEADLINE for name, _ in change.fields)
    if where.after.phase in WAITING_PHASES or not where.deadline_shown or sets:
        return change
    return replace(change, fields=(*change.fields, (FieldKey.DEADLINE, None)))


def _waiting_shows(change: Change, where: Where) -> Change:
    # The helpdesk moves a waiting ticket back to open when anyone of the customer's side
    # writes, though the procedure may still wait.
    if change.status is None and where.after.phase in WAITING_PHASES and not where.shows_waiting:
        return replace(change, status=TargetStatus.WAITING_CUSTOMER)
    return change


def _review_is_never_resolved(change: Change, where: Where) -> Change:
    if change.status is TargetStatus.SOLVED and where.under_review:
        return replace(change, status=TargetStatus.IN_PROGRESS)
    return change


def _contract_call_follows(change: Change, where: Where) -> Change:
    after = where.after
    if after.phase is Phase.CANCEL_PENDING and after.contract_key and not change.follow_ups:
        return replace(change, follow_ups=(where.ticket_id,))
    return change


RULES: tuple[Rule, ...] = (
    Rule(
        "sair de um prazo limpa o campo de prazo",
        "Todo passo que deixa uma fase de prazo, por qualquer motivo, esvazia o campo de prazo "
        "que as visões e a varredura leem.",
        "§3.5, regra 7",
        _leaving_a_wait,
    ),
    Rule(
        "durante um prazo, o status volta a aguardar",
        "Um passo anotado enquanto o prazo corre (uma confirmação, uma resposta automática) "
        'devolve o ticket a "Aguardando retorno do cliente", onde o prazo aparece: o helpdesk '
        "reabre o ticket quando o cliente escreve.",
        "§3.3, §4.4",
        _waiting_shows,
    ),
    Rule(
        "ticket em revisão nunca é resolvido",
        "Um passo que resolveria um ticket ainda marcado para revisão o deixa em "
        '"Em atendimento": resolver o tiraria da visão de revisão sem que um agente o visse.',
        "§4.7",
        _review_is_never_resolved,
    ),
    Rule(
        "a chamada ao sistema de contratos vem depois da nota",
        "Modo http: o pedido ao sistema de contratos só é feito depois que a nota com a sua "
        "chave está no ticket; o worker trata o ticket de novo logo em seguida.",
        "§7, regra 5",
        _contract_call_follows,
    ),
)


def apply_rules(change: Change, where: Where) -> Change:
    for rule in RULES:
        change = rule.apply(change, where)
    return change


# --- the words the page and the engine's notes use ----------------------------------------

SITUATION_LABELS = {
    Situation.HOLDER: "Situação 1 (titular)",
    Situation.PARTNER: "Situação 2 (sócio-administrador)",
    Situation.THIRD_PARTY: "Situação 3 (terceiro)",
}
PHASE_LABELS = {
    Phase.NEW: "ainda não iniciado",
    Phase.POSSIBLE: "talvez um pedido: aguardando um agente (#iniciar-cancelamento)",
    Phase.REVIEW: "aguardando um agente",
    Phase.CALLING: "Em atendimento, ligações ao cliente",
    Phase.WAITING_CUSTOMER: "aguardando retorno do cliente",
    Phase.WAITING_PARTNERS: "aguardando confirmação dos sócios",
    Phase.CANCEL_PENDING: "aguardando o cancelamento do contrato (#contrato-cancelado)",
    Phase.MANUAL: "conduzido manualmente por um agente",
    Phase.DONE: "encerrado",
}
EMAIL_LABELS = {
    "emails/cancellation_confirmation": "confirmação do cancelamento",
    "emails/contact_attempt_holder": "tentativa de contato",
    "emails/contact_attempt_partners": "tentativa de contato (sócios)",
    "emails/not_cancelled_unconfirmed": "pedido não concluído sem confirmação",
    "emails/partners_confirmation_request": "pedido de confirmação aos sócios",
    "emails/partners_last_notice": "último aviso aos sócios",
    "emails/retained": "cliente revertido",
    "emails/third_party": "resposta a terceiro",
    "emails/third_party_reinforcement": "reforço a terceiro",
}
# The statuses as the default configuration names them.
STATUS_LABELS = {
    TargetStatus.IN_PROGRESS: "Em atendimento",
    TargetStatus.WAITING_CUSTOMER: "Aguardando retorno do cliente",
    TargetStatus.SOLVED: "Resolvido",
}
