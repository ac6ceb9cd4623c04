"""From configuration and environment to a live helpdesk: the one place that knows which
adapter `helpdesk:` names, so the CLI and the service stay vendor-neutral."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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


def connect(config: Config, env: Mapping[str, str] | None = None) -> Connection:
    """Raises HelpdeskError with what to set when credentials are missing."""
    env = os.environ if env is None else env
    if config.helpdesk == "zendesk":
        from worker.adapters.zendesk.adapter import ZendeskHelpdesk
        from worker.adapters.zendesk.http import Credentials, ZendeskClient

        credentials = Credentials.from_env(env)
        client = ZendeskClient(credentials, config.zendesk)
        return ZendeskConnection(ZendeskHelpdesk(client, config), credentials.is_loopback)
    raise HelpdeskError(
        f"the {config.helpdesk} adapter is not available in this version yet; "
        "`python -m worker demo` runs the whole procedure on the embedded helpdesk"
    )
