"""From configuration and environment to a live helpdesk: the one place that knows which
adapter `helpdesk:` names, so the CLI and the service stay vendor-neutral."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from worker.config import Config
from worker.ports import Helpdesk, HelpdeskError


@dataclass
class Connection:
    helpdesk: Helpdesk
    is_loopback: bool  # the helpdesk URL is this machine (a sandbox): rehearsal clocks allowed

    def cost(self) -> dict[str, int]:
        """Requests made so far, for the run's summary line."""
        return {}

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        raise HelpdeskError("setup is not available for this helpdesk yet")

    def check(self) -> list[str]:
        return []

    def waiting(self) -> tuple[int, datetime | None] | None:
        """Tickets with a deadline running and the earliest deadline, as the last sweep saw."""
        return None


@dataclass
class ZendeskConnection(Connection):
    def __post_init__(self) -> None:
        from worker.adapters.zendesk.adapter import ZendeskHelpdesk

        assert isinstance(self.helpdesk, ZendeskHelpdesk)
        self.zendesk = self.helpdesk

    def waiting(self) -> tuple[int, datetime | None] | None:
        return self.zendesk.waiting

    def cost(self) -> dict[str, int]:
        stats = self.zendesk.client.stats
        return {"requests": stats.requests, "writes": stats.writes, "throttled": stats.throttled}

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        from worker.adapters.zendesk.provision import setup

        plan = setup(self.zendesk.client, self.zendesk.config, dry_run=dry_run, out=out)
        if plan.problems:
            raise HelpdeskError(
                f"{len(plan.problems)} thing(s) setup will not change by itself; see above"
            )

    def check(self) -> list[str]:
        from worker.adapters.zendesk.check import check

        return [
            f"{problem.what}\n         fix: {problem.fix}"
            for problem in check(self.zendesk.client, self.zendesk.config)
        ]


@dataclass
class FreshdeskConnection(Connection):
    def __post_init__(self) -> None:
        from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk

        assert isinstance(self.helpdesk, FreshdeskHelpdesk)
        self.freshdesk = self.helpdesk

    def cost(self) -> dict[str, int]:
        stats = self.freshdesk.client.stats
        return {"requests": stats.requests, "writes": stats.writes, "throttled": stats.throttled}

    def setup(self, *, dry_run: bool, out: TextIO) -> None:
        from worker.adapters.freshdesk.provision import setup

        plan = setup(self.freshdesk.client, self.freshdesk.config, dry_run=dry_run, out=out)
        if plan.problems:
            raise HelpdeskError(
                f"{len(plan.problems)} thing(s) setup will not change by itself; see above"
            )

    def check(self) -> list[str]:
        from worker.adapters.freshdesk.check import check

        return [
            f"{problem.what}\n         fix: {problem.fix}"
            for problem in check(self.freshdesk.client, self.freshdesk.config)
        ]


def connect(
    config: Config, env: Mapping[str, str] | None = None, *, state_dir: Path = Path("state")
) -> Connection:
    """Raises HelpdeskError with what to set when credentials are missing."""
    env = os.environ if env is None else env
    if config.helpdesk == "zendesk":
        from worker.adapters.zendesk.adapter import ZendeskHelpdesk
        from worker.adapters.zendesk.http import Credentials, ZendeskClient

        credentials = Credentials.from_env(env)
        client = ZendeskClient(credentials, config.zendesk)
        return ZendeskConnection(ZendeskHelpdesk(client, config), credentials.is_loopback)
    from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
    from worker.adapters.freshdesk.http import Credentials as FreshdeskCredentials
    from worker.adapters.freshdesk.http import FreshdeskClient

    fd_credentials = FreshdeskCredentials.from_env(env)
    fd_client = FreshdeskClient(fd_credentials, config.freshdesk)
    journal = state_dir / "freshdesk-journal.sqlite3"
    return FreshdeskConnection(
        FreshdeskHelpdesk(fd_client, config, journal), fd_credentials.is_loopback
    )
