"""Which helpdesk the scenario worlds run on (`WORLD_BACKEND`, see tests/world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.world import backend


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
        from tests.backends.base import close_all

        close_all()
