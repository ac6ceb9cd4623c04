"""The tests' one fault wrapper: a write refused before it reaches the helpdesk, the same on
every helpdesk a world runs on (`world.helpdesk.fail_steps`, `fail_next_writes`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from worker.adapters.memory import MemoryHelpdesk
from worker.config import Config
from worker.core.model import Ticket
from worker.ports import HelpdeskError, RenderedStep


class Faults:
    """`fail_steps`: step kinds whose next write fails once; `fail_next_writes`: how many of
    the next writes fail, whatever their step."""

    def __init__(self) -> None:
        self.fail_steps: set[str] = set()
        self.fail_next_writes = 0

    def refuse(self, step: RenderedStep) -> None:
        """Raises when this write is one a test asked to fail."""
        kind = step.key.split(":", 1)[-1]
        if kind in self.fail_steps:
            self.fail_steps.discard(kind)
            raise HelpdeskError(f"simulated failure writing {step.key}")
        if self.fail_next_writes > 0:
            self.fail_next_writes -= 1
            raise HelpdeskError("simulated helpdesk failure")


class FaultyMemoryHelpdesk(Faults, MemoryHelpdesk):
    """The in-memory helpdesk with the faults a test injects; the worker's fake stays free of
    test hooks (the benchmarks run it too)."""

    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        MemoryHelpdesk.__init__(self, config, clock)
        Faults.__init__(self)

    def apply_step(self, ticket: Ticket, step: RenderedStep) -> Ticket:
        self.refuse(step)
        return MemoryHelpdesk.apply_step(self, ticket, step)
