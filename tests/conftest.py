"""Which helpdesk the scenario worlds run on (`WORLD_BACKEND`, see tests/fakes/world.py), the
checkout left as the tests found it, and no decision that needed a read `engine.reads` left out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.world import backend
from worker.core.case import MissingRead
from worker.core.procedure import table


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On another backend, a test that needs the in-memory helpdesk's internals is skipped."""
    try:
        name = backend()
    except ValueError as problem:
        raise pytest.UsageError(str(problem)) from None
    if name == "memory":
        return
    skip = pytest.mark.skip(reason=f"needs the in-memory helpdesk (WORLD_BACKEND={name})")
    for item in items:
        if item.get_closest_marker("memory_only") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _close_backend_worlds() -> Iterator[None]:
    """Each backend world serves its fake through a `responses` mock: stopped after the test."""
    yield
    if backend() != "memory":
        from tests.fakes.backend import close_all

        close_all()


@pytest.fixture(autouse=True)
def _no_missing_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker notes a failed decision for an agent and goes on, so a `MissingRead` (a read
    `engine.reads` should have asked for) would pass unseen inside a poll: any test that meets
    one fails, whatever it checks."""
    met: list[str] = []
    original = MissingRead.__init__

    def record(self: MissingRead, *args: object) -> None:
        met.append(str(args))
        original(self, *args)

    monkeypatch.setattr(MissingRead, "__init__", record)
    yield
    assert not met, f"a decision needed what engine.reads did not read: {met}"


ROOT = Path(__file__).resolve().parent.parent
# What the worker's commands write by default, relative to where they run: tests point them at
# temporary directories instead, so `make test` leaves no state/worker.lock in the checkout.
WRITTEN_BY_DEFAULT = ("state", "report", "demo-report")


def _left_in_checkout() -> set[Path]:
    return {path for name in WRITTEN_BY_DEFAULT for path in (ROOT / name).glob("**/*")}


@pytest.fixture(autouse=True, scope="session")
def _checkout_left_clean() -> Iterator[None]:
    before = _left_in_checkout()
    yield
    left = sorted(str(path.relative_to(ROOT)) for path in _left_in_checkout() - before)
    assert not left, f"tests wrote into the checkout (use tmp_path): {left}"


@pytest.fixture(autouse=True)
def undeclared_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every step any test makes the engine take is one its transition table declares. The
    shell turns the engine's refusal into a note for an agent (one broken ticket must not stop
    the others), which a scenario could overlook: the refusal fails the test here instead. A
    test that wants a refusal takes this fixture and clears the list."""
    refused: list[str] = []
    transition, check_email = table.transition, table.check_email

    def checked(call: Callable[..., Any]) -> Callable[..., Any]:
        def call_and_note(*args: Any) -> Any:
            try:
                return call(*args)
            except table.UndeclaredStep as undeclared:
                refused.append(str(undeclared))
                raise

        return call_and_note

    monkeypatch.setattr(table, "transition", checked(transition))
    monkeypatch.setattr(table, "check_email", checked(check_email))
    yield refused
    assert not refused, f"the engine took steps its table does not declare: {refused}"
