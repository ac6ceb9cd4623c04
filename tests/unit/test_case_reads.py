"""What a decision reads beyond its ticket (`engine.reads`): the account's other tickets only
in the states whose decision can use them, and no more than the procedure asks of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.world import CNPJ, World, person
from worker.config import Config, ContractCancellation, ContractHttp
from worker.core.case import CaseReads, MissingRead
from worker.core.effects import RelatedQuery
from worker.core.engine import reads
from worker.core.model import Person, StatusCategory

MARIA = person("Maria Souza", "maria@exemplo.com.br")
ANA = person("Ana Ribeiro", "ana@padaria.com.br")
BRUNO = person("Bruno Ribeiro", "bruno@padaria.com.br")
CARLOS = person("Carlos Nunes", "carlos@technova.com.br")
FERNANDA = person("Fernanda Alves", "fernanda@technova.com.br")


def reads_now(world: World, ticket_id: str) -> CaseReads:
    ticket = world.ticket(ticket_id)
    ficha = world.worker.helpdesk.read_ficha(ticket)
    return reads(ticket, ficha, world.worker.settings, world.clock.now)


def calling() -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    return world, ticket


def test_a_new_holders_request_reads_the_open_cancellations_and_the_newer_tickets() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    needs = reads_now(world, ticket)
    assert needs.open_cancellations is not None and needs.open_cancellations.open_cancellations
    assert needs.account_tickets is not None
    assert needs.account_tickets.since <= world.ticket(ticket).created_at
    assert needs.requester_tickets is None and needs.contract is None
    assert len(needs.queries()) == 2


def test_a_ticket_that_is_no_request_reads_nothing() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA, "Boleto", "Podem mandar a segunda via do boleto?", tags=())
    assert reads_now(world, ticket) == CaseReads()


def test_a_solved_ticket_reads_nothing() -> None:
    world, ticket = calling()
    world.helpdesk.agent_sets(ticket, status=StatusCategory.SOLVED)
    assert reads_now(world, ticket) == CaseReads()


def test_a_calling_ticket_reads_the_account_tickets_since_it_and_nothing_else() -> None:
    world, ticket = calling()
    world.agent_says(ticket, "#tentativa")
    needs = reads_now(world, ticket)
    assert needs.account_tickets is not None
    assert (needs.open_cancellations, needs.requester_tickets, needs.contract) == (None,) * 3


def test_revertido_or_contrato_cancelado_reads_nothing_since_the_procedure_ends_there() -> None:
    world, ticket = calling()
    world.agent_says(ticket, "#revertido motivo: preço")
    assert reads_now(world, ticket) == CaseReads()
    world, ticket = calling()
    world.agent_says(ticket, "#cancelar motivo: preço")
    world.poll()
    world.agent_says(ticket, "#contrato-cancelado")
    assert reads_now(world, ticket) == CaseReads()


def test_manual_reads_nothing_until_retomar() -> None:
    world, ticket = calling()
    world.agent_says(ticket, "#manual")
    world.poll()
    world.customer_writes(ticket, MARIA, "Alguma novidade?")
    assert reads_now(world, ticket) == CaseReads()
    world.agent_says(ticket, "#retomar")
    assert reads_now(world, ticket).account_tickets is not None


def test_a_third_partys_new_message_reads_their_earlier_tickets_only() -> None:
    world = World()
    world.pj("TechNova", [CARLOS], others=[FERNANDA])
    ticket = world.opens(FERNANDA)
    first = reads_now(world, ticket)
    assert first.requester_tickets is not None and first.open_cancellations is None
    world.poll()
    world.customer_writes(ticket, FERNANDA, "Eu sou a titular!")
    needs = reads_now(world, ticket)
    assert needs.requester_tickets is not None
    assert needs.requester_tickets.emails == (FERNANDA.key,)
    assert (needs.open_cancellations, needs.account_tickets, needs.contract) == (None,) * 3


def test_a_contract_call_a_note_recorded_is_made_with_its_key() -> None:
    http = ContractHttp(url="https://contratos.test/cancelar")
    world = World(config=Config(contract_cancellation=ContractCancellation(mode="http", http=http)))
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: preço")
    world.poll()  # the note records the call; no contract system answers it here
    needs = reads_now(world, ticket)
    assert needs.contract is not None
    assert needs.contract.key == world.history(ticket).state.contract_key
    assert needs.contract.ticket_id == ticket


def test_a_query_another_covers_is_answered_from_it_not_read_again() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    people = (ANA.key, BRUNO.key)
    longer = RelatedQuery(people, now - timedelta(days=30))
    shorter = RelatedQuery(people, now - timedelta(days=2))
    open_only = RelatedQuery(people, now - timedelta(days=365), open_cancellations=True)
    needs = CaseReads(
        open_cancellations=open_only, account_tickets=shorter, requester_tickets=longer
    )
    assert needs.queries() == (open_only, longer), "open cancellations never answer all tickets"
    both = CaseReads(open_cancellations=RelatedQuery(people, now, True), account_tickets=longer)
    assert both.queries() == (longer,), "every ticket since earlier answers the open ones"


def test_retomar_on_a_ticket_its_first_step_sends_to_review_reads_the_account_tickets() -> None:
    """Found by the property machine: an agent had replied in public before the worker came, so
    the first step goes to review (agents were handling it), and the #retomar typed meanwhile
    adopts it in the same decision; the holder's procedure then looks at the account's newer
    tickets, which `reads` had not asked for (it walked a review only from a note)."""
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.customer_writes(ticket, MARIA, "Confirmo o cancelamento.")
    world.agent_says(ticket, "#retomar")
    world.agent_says(ticket, "Olá, vamos ligar para você hoje.", public=True)
    assert reads_now(world, ticket).account_tickets is not None
    world.worker.decide(world.ticket(ticket), world.clock())  # no MissingRead


# --- the property: whatever the snapshot, the decision finds what `reads` asked for ----------

TEXTS = ("Confirmo o cancelamento.", "Não autorizo.", "Vou pensar.", "Quero cancelar o contrato.")
NOTES = (
    "#retomar",
    "#manual",
    "#tentativa",
    "#cancelar motivo: preço",
    "#contrato-cancelado",
    "#iniciar-cancelamento",
    "#identidade-confirmada",
    "#socio-confirmou bruno@padaria.com.br",
    "#revertido motivo: preço",
)
Action = Callable[[World, str, Person], None]


def _public_reply(world: World, ticket: str, requester: Person) -> None:
    world.agent_says(ticket, "Olá, vamos ligar para você hoje.", public=True)


def _situation_set(situation: str) -> Action:
    return lambda world, ticket, _: world.helpdesk.agent_sets(
        ticket, fields={"situation": situation}
    )


ACTIONS: st.SearchStrategy[Action] = st.one_of(
    st.sampled_from(TEXTS).map(lambda t: lambda w, i, who: w.customer_writes(i, who, t)),
    st.sampled_from(NOTES).map(lambda n: lambda w, i, _: w.agent_says(i, n)),
    st.just(_public_reply),
    st.sampled_from(("titular", "socio", "terceiro")).map(_situation_set),
    st.just(lambda w, i, _: w.helpdesk.agent_sets(i, status=StatusCategory.PENDING)),
    st.just(lambda w, i, _: w.later(days=3)),
    st.just(lambda w, i, _: w.opens(ANA, "Re: Cancelamento do contrato", "Confirmo.")),
    st.just(lambda w, i, _: w.poll()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from((MARIA, ANA, CARLOS, FERNANDA)),
    st.sampled_from(("Cancelamento do contrato", "Dúvida sobre o contrato")),
    st.sampled_from((("cancelamento",), ())),
    st.lists(ACTIONS, max_size=10),
)
def test_a_decision_never_needs_what_reads_did_not_ask_for(
    requester: Person, subject: str, tags: tuple[str, ...], actions: list[Action]
) -> None:
    """Whatever agents, customers and the clock did, on a holder's, a partner's or a third
    party's ticket, with or without the worker's earlier steps: deciding on what `reads` asked
    for never raises `MissingRead` (the shell's `Worker.decide` answers only those queries)."""
    world = World()
    world.pf(MARIA)
    world.pj("Padaria", [ANA, BRUNO], registered="contato@padaria.com.br", document=CNPJ)
    world.pj("TechNova", [CARLOS], others=[FERNANDA], document=None)
    ticket = world.opens(requester, subject, "Quero cancelar o meu contrato.", tags=tags)
    for action in actions:
        action(world, ticket, requester)
        world.later(minutes=1)
    try:
        world.worker.decide(world.ticket(ticket), world.clock())
    except MissingRead as missing:  # pragma: no cover - the failure this test looks for
        raise AssertionError(str(missing)) from missing
