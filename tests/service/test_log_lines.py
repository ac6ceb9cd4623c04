"""What an operator reads in the log: one `ticket.handled` line per ticket handled, every line
logged meanwhile bound to its `ticket_id`, and event names that are constants one can grep and
alert on (the values go in fields). docs/operations.md documents the lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import structlog

from tests.fakes.log_capture import Line, logged
from tests.fakes.world import MemoryWorld, person
from worker.config import Config, Safety
from worker.core.model import Ficha, Ticket
from worker.ports import HelpdeskError, TicketGone

MARIA = person("Maria Souza", "maria.souza@exemplo.com.br")
WORKER_SOURCE = Path(__file__).resolve().parents[2] / "worker"
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "msg"}
HANDLED_FIELDS = {
    "event",
    "log_level",
    "ticket_id",
    "job",
    "outcome",
    "situation",
    "phase_before",
    "phase_after",
    "steps",
    "kinds",
    "rows",
    "emails",
    "conflicts",
    "duration_ms",
}


def handled(lines: list[Line], ticket: str) -> list[Line]:
    return [e for e in lines if e["event"] == "ticket.handled" and e["ticket_id"] == ticket]


def holder(world: MemoryWorld | None = None) -> tuple[MemoryWorld, str]:
    world = world or MemoryWorld()
    world.pf(MARIA)
    return world, world.opens(MARIA)


def non_literal_events(source: str) -> list[int]:
    """Lines of `source` where a log call's event is not a string literal."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
        if name not in ("log", "logger"):
            continue
        position = 1 if node.func.attr == "log" else 0
        if node.func.attr != "log" and node.func.attr not in LOG_METHODS:
            continue
        event = node.args[position] if len(node.args) > position else None
        if not (isinstance(event, ast.Constant) and isinstance(event.value, str)):
            found.append(node.lineno)
    return found


def test_every_log_event_in_the_worker_is_a_string_literal() -> None:
    offenders = {
        str(path.relative_to(WORKER_SOURCE.parent)): lines
        for path in sorted(WORKER_SOURCE.rglob("*.py"))
        if (lines := non_literal_events(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "event names are constants; the values go in fields"


def test_the_static_event_check_finds_an_f_string_a_concatenation_and_a_variable() -> None:
    source = 'log.warning(f"paused: no {name}")\nlog.info("a" + b)\nlog.warning(problem)\n'
    source += 'log.log(20, "fine")\nlog.info("fine", ticket_id=t)\nlogger.error(x)\n'
    assert non_literal_events(source) == [1, 2, 3, 6]


def test_a_ticket_handled_by_the_poll_ends_in_one_line_that_says_what_became_of_it() -> None:
    world, ticket = holder()
    with logged() as lines:
        world.poll()
    (line,) = handled(lines, ticket)
    assert set(line) == HANDLED_FIELDS, "ids, phases and step kinds only: no text of the ticket"
    assert line["job"] == "poll" and line["outcome"] == "written"
    assert line["situation"] == "titular"
    assert (line["phase_before"], line["phase_after"]) == ("novo", "ligando")
    assert line["steps"] == ["1:inicio"] and line["kinds"] == ["inicio"]
    assert len(line["rows"]) == 1 and line["emails"] == 0 and line["conflicts"] == 0
    assert isinstance(line["duration_ms"], int) and line["log_level"] == "info"
    assert lines[-1]["event"] != "ticket.handled" or lines[-1] is line


def test_the_contact_email_is_counted_and_the_steps_named_by_kind() -> None:
    world, ticket = holder()
    world.poll()
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    with logged() as lines:
        world.poll()
    (line,) = handled(lines, ticket)
    assert line["kinds"] == ["tentativa", "tentativa", "tentativa", "email-contato"]
    assert line["emails"] == 1
    assert (line["phase_before"], line["phase_after"]) == ("ligando", "aguardando_cliente")


def test_every_line_logged_while_a_ticket_is_handled_carries_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, ticket = holder()
    read_ficha = world.helpdesk.read_ficha

    def noisy(fetched: Ticket) -> Ficha:
        structlog.get_logger("worker.adapter").info("adapter read the ficha")
        return read_ficha(fetched)

    monkeypatch.setattr(world.helpdesk, "read_ficha", noisy)
    with logged() as lines:
        world.poll()
    (adapter,) = [e for e in lines if e["event"] == "adapter read the ficha"]
    assert adapter["ticket_id"] == ticket and adapter["job"] == "poll"
    assert all("ticket_id" not in e for e in lines if e["event"] == "job finished")


def test_the_sweep_and_a_webhook_name_their_job() -> None:
    world, ticket = holder()
    with logged() as lines:
        world.worker.wake(ticket, world.clock())
        world.worker.sweep(world.clock())
    assert [e["job"] for e in handled(lines, ticket)] == ["webhook"]
    world.agent_says(ticket, "#tentativa\n#tentativa\n#tentativa")
    world.poll()
    world.later(days=4)
    with logged() as lines:
        world.worker.sweep(world.clock())
    (line,) = handled(lines, ticket)
    assert line["job"] == "sweep" and line["kinds"] == ["cancelar-contrato"]


def test_a_dry_run_says_dry_run_and_a_ticket_with_nothing_due_says_nothing() -> None:
    world, ticket = holder()
    world.app = world.wire(dry_run=True)
    with logged() as lines:
        world.poll()
    assert handled(lines, ticket)[0]["outcome"] == "dry-run"
    world.app = world.wire()
    world.poll()
    with logged() as lines:
        world.worker.wake(ticket, world.clock())
    (line,) = handled(lines, ticket)
    assert line["outcome"] == "nothing" and line["steps"] == []
    assert line["phase_before"] == line["phase_after"] == "ligando"


def test_a_ticket_outside_the_allow_list_says_so() -> None:
    world, ticket = holder(MemoryWorld(config=Config(safety=Safety(only_tickets=["999"]))))
    with logged() as lines:
        world.poll()
    (line,) = handled(lines, ticket)
    assert line["outcome"] == "skipped-outside-allow-list" and line["steps"] == []


def test_a_ticket_gone_or_failing_says_so_and_a_failure_is_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, ticket = holder()

    def gone(ticket_id: str, header: object = None) -> Ticket:
        raise TicketGone(f"ticket {ticket_id} was deleted")

    monkeypatch.setattr(world.helpdesk, "read_ticket", gone)
    with logged() as lines:
        world.worker.wake(ticket, world.clock())
    assert [e["outcome"] for e in handled(lines, ticket)] == ["gone"]

    def down(ticket_id: str, header: object = None) -> Ticket:
        raise HelpdeskError("503 from the helpdesk")

    monkeypatch.setattr(world.helpdesk, "read_ticket", down)
    with logged() as lines:
        world.worker.wake(ticket, world.clock())
    (line,) = handled(lines, ticket)
    assert line["outcome"] == "failed" and line["log_level"] == "warning"
