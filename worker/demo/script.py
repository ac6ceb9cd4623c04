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
PAULO = Customer("Paulo Mendes", "paulo.mendes@exemplo.com.br")
BEATRIZ = Customer("Beatriz Rocha", "beatriz.pessoal@exemplo.com.br")
GUSTAVO = Customer("Gustavo Lima", "gustavo@oficinaboavista.com.br")
LARISSA = Customer("Larissa Prado", "larissa@oficinaboavista.com.br")
COMPRAS = Customer("Setor de Compras", "compras@oficinaboavista.com.br")
OTAVIO = Customer("Otávio Reis", "otavio@estudiolumen.com.br")
VERA = Customer("Vera Lúcia Campos", "vera@estudiolumen.com.br")

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
    CustomerAccount("Paulo Mendes", "347.712.783-85", PAULO.email, (Seat(PAULO, holder=True),)),
    CustomerAccount(
        "Beatriz Rocha",
        "161.973.070-73",
        "beatriz.rocha@exemplo.com.br",  # she writes from another address
        (Seat(BEATRIZ, holder=True),),
    ),
    CustomerAccount(
        "Oficina Boa Vista Ltda",
        "52.992.312/0001-22",
        "adm@oficinaboavista.com.br",
        (Seat(GUSTAVO, partner=True), Seat(LARISSA, partner=True), Seat(COMPRAS)),
    ),
    CustomerAccount(
        "Estúdio Lumen Ltda",
        "87.366.946/0001-54",
        "contato@estudiolumen.com.br",
        (Seat(OTAVIO, partner=True), Seat(VERA, partner=True)),
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
    Scenario(
        "#manual e #retomar: um agente assume o ticket, devolve, e o cliente fica",
        PAULO,
        "Cancelar contrato",
        "Quero cancelar, o sistema não abre desde sexta.",
        at(8, 9, 0),
    ),
    Scenario(
        "#identidade-confirmada: sem resposta, pedido fora do e-mail de cadastro → cancelado",
        BEATRIZ,
        "Cancelamento",
        "Por favor, cancelem o meu contrato. Beatriz",
        at(8, 9, 15),
    ),
    Scenario(
        "Situação 2: a outra sócia confirma por telefone (#socio-confirmou) → cancelado",
        GUSTAVO,
        "Cancelamento do contrato da oficina",
        "Queremos cancelar o contrato da Oficina Boa Vista. Gustavo Lima, sócio.",
        at(8, 9, 30),
    ),
    Scenario(
        "Situação 2: a outra sócia recusa → um agente decide",
        OTAVIO,
        "Cancelar contrato do estúdio",
        "Gostaria de cancelar o contrato do Estúdio Lumen. Otávio Reis",
        at(8, 9, 45),
    ),
    Scenario(
        "Situação 3: respostas automáticas em sequência → o worker corta o loop",
        COMPRAS,
        "Cancelamento do contrato",
        "Por favor, cancelem o contrato da oficina. Setor de Compras",
        at(9, 9, 0),
    ),
)

_AWAY = "Resposta automática: estou fora do escritório até 14/12. Setor de Compras"

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
    AgentNote(at(8, 9, 30), PAULO, "#manual\nVou tratar por telefone com o cliente."),
    CustomerEmail(at(8, 11, 0), PAULO, PAULO, "Podem me ligar depois das 14h?"),
    AgentNote(at(9, 9, 0), PAULO, "#retomar"),
    AgentNote(at(9, 10, 0), PAULO, "#revertido motivo: Atendimento - acesso ao sistema resolvido"),
    AgentNote(
        at(8, 10, 0),
        BEATRIZ,
        "#identidade-confirmada\nConfirmei CPF e endereço por telefone; a ligação caiu depois.",
    ),
    AgentNote(at(8, 10, 30), BEATRIZ, "#tentativa"),
    AgentNote(at(8, 13, 0), BEATRIZ, "#tentativa"),
    AgentNote(at(8, 15, 30), BEATRIZ, "#tentativa"),
    AgentNote(at(11, 10, 0), BEATRIZ, "#contrato-cancelado"),
    AgentNote(at(8, 10, 15), GUSTAVO, "#cancelar motivo: Mudança de fornecedor"),
    AgentNote(
        at(8, 15, 0),
        GUSTAVO,
        "#socio-confirmou larissa@oficinaboavista.com.br\nLarissa confirmou em ligação gravada.",
    ),
    AgentNote(at(9, 11, 0), GUSTAVO, "#contrato-cancelado"),
    AgentNote(at(8, 10, 45), OTAVIO, "#cancelar motivo: Preço"),
    CustomerEmail(at(8, 16, 0), OTAVIO, VERA, "Não autorizo o cancelamento. Vera" + _QUOTED),
    CustomerEmail(at(9, 9, 30), COMPRAS, COMPRAS, _AWAY),
    CustomerEmail(at(9, 10, 30), COMPRAS, COMPRAS, _AWAY),
    CustomerEmail(at(9, 11, 30), COMPRAS, COMPRAS, _AWAY),
    CustomerEmail(at(9, 12, 30), COMPRAS, COMPRAS, _AWAY),
)


def timeline() -> list[Action]:
    """Every ticket opened and every action, in the order they happen (ties: tickets first)."""
    actions: list[Action] = [*SCENARIOS, *ACTIONS]
    return sorted(actions, key=lambda action: action.at)
