"""The operator's switches and the worker's behaviour on a ticket it cannot decide: a pause
stops every write, the e-mail cap trips the pause, the allow-list limits a roll-out, a failing
ticket is noted once and never blocks the others, and logs stay free of personal data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.fakes.world import World, person
from worker import logs
from worker.config import Config, Safety
from worker.core.model import Ficha, Ticket
from worker.safety import Guard
from worker.service import ERROR_MARK, Worker
from worker.state_dir import PollPlaceFile

CARLOS = person("Carlos Nunes", "carlos@technova.com.br")


def world_with(tmp_path: Path, **safety: object) -> World:
    world = World(config=Config(safety=Safety.model_validate(safety)))
    world.app = world.wire(guard=Guard(world.config.safety, tmp_path / "PAUSE", world.clock))
    return world


def third_parties(world: World, count: int) -> list[str]:
    """Each gets an e-mail at once (Situação 3), so e-mails are easy to count."""
    others = [person(f"Pessoa {n}", f"pessoa{n}@technova.com.br") for n in range(count)]
    world.pj("TechNova", [CARLOS], others=others)
    return [world.opens(other) for other in others]


def test_the_email_cap_pauses_the_worker_and_leaves_the_rest_for_later(tmp_path: Path) -> None:
    world = world_with(tmp_path, max_emails_per_run=2)
    tickets = third_parties(world, 4)
    world.worker.guard.start_run()
    report = world.worker.poll(world.clock())
    assert len(world.helpdesk.outbox) == 2
    assert report.paused is not None and "max_emails_per_run" in report.paused
    assert "max_emails_per_run" in (tmp_path / "PAUSE").read_text()
    world.worker.guard.start_run()
    # stays paused until an operator looks
    assert world.worker.poll(world.clock()).paused is not None
    assert len(world.helpdesk.outbox) == 2
    (tmp_path / "PAUSE").unlink()
    world.worker.run_once(world.clock())
    assert {e.ticket_id for e in world.helpdesk.outbox} == set(tickets)


@pytest.mark.parametrize("how", ["file", "config"])
def test_a_pause_stops_every_write_and_keeps_the_cursor(tmp_path: Path, how: str) -> None:
    world = world_with(tmp_path, paused=how == "config")
    if how == "file":
        (tmp_path / "PAUSE").write_text("manutenção\n")
    third_parties(world, 2)
    writes, cursor = world.helpdesk.writes, world.worker.cursor
    report = world.worker.run_once(world.clock())
    assert report.paused is not None
    assert world.helpdesk.writes == writes and world.worker.cursor == cursor


def test_the_allow_list_acts_only_on_the_listed_tickets(tmp_path: Path) -> None:
    world = world_with(tmp_path, only_tags=["piloto"])
    world.pj("TechNova", [CARLOS], others=[person("Ana", "ana@technova.com.br")])
    pilot = world.opens(person("Ana", "ana@technova.com.br"), tags=("cancelamento", "piloto"))
    other = world.opens(CARLOS)
    world.poll()
    assert world.notes(pilot) and not world.notes(other)


def test_widening_the_allow_list_rescans_from_the_lookback(tmp_path: Path) -> None:
    place = PollPlaceFile(tmp_path / "poll.json")
    narrow = Config(safety=Safety(only_tickets=["999"]))
    world = World(config=narrow)
    world.pj("TechNova", [CARLOS])
    ticket = world.opens(CARLOS)
    world.app = world.wire(config=narrow, place_file=place)
    world.poll()
    assert world.notes(ticket) == []  # outside the pilot; the cursor moved past it
    wide = Config()
    world.app = world.wire(config=wide, place_file=place)
    assert world.worker.cursor is None  # a different scope starts from the look-back
    world.poll()
    assert len(world.notes(ticket)) == 1


def test_a_ticket_that_cannot_be_decided_is_noted_once_and_never_blocks_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = world_with(tmp_path)
    world.pf(CARLOS)
    broken = world.opens(CARLOS)
    fine = world.opens(person("Bia", "bia@exemplo.com.br"))
    original = Worker.decide

    def fails_on_broken(
        self: Worker, ticket: Ticket, now: datetime, ficha: Ficha | None = None
    ) -> object:
        if ticket.id == broken:
            raise KeyError("documento de 529.982.247-25 carlos@technova.com.br")
        return original(self, ticket, now, ficha)

    monkeypatch.setattr(Worker, "decide", fails_on_broken)
    report = world.poll()
    assert report.failed == [broken]
    assert world.notes(fine)  # the other ticket went on
    notes = [c.body for c in world.ticket(broken).comments]
    assert len(notes) == 2 and ERROR_MARK in notes[-1]
    assert "cancelamento-revisar" in world.ticket(broken).tags
    assert "529.982.247-25" not in notes[-1] and "carlos@" not in notes[-1]
    # the same failure again: no second note
    world.worker._handle_into(broken, world.clock(), report)
    assert len(world.ticket(broken).comments) == 2


def test_a_ticket_deleted_while_waiting_for_a_retry_is_dropped_not_retried_forever(
    tmp_path: Path,
) -> None:
    world = world_with(tmp_path)
    world.pf(CARLOS)
    ticket = world.opens(CARLOS)
    world.helpdesk.fail_next_writes = 1
    assert world.poll().failed == [ticket]  # on the retry list
    del world.helpdesk.tickets[ticket]  # an agent deletes it (or merges it away, or spam)
    reports = [world.poll(), world.poll()]
    assert [r.failed for r in reports] == [[], []]
    assert ticket not in world.worker.retry
    failures = world.worker.metrics.registry.get_sample_value("cancelamento_ticket_failures_total")
    assert failures == 1  # the failing write only: the alert calms down


def test_logs_of_a_failing_ticket_mask_personal_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("json")
    world = world_with(tmp_path)
    world.pf(CARLOS)
    world.opens(CARLOS)

    def explodes(self: Worker, ticket: Ticket, now: datetime, ficha: Ficha | None = None) -> object:
        raise ValueError(
            "ficha de Carlos carlos@technova.com.br, CPF 529.982.247-25, tel (11) 98765-4321"
        )

    monkeypatch.setattr(Worker, "decide", explodes)
    world.poll()
    err = capsys.readouterr().err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(e["event"] == "ticket could not be decided; skipped" for e in events)
    for secret in ("carlos@technova.com.br", "529.982.247-25", "98765-4321"):
        assert secret not in err


def test_every_decision_and_write_is_logged_with_ticket_situation_step_and_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("json")
    world = world_with(tmp_path)
    world.pf(CARLOS)
    ticket = world.opens(CARLOS)
    world.poll()
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    decision = next(e for e in events if e["event"] == "ticket.handled")
    write = next(e for e in events if e["event"] == "write")
    assert decision["ticket_id"] == ticket and decision["steps"] == ["1:inicio"]
    assert decision["situation"] == "titular" and decision["outcome"] == "written"
    assert write["ticket_id"] == ticket and write["step"] == "1:inicio"
    assert write["outcome"] == "written"
