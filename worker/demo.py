"""`python -m worker demo`: the whole procedure on the in-memory helpdesk, with a simulated clock.

Realistic tickets walk every branch while simulated agents and customers act on them, and the
worker's real poll-and-sweep loop runs every 15 simulated minutes. The timeline printed is what
the customer and the agents would see in the helpdesk. The people and documents are fictitious.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO

from worker.adapters.memory import MemoryHelpdesk
from worker.config import Config
from worker.core.calendar import SAO_PAULO, format_datetime
from worker.core.model import AuthorRole, Channel, Member, Person, StatusCategory
from worker.core.state import MARKER_PREFIX, Phase, read_history
from worker.render import Renderer
from worker.service import Worker

START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday
END = datetime(2026, 12, 11, 18, 0, tzinfo=SAO_PAULO)
POLL_EVERY = timedelta(minutes=15)


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the demo's week: day 7 is Monday 7 December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SAO_PAULO)


def person(name: str, email: str) -> Person:
    return Person(email, email, name)


AGENT = Person("agent-paula", "paula@suaempresa.com.br", "Paula (agente)")

MARIA = person("Maria Souza", "maria.souza@exemplo.com.br")
JOAO = person("João Lima", "joao.lima@exemplo.com.br")
HELENA = person("Helena Castro", "helena.pessoal@exemplo.com.br")
ANA = person("Ana Ribeiro", "ana@paoquente.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@paoquente.com.br")
CARLA = person("Carla Mendes", "carla@paoquente.com.br")
RUI = person("Rui Tavares", "rui@horizontecontabil.com.br")
SOFIA = person("Sofia Prado", "sofia@horizontecontabil.com.br")
CARLOS = person("Carlos Nunes", "carlos@technova.com.br")
FERNANDA = person("Fernanda Alves", "fernanda@technova.com.br")
LUIZ = person("Luiz Ferreira", "luiz.ferreira@exemplo.com.br")
MARCOS = person("Marcos Dias", "marcos.dias@exemplo.com.br")


def seed_accounts(helpdesk: MemoryHelpdesk) -> None:
    helpdesk.add_account(
        "pf-maria", "Maria Souza", "529.982.247-25", MARIA.email, [Member(MARIA, holder=True)]
    )
    helpdesk.add_account(
        "pf-joao", "João Lima", "111.444.777-35", JOAO.email, [Member(JOAO, holder=True)]
    )
    helpdesk.add_account(
        "pf-helena",
        "Helena Castro",
        "935.411.347-80",
        "helena.castro@exemplo.com.br",
        [Member(HELENA, holder=True)],
    )
    helpdesk.add_account(
        "pj-paoquente",
        "Padaria Pão Quente Ltda",
        "12.ABC.345/01DE-35",
        "financeiro@paoquente.com.br",
        [
            Member(ANA, managing_partner=True),
            Member(BRUNO, managing_partner=True),
            Member(CARLA, managing_partner=True),
        ],
    )
    helpdesk.add_account(
        "pj-horizonte",
        "Horizonte Contabilidade S/S",
        "11.222.333/0001-81",
        "contato@horizontecontabil.com.br",
        [Member(RUI, managing_partner=True), Member(SOFIA, managing_partner=True)],
    )
    helpdesk.add_account(
        "pj-technova",
        "TechNova Sistemas Ltda",
        "45.723.174/0001-10",
        "adm@technova.com.br",
        [Member(CARLOS, managing_partner=True), Member(FERNANDA)],
    )


@dataclass(frozen=True)
class Scenario:
    title: str
    requester: Person
    subject: str
    body: str
    opens_at: datetime
    tags: tuple[str, ...] = ()
    channel: Channel = "email"


SCENARIOS = (
    Scenario(
        "Situação 1: cliente não atende nem responde; pedido do e-mail de cadastro → cancelado",
        MARIA,
        "Quero cancelar meu contrato",
        "Olá, quero cancelar o meu contrato a partir deste mês. Obrigada, Maria.",
        _at(7, 9, 5),
    ),
    Scenario(
        "Situação 1: ligação atendida, cliente revertido",
        JOAO,
        "Cancelamento",
        "Bom dia. Gostaria de cancelar o serviço. João Lima",
        _at(7, 9, 20),
        ("cancelamento",),
        "web",
    ),
    Scenario(
        "Situação 1: sem resposta e pedido fora do e-mail de cadastro → não cancelado",
        HELENA,
        "Cancelar assinatura",
        "Quero cancelar a assinatura, por favor.",
        _at(7, 9, 40),
    ),
    Scenario(
        "Situação 2: todos os sócios confirmam → cancelado",
        ANA,
        "Encerramento do contrato da padaria",
        "Prezados, vamos encerrar o contrato da Padaria Pão Quente. Ana Ribeiro, sócia.",
        _at(7, 10, 0),
        ("cancelamento",),
    ),
    Scenario(
        "Situação 2: prazo vence sem todas as confirmações → não cancelado",
        RUI,
        "Rescisão contratual",
        "Solicito a rescisão do nosso contrato. Rui Tavares.",
        _at(7, 11, 0),
    ),
    Scenario(
        "Situação 3: terceiro pede e depois diz ser o titular",
        FERNANDA,
        "Cancelar contrato TechNova",
        "Oi, preciso cancelar o contrato da empresa. Fernanda, do administrativo.",
        _at(7, 13, 0),
    ),
    Scenario(
        "Dados faltando: solicitante fora de qualquer ficha",
        LUIZ,
        "Solicito cancelamento",
        "Solicito o cancelamento do meu plano.",
        _at(7, 14, 0),
    ),
    Scenario(
        'Não é cancelamento de contrato: "cancelar boleto" (ignorado)',
        MARCOS,
        "Cancelar boleto duplicado",
        "Recebi dois boletos, podem cancelar o boleto duplicado?",
        _at(7, 15, 0),
    ),
)


def _scripted_actions(
    helpdesk: MemoryHelpdesk, ids: dict[str, str], titles: dict[str, str]
) -> list[tuple[datetime, Callable[[], None]]]:
    """What agents and customers do, and when."""

    def carla_confirms_in_a_new_email() -> None:
        new = helpdesk.create_ticket(
            CARLA, "Cancelamento Padaria Pão Quente", "Confirmo o cancelamento do contrato. Carla"
        )
        titles[new] = "Situação 2: sócia confirma por um novo e-mail (vinculado ao primeiro ticket)"

    def note(who: Person, text: str) -> Callable[[], None]:
        def act(ticket: str = "") -> None:
            helpdesk.agent_note(ids[who.email], AGENT, text)

        return act

    def writes(ticket_of: Person, author: Person, text: str) -> Callable[[], None]:
        return lambda: helpdesk.customer_writes(ids[ticket_of.email], author, text)

    quoted = (
        "\n\nEm seg., 7 de dez. de 2026 às 11:16, Atendimento <suporte@suaempresa.com.br>"
        " escreveu:\n"
        "> Pedimos que cada sócio-administrador confirme o cancelamento respondendo a este e-mail."
    )
    return [
        (_at(7, 10, 0), note(MARIA, "#tentativa")),
        (_at(7, 10, 30), note(JOAO, "#tentativa\nCaixa postal.")),
        (_at(7, 10, 45), note(HELENA, "#tentativa")),
        (
            _at(7, 11, 15),
            note(ANA, "#cancelar motivo: Encerramento da empresa - a padaria vai fechar"),
        ),
        (_at(7, 11, 30), note(RUI, "#tentativa")),
        (_at(7, 14, 0), note(MARIA, "#tentativa")),
        (_at(7, 14, 10), note(HELENA, "#tentativa\n#tentativa")),
        (
            _at(7, 15, 0),
            note(JOAO, "#revertido motivo: Preço - ofereci 20% de desconto por 6 meses"),
        ),
        (_at(7, 15, 30), note(RUI, "#tentativa")),
        (_at(7, 16, 0), writes(FERNANDA, FERNANDA, "Eu sou a titular, por favor cancelem.")),
        (_at(8, 8, 40), writes(ANA, BRUNO, "Confirmo o cancelamento." + quoted)),
        (_at(8, 9, 30), note(RUI, "#tentativa")),
        (_at(8, 10, 0), note(MARIA, "#tentativa")),
        (_at(8, 11, 0), writes(RUI, SOFIA, "Vou conversar com o Rui antes de decidir." + quoted)),
        (_at(8, 13, 0), carla_confirms_in_a_new_email),
        (_at(8, 15, 0), note(ANA, "#contrato-cancelado")),
        (_at(8, 15, 5), note(HELENA, "#tentaiva")),
        (_at(11, 9, 30), note(MARIA, "#contrato-cancelado")),
    ]


@dataclass
class DemoResult:
    helpdesk: MemoryHelpdesk
    titles: dict[str, str]  # ticket id -> what the ticket shows


def run_demo(config: Config, renderer: Renderer) -> DemoResult:
    clock = SimulatedClock(START)
    helpdesk = MemoryHelpdesk(config, clock)
    seed_accounts(helpdesk)
    worker = Worker(helpdesk, config, renderer, clock)
    ids: dict[str, str] = {}
    titles: dict[str, str] = {}
    pending: list[tuple[datetime, Callable[[], None]]] = []
    for scenario in SCENARIOS:

        def open_ticket(s: Scenario = scenario) -> None:
            ids[s.requester.email] = helpdesk.create_ticket(
                s.requester,
                s.subject,
                s.body,
                channel=s.channel,
                tags=s.tags,
            )
            titles[ids[s.requester.email]] = s.title

        pending.append((scenario.opens_at, open_ticket))
    pending.extend(_scripted_actions(helpdesk, ids, titles))
    pending.sort(key=lambda item: item[0])
    tick = START
    while tick <= END:
        while pending and pending[0][0] <= tick:
            when, act = pending.pop(0)
            clock.now = when
            act()
        clock.now = tick
        worker.poll()
        worker.sweep()
        tick += POLL_EVERY
    return DemoResult(helpdesk, titles)


def _who(role: AuthorRole, public: bool, name: str) -> str:
    if role is AuthorRole.WORKER:
        return "WORKER · e-mail ao cliente" if public else "WORKER · nota interna (ficha)"
    if role is AuthorRole.AGENT:
        return f"{name} · {'resposta pública' if public else 'nota interna'}"
    return f"{name} · e-mail do cliente"


def _indent(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.startswith(MARKER_PREFIX)]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join("    │ " + line if line else "    │" for line in lines)


def outcome_of(helpdesk: MemoryHelpdesk, ticket_id: str) -> str:
    ticket = helpdesk.ticket(ticket_id)
    history = read_history(ticket)
    if history.steps == 0:
        return "ignorado (não é cancelamento)"
    outcome = ticket.fields.get("outcome")
    labels = {
        "cancelado": "cancelado",
        "revertido": "revertido",
        "nao_cancelado": "não cancelado",
        "terceiro": "terceiro orientado",
    }
    if history.state.phase is Phase.DONE and ticket.tags & {helpdesk.config.tags.linked}:
        return "vinculado a outro ticket"
    if outcome in labels:
        return labels[outcome]
    return f"em andamento ({history.state.phase.value})"


def print_report(result: DemoResult, out: TextIO) -> None:
    helpdesk = result.helpdesk
    width = 100
    ordered = sorted(result.titles, key=int)
    for ticket_id in ordered:
        ticket = helpdesk.ticket(ticket_id)
        out.write("=" * width + "\n")
        out.write(f"Ticket #{ticket.id} — {result.titles[ticket_id]}\n")
        out.write(
            f"Assunto: {ticket.subject} · solicitante: {ticket.requester.name}"
            f" <{ticket.requester.email}>\n"
        )
        out.write("-" * width + "\n")
        for comment in ticket.comments:
            out.write(
                f"  {format_datetime(comment.created_at)}  "
                f"{_who(comment.role, comment.public, comment.author.name)}\n"
            )
            out.write(_indent(comment.body) + "\n")
        status = ticket.custom_status or ticket.status.value
        out.write(f"  → status final: {status} · tags: {', '.join(sorted(ticket.tags)) or '-'}\n\n")
    out.write("=" * width + "\nResumo\n" + "-" * width + "\n")
    header = f"{'Ticket':<8} {'Situação':<10} {'Resultado':<32} {'E-mails':>7} {'Notas':>6}  Status"
    out.write(header + "\n")
    for ticket_id in ordered:
        ticket = helpdesk.ticket(ticket_id)
        history = read_history(ticket)
        emails = sum(1 for e in helpdesk.outbox if e.ticket_id == ticket.id)
        status = (
            "resolvido"
            if ticket.status is StatusCategory.SOLVED
            else (ticket.custom_status or ticket.status.value)
        )
        out.write(
            f"#{ticket.id:<7} {history.state.situation or '-':<10} "
            f"{outcome_of(helpdesk, ticket.id):<32} {emails:>7} {history.steps:>6}  {status}\n"
        )
    keys = [(e.ticket_id, e.step) for e in helpdesk.outbox]
    out.write("-" * width + "\n")
    out.write(f"E-mails enviados: {len(keys)} · duplicados: {len(keys) - len(set(keys))}\n")
    out.write(f"Escritas no helpdesk: {helpdesk.writes} · leituras: {helpdesk.reads}\n")
