"""Freshdesk as the operator's commands see it (`worker.ports.Admin`): the adapter with its
write journal, `setup`, `check` and the request counts. Its reads touch the journal's SQLite
file, so none are made ahead; its sweep does not count what waits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from worker.adapters.admin import VendorAdmin
from worker.adapters.freshdesk import check, provision
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.adapters.provisioning import Plan, Problem
from worker.config import Config


class FreshdeskAdmin(VendorAdmin[FreshdeskHelpdesk, FreshdeskClient]):
    checked = check.CHECKED

    @classmethod
    def connect(cls, config: Config, env: Mapping[str, str], state_dir: Path) -> FreshdeskAdmin:
        """Raises HelpdeskError with what to set when credentials are missing."""
        credentials = Credentials.from_env(env)
        client = FreshdeskClient(credentials, config.freshdesk)
        helpdesk = FreshdeskHelpdesk(
            client,
            config,
            state_dir / "freshdesk-journal.sqlite3",
            written=state_dir / "freshdesk-written.tsv",
        )
        return cls(helpdesk, client, config, loopback=credentials.is_loopback)

    def _provision(self, *, dry_run: bool, out: TextIO) -> Plan:
        return provision.setup(self.client, self.config, dry_run=dry_run, out=out)

    def _inspect(self) -> Sequence[Problem]:
        return check.check(self.client, self.config)
