"""The engine's record of why it takes each step (`Step.why`), and `explain` printing it.

`explain` does not work the reasons out again: it prints the row of the procedure's table the
engine looked up for the step, the phases it went between and the events it consumed. These
tests hold it to the worker's own writes: what explain names for each step is what the worker
then writes and logs."""

from __future__ import annotations

import re

from tests.fakes.log_capture import logged
from tests.fakes.world import World, person
from worker.core.procedure.table import TABLE, Trigger
from worker.core.state import Phase, StepKey, parse_marker
from worker.explain import explain
from worker.procedure_page import markdown

MARIA = person("Maria Souza", "maria.souza@exemplo.com.br")
STEP = re.compile(r"^  (\d+:[\w-]+) — ")
ROW = re.compile(r"^     Linha (\d+) da tabela do procedimento · fase (\w+)(?: → (\w+)| \(fica\))$")


def explained_rows(text: str) -> list[tuple[str, int, Phase, Phase]]:
    """Each next step explain announces: its key, the table's row, the phases before and after."""
    found: list[tuple[str, int, Phase, Phase]] = []
    key = ""
    for line in text.split("O que o worker faria agora", 1)[1].splitlines():
        if step := STEP.match(line):
            key = step.group(1)
        elif row := ROW.match(line):
            before = Phase(row.group(2))
            found.append((key, int(row.group(1)), before, Phase(row.group(3) or before.value)))
    return found


def written(world: World, ticket: str) -> dict[str, tuple[Phase, Phase]]:
    """Each step the worker's notes record: its key, the phase before it and after it."""
    phases: dict[str, tuple[Phase, Phase]] = {}
    before = Phase.NEW
    for comment in world.ticket(ticket).comments:
        marker = parse_marker(comment.body) if not comment.public else None
        if marker is not None:
            phases[str(marker.step)] = (before, marker.state.phase)
            before = marker.state.phase
    return phases


def agree(world: World, ticket: str) -> list[tuple[str, int, Phase, Phase]]:
    """Explain, then the worker's run: the rows explain named are those the run's
    `ticket.handled` line names, each declares the step the written note records, and the
    note's phases are the ones explain said."""
    announced = explained_rows(explain(world.worker, ticket, world.clock()))
    assert announced, "explain announced steps"
    with logged() as lines:
        world.poll()
    (handled,) = [line for line in lines if line["event"] == "ticket.handled" and line["steps"]]
    assert handled["ticket_id"] == ticket
    assert list(zip(handled["steps"], handled["rows"], strict=True)) == [
        (key, row) for key, row, _, _ in announced
    ]
    notes = written(world, ticket)
    page = markdown()
    for key, row, before, after in announced:
        assert notes[key] == (before, after), f"{key}: the note's phases are explain's"
        declared = TABLE[row - 1]
        assert declared.kind is StepKey.parse(key).kind, f"{key}: row {row} is another kind"
        assert before in declared.phases and declared.leads_to(before, after)
        printed = [line for line in page.splitlines() if line.startswith(f"| {row} | ")]
        assert printed and all(declared.guard in line for line in printed), "the page's row"
    return announced


def test_explain_and_the_written_notes_agree_on_the_row_of_every_step_of_situation_1() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    (start,) = agree(world, ticket)
    assert start[0] == "1:inicio" and TABLE[start[1] - 1].trigger is Trigger.FIRST_SIGHT

    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.later(hours=1)
    calls = agree(world, ticket)
    assert [key for key, *_ in calls] == [
        "2:tentativa",
        "3:tentativa",
        "4:tentativa",
        "5:email-contato",
    ]
    assert {TABLE[row - 1].trigger for _, row, *_ in calls} == {Trigger.AGENT}

    world.later(days=4)
    (cancel,) = agree(world, ticket)
    assert cancel[0] == "6:cancelar-contrato"
    assert TABLE[cancel[1] - 1].trigger is Trigger.CLOCK, "the deadline's row, not #cancelar's"


def test_a_step_carries_the_events_it_consumed_and_explain_names_them() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.agent_says(ticket, "#tentativa")
    steps = world.worker.decide(world.ticket(ticket), world.clock())
    (attempt,) = steps
    assert attempt.why is not None
    assert attempt.why.before is Phase.CALLING and attempt.why.after is Phase.CALLING
    assert len(attempt.why.consumed) == 1 and attempt.why.consumed[0].startswith("c")
    assert attempt.why.section == "§3.2, §4.2" and attempt.why.guard == "#tentativa"
    text = explain(world.worker, ticket, world.clock())
    assert '     Trata: "#tentativa" de ' in text
    assert "     Por quê: um agente: #tentativa (§3.2, §4.2)" in text


def test_while_nothing_is_due_explain_lists_the_commands_the_table_takes_in_that_phase() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    calling = explain(world.worker, ticket, world.clock())
    assert "nada agora: Em atendimento, ligações ao cliente (0 de 3 registradas)" in calling
    assert "um agente pode: #tentativa, #revertido, #cancelar" in calling
    assert "#socio-confirmou" not in calling, "a command of Situação 2 only"
    world.agent_says(ticket, "#cancelar motivo: preço")
    world.poll()
    pending = explain(world.worker, ticket, world.clock())
    assert "nada agora: aguardando o cancelamento do contrato (#contrato-cancelado)" in pending
    assert "#contrato-cancelado" in pending.split("um agente pode:")[1]
    assert "#tentativa" not in pending.split("um agente pode:")[1]


def test_a_strangers_message_is_doubted_in_explain_in_the_engines_own_words() -> None:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.customer_writes(ticket, person("João Lima", "joao.lima@outra.com.br"), "Cancelem já")
    text = explain(world.worker, ticket, world.clock())
    (listed,) = [line for line in text.splitlines() if line.startswith("  - de João Lima")]
    assert listed.endswith(": j***@*** não é o solicitante nem uma pessoa da conta na ficha")
    world.poll()
    assert "joao.lima@outra.com.br não é o solicitante nem uma pessoa da conta" in "\n".join(
        world.notes(ticket)
    ), "the note the engine wrote says the same"
