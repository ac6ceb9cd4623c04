"""The demo's week as data: the customers' accounts, the tickets they open and what agents and
customers do, and when. Nothing here knows the helpdesk; `world` plays it on the sandbox.

The people, companies and documents are fictitious (the CPFs and CNPJs only pass the check
digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.core.calendar import SAO_PAULO

START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday
END = datetime(2026, 12, 11, 18, 0, tzinfo=SAO_PAULO)
POLL_EVERY = timedelta(minutes=15)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the demo's week: day 7 is Monday 7 December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SAO_PAULO)


@dataclass(frozen=True)
class Customer:
    name: str
    email: str


@dataclass(frozen=True)
class Seat:
    """A person on an account's ficha, with the marks that give them rights over the contract."""

    person: Customer
    holder: bool = False
    partner: bool = False


@dataclass(frozen=True)
class CustomerAccount:
    name: str
    document: str  # CPF or CNPJ
    registered_email: str
    seats: tuple[Seat, ...]


@dataclass(frozen=True)
class Scenario:
    """A ticket the demo opens, and the branch of the procedure it shows."""

    title: str
    requester: Customer
    subject: str
    body: str
    at: datetime
    tags: tuple[str, ...] = ()
    channel: str = "email"


@dataclass(frozen=True)
class AgentNote:
    """An agent's internal note on the ticket `ticket_of` opened (commands go in notes)."""

    at: datetime
    ticket_of: Customer
    text: str


@dataclass(frozen=True)
class CustomerEmail:
    """An e-mail landing on the ticket `ticket_of` opened: the requester's reply, or a partner's
    reply to the e-mail they were copied on."""

    at: datetime
    ticket_of: Customer
    author: Customer
    text: str


Action = Scenario | AgentNote | CustomerEmail

MARIA = Customer("Maria Souza", "maria.souza@exemplo.com.br")
JOAO = Customer("João Lima", "joao.lima@exemplo.com.br")
HELENA = Customer("Helena Castro", "helena.pessoal@exemplo.com.br")
ANA = Customer("Ana Ribeiro", "ana@paoquente.com.br")
BRUNO = Customer("Bruno Ribeiro", "bruno@paoquente.com.br")
CARLA = Customer("Carla Mendes", "carla@paoquente.com.br")
RUI = Customer("Rui Tavares", "rui@horizontecontabil.com.br")
SOFIA = Customer("Sofia Prado", "sofia@horizontecontabil.com.br")
CARLOS = Customer("Carlos Nunes", "carlos@technova.com.br")
FERNANDA = Customer("Fernanda Alves", "fernanda@technova.com.br")
LUIZ = Customer("Luiz Ferreira", "luiz.ferreira@exemplo.com.br")
MARCOS = Customer("Marcos Dias", "marcos.dias@exemplo.com.br")

# People who write in but are on no account's ficha.
STRANGERS = (LUIZ, MARCOS)

ACCOUNTS = (
    CustomerAccount("Maria Souza", "529.982.247-25", MARIA.email, (Seat(MARIA, holder=True),)),
    CustomerAccount("João Lima", "111.444.777-35", JOAO.email, (Seat(JOAO, holder=True),)),
    CustomerAccount(
        "Helena Castro",
        "935.411.347-80",
        "helena.castro@exemplo.com.br",  # she writes from another address
        (Seat(HELENA, holder=True),),
    ),
    CustomerAccount(
        "Padaria Pão Quente Ltda",
        "12.ABC.345/01DE-35",  # the alphanumeric CNPJ
        "financeiro@paoquente.com.br",
        (Seat(ANA, partner=True), Seat(BRUNO, partner=True), Seat(CARLA, partner=True)),
    ),
    CustomerAccount(
        "Horizonte Contabilidade S/S",
        "11.222.333/0001-81",
        "contato@horizontecontabil.com.br",
        (Seat(RUI, partner=True), Seat(SOFIA, partner=True)),
    ),
    CustomerAccount(
        "TechNova Sistemas Ltda",
        "45.723.174/0001-10",
        "adm@technova.com.br",
        (Seat(CARLOS, partner=True), Seat(FERNANDA)),
    ),
)

