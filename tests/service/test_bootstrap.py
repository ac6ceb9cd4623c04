"""One composition root: the application is wired in `worker/bootstrap.py` only, each vendor's
operator commands come from one typed `Admin`, and a run is decided at the one moment its caller
read from the clock."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.world import World, person
from worker.adapters.freshdesk.admin import FreshdeskAdmin
from worker.adapters.zendesk.admin import READ_AHEAD, ZendeskAdmin
from worker.bootstrap import bootstrap, connect
from worker.config import Config, Schedule
from worker.core.calendar import SAO_PAULO
from worker.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOT = ROOT / "worker" / "bootstrap.py"
MARIA = person("Maria Souza", "maria@exemplo.com.br")


def _sources() -> list[Path]:
    return sorted(
        p for folder in ("worker", "tests", "bench") for p in (ROOT / folder).rglob("*.py")
    )


def _calls(path: Path) -> list[ast.Call]:
    return [
        node for node in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(node, ast.Call)
    ]


def _builds_a_worker(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "Worker") or (
        isinstance(func, ast.Attribute) and func.attr == "Worker"
    )


def test_only_the_composition_root_builds_a_worker() -> None:
    builders = {
        str(path.relative_to(ROOT))
        for path in _sources()
        for call in _calls(path)
        if _builds_a_worker(call)
    }
    assert builders == {"worker/bootstrap.py"}, "wire through worker.bootstrap.bootstrap"


def test_nothing_asks_the_helpdesk_for_attributes_it_may_not_have() -> None:
    """The operator's commands get what they need of a vendor from its `Admin`, typed."""
    found = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in (ROOT / "worker").rglob("*.py")
        for call in _calls(path)
        if isinstance(call.func, ast.Name)
        and call.func.id in ("getattr", "hasattr")
        and call.args
        and "helpdesk" in ast.unparse(call.args[0])
    ]
    assert found == []


@pytest.mark.parametrize(
    ("helpdesk", "env", "vendor", "read_ahead"),
    [
        (
            "zendesk",
            {"ZENDESK_URL": "http://127.0.0.1:8080", "ZENDESK_OAUTH_TOKEN": "t"},
            ZendeskAdmin,
            READ_AHEAD,
        ),
        (
            "freshdesk",
            {"FRESHDESK_URL": "http://127.0.0.1:8080", "FRESHDESK_API_KEY": "k"},
            FreshdeskAdmin,
            0,
        ),
    ],
)
def test_the_configured_helpdesk_comes_with_its_vendors_admin(
    tmp_path: Path, helpdesk: str, env: dict[str, str], vendor: type, read_ahead: int
) -> None:
    config = Config.model_validate({"helpdesk": helpdesk})
    app = bootstrap(config, env=env, state_dir=tmp_path)
    admin = app.admin
    assert admin is not None and isinstance(admin, vendor)
    assert app.worker.helpdesk is admin.helpdesk
    assert app.worker.read_ahead == read_ahead
    assert admin.is_loopback
    assert admin.cost() == {"requests": 0, "writes": 0, "throttled": 0}
    assert admin.waiting() is None  # no sweep yet
    assert app.worker.place_file is not None and app.worker.guard.pause_file is not None
    assert isinstance(connect(config, env, state_dir=tmp_path), vendor)


def holder_with_three_failed_calls() -> tuple[World, str]:
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    for _ in range(3):
        world.agent_says(ticket, "#tentativa")
    return world, ticket


def test_a_run_decides_at_the_moment_its_caller_read_not_when_each_ticket_comes() -> None:
    world, ticket = holder_with_three_failed_calls()
    thursday = datetime(2026, 12, 10, 9, 0, tzinfo=SAO_PAULO)  # the world's clock says Monday
    world.worker.poll(thursday)
    # Thursday's contact e-mail + 2 business days: due at the end of Monday 14 December.
    assert world.history(ticket).state.deadline == datetime(2026, 12, 15, tzinfo=SAO_PAULO)


class CountingClock:
    """The world's clock, counting how often the application reads it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.world.clock() + timedelta(hours=self.reads - 1)  # it moves as it is read


def test_each_job_of_the_runner_reads_the_clock_once_however_many_tickets_it_decides() -> None:
    world, ticket = holder_with_three_failed_calls()
    others = [world.opens(person(f"Pessoa {n}", f"p{n}@exemplo.com.br")) for n in range(3)]
    clock = CountingClock(world)
    app = bootstrap(world.config, helpdesk=world.helpdesk, clock=clock, contract=None)
    runner = Runner(app, Schedule())
    runner.poll_job()
    assert clock.reads == 1
    assert all(world.notes(other) for other in others)
    assert world.history(ticket).state.deadline == datetime(2026, 12, 10, tzinfo=SAO_PAULO)
    runner.sweep_job()
    assert clock.reads == 2
