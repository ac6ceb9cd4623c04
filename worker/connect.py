"""From configuration and environment to a live helpdesk: the one place that knows which
adapter `helpdesk:` names, so the CLI and the service stay vendor-neutral."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from worker.config import Config
from worker.ports import Helpdesk, HelpdeskError


class _Problem(Protocol):
    @property
    def what(self) -> str: ...

    @property
    def fix(self) -> str: ...


class _Stats(Protocol):
    requests: int
    writes: int
    throttled: int


@dataclass
class Connection:
    """A helpdesk plus what the operator commands need from its vendor: `setup`, `check`, the
    request counts, and what the last sweep saw waiting."""

    helpdesk: Helpdesk
    is_loopback: bool  # the helpdesk URL is this machine (a sandbox): rehearsal clocks allowed
    stats: _Stats | None = None
    provision: Callable[..., Any] | None = None  # setup(client, config, *, dry_run, out) -> Plan
    inspect: Callable[..., Sequence[_Problem]] | None = None  # check(client, config) -> [Problem]
    client: object = None
    # threads reading the next tickets while one is written (service.ReadAhead): only where
    # the adapter's reads may run side by side (Freshdesk's touch its SQLite journal)
    read_ahead: int = 0
    checked: tuple[str, ...] = ()  # what an OK from `check` covered, for the operator

    def cost(self) -> dict[str, int]:
        """Requests made so far, for the run's summary line."""
        if self.stats is None:
            return {}
        stats = self.stats
        return {"requests": stats.requests, "writes": stats.writes, "throttled": stats.throttled}

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        if self.provision is None:
            raise HelpdeskError("setup is not available for this helpdesk")
        plan = self.provision(self.client, self._config, dry_run=dry_run, out=out)
        if plan.problems:
            raise HelpdeskError(
                f"{len(plan.problems)} thing(s) setup will not change by itself; see above"
            )

    def check(self) -> list[str]:
        if self.inspect is None:
            return []
        return [
            f"{problem.what}\n         fix: {problem.fix}"
            for problem in self.inspect(self.client, self._config)
        ]

    def waiting(self) -> tuple[int, datetime | None] | None:
        """Tickets with a deadline running and the earliest deadline, as the last sweep saw."""
        found = getattr(self.helpdesk, "waiting", None)
        return found if isinstance(found, tuple) else None

    @property
    def _config(self) -> Config:
        config = getattr(self.helpdesk, "config", None)
        assert isinstance(config, Config)
        return config


READ_AHEAD = 3  # Zendesk: reads of the next tickets in flight while one is decided and written


def connect(
    config: Config, env: Mapping[str, str] | None = None, *, state_dir: Path = Path("state")
) -> Connection:
    """Raises HelpdeskError with what to set when credentials are missing."""
    env = os.environ if env is None else env
    if config.helpdesk == "zendesk":
        from worker.adapters.zendesk import check, provision
        from worker.adapters.zendesk.adapter import ZendeskHelpdesk
        from worker.adapters.zendesk.http import Credentials, ZendeskClient

        credentials = Credentials.from_env(env)
        client = ZendeskClient(credentials, config.zendesk)
        return Connection(
            ZendeskHelpdesk(client, config, written=state_dir / "zendesk-written.tsv"),
            credentials.is_loopback,
            client.stats,
            provision.setup,
            check.check,
            client,
            read_ahead=READ_AHEAD,
            checked=check.CHECKED,
        )
    from worker.adapters.freshdesk import check as fd_check
    from worker.adapters.freshdesk import provision as fd_provision
    from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
    from worker.adapters.freshdesk.http import Credentials as FreshdeskCredentials
    from worker.adapters.freshdesk.http import FreshdeskClient

    fd_credentials = FreshdeskCredentials.from_env(env)
    fd_client = FreshdeskClient(fd_credentials, config.freshdesk)
    journal = state_dir / "freshdesk-journal.sqlite3"
    return Connection(
        FreshdeskHelpdesk(fd_client, config, journal, written=state_dir / "freshdesk-written.tsv"),
        fd_credentials.is_loopback,
        fd_client.stats,
        fd_provision.setup,
        fd_check.check,
        fd_client,
        checked=fd_check.CHECKED,
    )
