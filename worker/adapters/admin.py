"""What every vendor's `Admin` (worker.ports) shares: `setup` and `check` turned into what the
operator reads, and the client's request counts as the run's cost. A vendor says how it plans
its setup and what its check finds; the rest is the same for all, so the CLI reads one shape."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from typing import Generic, Protocol, TextIO, TypeVar

from worker.adapters.pacing import RequestStats
from worker.adapters.provisioning import Plan, Problem
from worker.config import Config
from worker.ports import Helpdesk, HelpdeskError


class _Counting(Protocol):
    """A vendor's client, as far as the cost of a run goes."""

    @property
    def stats(self) -> RequestStats: ...


H = TypeVar("H", bound=Helpdesk)
Client = TypeVar("Client", bound=_Counting)


class VendorAdmin(abc.ABC, Generic[H, Client]):
    read_ahead = 0  # reads side by side only where the adapter allows it (worker.ports.Admin)
    checked: tuple[str, ...] = ()

    def __init__(self, helpdesk: H, client: Client, config: Config, *, loopback: bool) -> None:
        self.helpdesk = helpdesk
        self.client = client
        self.config = config
        self.is_loopback = loopback

    @abc.abstractmethod
    def _provision(self, *, dry_run: bool, out: TextIO) -> Plan:
        """The vendor's `setup`, printing as it goes."""

    @abc.abstractmethod
    def _inspect(self) -> Sequence[Problem]:
        """The vendor's `check`."""

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        plan = self._provision(dry_run=dry_run, out=out)
        if plan.problems:
            raise HelpdeskError(
                f"{len(plan.problems)} thing(s) setup will not change by itself; see above"
            )

    def check(self) -> list[str]:
        return [f"{problem.what}\n         fix: {problem.fix}" for problem in self._inspect()]

    def cost(self) -> dict[str, int]:
        stats = self.client.stats
        return {"requests": stats.requests, "writes": stats.writes, "throttled": stats.throttled}

    def waiting(self) -> tuple[int, datetime | None] | None:
        return None
