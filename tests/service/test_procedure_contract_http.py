"""Contract cancellation through the company's system (`contract_cancellation.mode: http`):
once every confirmation is in, the worker records the call, makes it (signed, with a key
derived from the ticket and step), and e-mails the customer only after the system said yes;
a refusal or an outage hands the ticket to an agent as manual mode would.

The system here is the sandbox's stand-in behind the real HTTP adapter (in-process, no
socket): it verifies every signature and dedupes on the key, so "cancelled once" is counted
where it happens. Runs on every helpdesk (WORLD_BACKEND)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.backend import HookedHelpdesk
from tests.fakes.world import World, person, worker_comments
from worker.config import Config, ContractCancellation, ContractHttp
from worker.contract.memory import in_memory
from worker.core.effects import ContractAnswer, ContractRequest
from worker.core.model import Ticket
from worker.core.state import Phase
from worker.explain import explain
from worker.ports import ContractSystem, Helpdesk, RenderedStep
from worker.sandbox.contracts import ContractStandIn

MARIA = person("Maria Souza", "maria@exemplo.com.br")
ANA = person("Ana Lima", "ana@padaria.com.br")
BRUNO = person("Bruno Reis", "bruno@padaria.com.br")
ENDPOINT = ContractHttp(url="https://contratos.test/cancelar", max_attempts=3)
SECRET = "segredo-do-sistema-de-contratos"


class Crash(BaseException):
    """The process dies here: nothing after it runs, nothing catches it."""


def http_world(
    wrap: Callable[[ContractSystem], ContractSystem] = lambda system: system,
) -> tuple[World, ContractStandIn]:
    config = Config(contract_cancellation=ContractCancellation(mode="http", http=ENDPOINT))
    world = World(config=config)
    stand_in = ContractStandIn(SECRET)
    restart(world, wrap(in_memory(ENDPOINT, stand_in)))
    return world, stand_in


def restart(world: World, contract: ContractSystem, helpdesk: Helpdesk | None = None) -> None:
    """A new worker process: nothing kept but what the tickets (and the system) hold."""
    hooked = world.helpdesk
    if isinstance(hooked, HookedHelpdesk):  # over HTTP: the adapter's memory goes too
        journal_kept = getattr(hooked.world, "restart", None)  # Freshdesk's keeps its journal
        if journal_kept is not None:
            journal_kept()
        else:
            hooked.adapter = hooked.world.new_adapter()[0]
    world.app = world.wire(contract=contract, helpdesk=helpdesk)


def dies_after_the_call(system: ContractSystem) -> ContractSystem:
    """The system cancels; the worker's process dies before it hears the answer."""

    class Dying:
        def cancel(self, request: ContractRequest) -> ContractAnswer:
            system.cancel(request)
            raise Crash

    return Dying()


def holder_ticket(world: World) -> str:
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    return ticket


def holder_cancels_by_phone(world: World, ticket: str | None = None) -> str:
    ticket = ticket or holder_ticket(world)
    world.agent_says(ticket, "#cancelar motivo: não usa mais")
    world.poll()
    return ticket


def system_notes(world: World, ticket: str) -> list[str]:
    return [n for n in world.notes(ticket) if "sistema de contratos" in n]


def test_confirmed_cancellation_is_sent_to_the_system_and_confirmed_to_the_customer() -> None:
    world, stand_in = http_world()
    ticket = holder_cancels_by_phone(world)
    assert list(stand_in.cancelled) == [f"{world.config.helpdesk}-{ticket}-2"]
    assert world.email_templates(ticket) == ["cancelado"]
    assert world.status(ticket) == "solved"
    tags = world.ticket(ticket).tags
    assert "cancelamento-cancelado" in tags and "cancelamento-executar" not in tags
    assert "Registrado por: sistema de contratos" in world.last_note(ticket)
    world.poll()
    assert stand_in.requests == 1, "a cancelled contract is never asked again"


def test_the_email_goes_out_only_after_the_ticket_records_the_systems_yes() -> None:
    world, _ = http_world()
    ticket = holder_cancels_by_phone(world)
    comments = worker_comments(world.ticket(ticket))
    yes = next(n for n, c in enumerate(comments) if "Contrato cancelado pelo sistema" in c.body)
    email = next(n for n, c in enumerate(comments) if c.public)
    asked = next(n for n, c in enumerate(comments) if "pedido enviado ao sistema" in c.body)
    assert asked < yes < email


def test_all_partners_confirming_sends_the_cancellation_and_copies_them() -> None:
    world, stand_in = http_world()
    world.pj("Padaria", [ANA, BRUNO])
    ticket = world.opens(ANA)
    world.poll()
    world.agent_says(ticket, "#cancelar motivo: fechou a loja")
    world.poll()
    assert stand_in.cancelled == {}
    world.customer_writes(ticket, BRUNO, "Confirmo o cancelamento.")
    world.poll()
    assert len(stand_in.cancelled) == 1
    assert world.email_templates(ticket) == ["pedido-socios", "cancelado"]
    assert world.emails(ticket)[-1].cc == (BRUNO.email,)