SCENARIOS = (
    Scenario(
        "Situação 1: cliente não atende nem responde; pedido do e-mail de cadastro → cancelado",
        MARIA,
        "Quero cancelar meu contrato",
        "Olá, quero cancelar o meu contrato a partir deste mês. Obrigada, Maria.",
        at(7, 9, 5),
    ),
    Scenario(
        "Situação 1: ligação atendida, cliente revertido",
        JOAO,
        "Cancelamento",
        "Bom dia. Gostaria de cancelar o serviço. João Lima",
        at(7, 9, 20),
        ("cancelamento",),
        "web",
    ),
    Scenario(
        "Situação 1: sem resposta e pedido fora do e-mail de cadastro → não cancelado",
        HELENA,
        "Cancelar assinatura",
        "Quero cancelar a assinatura, por favor.",
        at(7, 9, 40),
    ),
    Scenario(
        "Situação 2: todos os sócios confirmam → cancelado",
        ANA,
        "Encerramento do contrato da padaria",
        "Prezados, vamos encerrar o contrato da Padaria Pão Quente. Ana Ribeiro, sócia.",
        at(7, 10, 0),
        ("cancelamento",),
    ),
    Scenario(
        "Situação 2: prazo vence sem todas as confirmações → não cancelado",
        RUI,
        "Rescisão contratual",
        "Solicito a rescisão do nosso contrato. Rui Tavares.",
        at(7, 11, 0),
    ),
    Scenario(
        "Situação 3: terceiro pede e depois diz ser o titular",
        FERNANDA,
        "Cancelar contrato TechNova",
        "Oi, preciso cancelar o contrato da empresa. Fernanda, do administrativo.",
        at(7, 13, 0),
    ),
    Scenario(
        "Dados faltando: solicitante fora de qualquer ficha",
        LUIZ,
        "Solicito cancelamento",
        "Solicito o cancelamento do meu plano.",
        at(7, 14, 0),
    ),
    Scenario(
        'Não é cancelamento de contrato: "cancelar boleto" (ignorado)',
        MARCOS,
        "Cancelar boleto duplicado",
        "Recebi dois boletos, podem cancelar o boleto duplicado?",
        at(7, 15, 0),
    ),
    Scenario(
        "Situação 2: sócia confirma por um novo e-mail (vinculado ao primeiro ticket)",
        CARLA,
        "Cancelamento Padaria Pão Quente",
        "Confirmo o cancelamento do contrato. Carla",
        at(8, 13, 0),
    ),
)

_QUOTED = (
    "\n\nEm seg., 7 de dez. de 2026 às 11:16, Atendimento <suporte@suaempresa.com.br>"
    " escreveu:\n"
    "> Pedimos que cada sócio-administrador confirme o cancelamento respondendo a este e-mail."
)

ACTIONS: tuple[AgentNote | CustomerEmail, ...] = (
    AgentNote(at(7, 10, 0), MARIA, "#tentativa"),
    AgentNote(at(7, 10, 30), JOAO, "#tentativa\nCaixa postal."),
    AgentNote(at(7, 10, 45), HELENA, "#tentativa"),
    AgentNote(
        at(7, 11, 15), ANA, "#cancelar motivo: Encerramento da empresa - a padaria vai fechar"
    ),
    AgentNote(at(7, 11, 30), RUI, "#tentativa"),
    AgentNote(at(7, 14, 0), MARIA, "#tentativa"),
    AgentNote(at(7, 14, 10), HELENA, "#tentativa\n#tentativa"),
    AgentNote(at(7, 15, 0), JOAO, "#revertido motivo: Preço - ofereci 20% de desconto por 6 meses"),
    AgentNote(at(7, 15, 30), RUI, "#tentativa"),
    CustomerEmail(at(7, 16, 0), FERNANDA, FERNANDA, "Eu sou a titular, por favor cancelem."),
    CustomerEmail(at(8, 8, 40), ANA, BRUNO, "Confirmo o cancelamento." + _QUOTED),
    AgentNote(at(8, 9, 30), RUI, "#tentativa"),
    AgentNote(at(8, 10, 0), MARIA, "#tentativa"),
    CustomerEmail(at(8, 11, 0), RUI, SOFIA, "Vou conversar com o Rui antes de decidir." + _QUOTED),
    AgentNote(at(8, 15, 0), ANA, "#contrato-cancelado"),
    AgentNote(at(8, 15, 5), HELENA, "#tentaiva"),  # a typo: the worker says what it understands
    AgentNote(at(11, 9, 30), MARIA, "#contrato-cancelado"),
)


def timeline() -> list[Action]:
    """Every ticket opened and every action, in the order they happen (ties: tickets first)."""
    actions: list[Action] = [*SCENARIOS, *ACTIONS]
    return sorted(actions, key=lambda action: action.at)