def test_a_refusal_hands_the_ticket_to_an_agent_at_once_without_an_email() -> None:
    world, stand_in = http_world()
    stand_in.fail = [422]
    ticket = holder_cancels_by_phone(world)
    assert stand_in.requests == 1, "a 4xx is final: no retry"
    note = world.last_note(ticket)
    assert "O sistema recusou o pedido (HTTP 422): falha simulada (422)" in note
    assert "#contrato-cancelado" in note
    assert "cancelamento-executar" in world.ticket(ticket).tags
    assert world.emails(ticket) == []
    world.poll()
    assert stand_in.requests == 1, "handed over: the worker does not call again"
    world.agent_says(ticket, "#contrato-cancelado")
    world.poll()
    assert world.email_templates(ticket) == ["cancelado"]
    assert "Registrado por: sistema de contratos" not in world.last_note(ticket)


def test_server_errors_are_retried_and_a_late_success_still_confirms() -> None:
    world, stand_in = http_world()
    stand_in.fail = [503, 502]
    ticket = holder_cancels_by_phone(world)
    assert stand_in.requests == 3
    assert world.email_templates(ticket) == ["cancelado"]


def test_server_errors_on_every_attempt_hand_the_ticket_to_an_agent() -> None:
    world, stand_in = http_world()
    stand_in.fail = [503, 503, 503]
    ticket = holder_cancels_by_phone(world)
    assert stand_in.requests == ENDPOINT.max_attempts
    note = world.last_note(ticket)
    assert "não respondeu com sucesso depois de 3 tentativas" in note
    assert "(HTTP 503)" in note
    assert "cancelamento-executar" in world.ticket(ticket).tags
    assert world.emails(ticket) == []
    assert world.history(ticket).state.phase is Phase.CANCEL_PENDING


def test_timeouts_on_every_attempt_hand_the_ticket_to_an_agent() -> None:
    world, stand_in = http_world()
    stand_in.hang = 3
    ticket = holder_cancels_by_phone(world)
    assert stand_in.cancelled == {}
    assert "no answer within 10 s" in world.last_note(ticket)
    assert "cancelamento-executar" in world.ticket(ticket).tags


def test_a_lost_answer_is_sent_again_with_the_same_key_and_cancels_once() -> None:
    world, stand_in = http_world()
    stand_in.drop = 1
    ticket = holder_cancels_by_phone(world)
    assert stand_in.requests == 2, "the answer was lost: the same request again"
    assert len(stand_in.cancelled) == 1, "the system deduped it"
    assert world.email_templates(ticket) == ["cancelado"]


def crashed_after_the_call() -> tuple[World, ContractStandIn, str]:
    """The system cancelled; the process died before the ticket recorded its answer."""
    world, stand_in = http_world(dies_after_the_call)
    ticket = holder_ticket(world)
    with pytest.raises(Crash):
        holder_cancels_by_phone(world, ticket)
    return world, stand_in, ticket


def test_a_crash_between_the_call_and_its_note_resends_the_same_key_and_emails_once() -> None:
    world, stand_in, ticket = crashed_after_the_call()
    assert len(stand_in.cancelled) == 1 and world.emails(ticket) == []
    assert world.history(ticket).state.contract_key in stand_in.cancelled
    restart(world, in_memory(ENDPOINT, stand_in))
    world.poll()
    assert stand_in.requests == 2
    assert len(stand_in.cancelled) == 1
    assert world.email_templates(ticket) == ["cancelado"]
    world.poll()
    assert world.email_templates(ticket) == ["cancelado"]


def test_a_crash_after_the_systems_yes_is_noted_sends_the_email_without_calling_again() -> None:
    world, stand_in = http_world()

    class DiesBeforeTheEmail:
        def __init__(self, helpdesk: Helpdesk) -> None:
            self.helpdesk = helpdesk

        def __getattr__(self, name: str) -> object:
            return getattr(self.helpdesk, name)

        def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
            if step.key.endswith(":cancelado"):
                raise Crash
            return self.helpdesk.apply_step(ticket, step)

    ticket = holder_ticket(world)
    dying = DiesBeforeTheEmail(world.helpdesk)
    restart(world, in_memory(ENDPOINT, stand_in), dying)  # type: ignore[arg-type]
    with pytest.raises(Crash):
        holder_cancels_by_phone(world, ticket)
    assert world.emails(ticket) == []
    assert world.history(ticket).state.contract_cancelled
    restart(world, in_memory(ENDPOINT, stand_in))
    world.poll()
    assert stand_in.requests == 1, "the answer is in the ticket: no second call"
    assert world.email_templates(ticket) == ["cancelado"]


def test_explain_says_the_owed_call_and_makes_none() -> None:
    world, stand_in, ticket = crashed_after_the_call()
    dry = world.wire(contract=in_memory(ENDPOINT, stand_in), dry_run=True)
    text = explain(dry.worker, ticket, world.clock())
    assert f"pedir o cancelamento ao sistema de contratos (chave {world.config.helpdesk}-" in text
    assert stand_in.requests == 1, "explain only reads"
