"""Zendesk as the operator's commands see it (`worker.ports.Admin`): the adapter, `setup`,
`check`, the request counts, and the open cancellations the sweep's hourly listing counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from worker.adapters.admin import VendorAdmin
from worker.adapters.provisioning import Plan, Problem
from worker.adapters.zendesk import check, provision
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.config import Config

# Reads of the next tickets in flight while one is decided and written: Zendesk answers in a
# tenth of a second or more, and the adapter's reads may run side by side.
READ_AHEAD = 3


class ZendeskAdmin(VendorAdmin[ZendeskHelpdesk, ZendeskClient]):
    read_ahead = READ_AHEAD
    checked = check.CHECKED

    @classmethod
    def connect(cls, config: Config, env: Mapping[str, str], state_dir: Path) -> ZendeskAdmin:
        """Raises HelpdeskError with what to set when credentials are missing."""
        credentials = Credentials.from_env(env)
        client = ZendeskClient(credentials, config.zendesk)
        helpdesk = ZendeskHelpdesk(client, config, written=state_dir / "zendesk-written.tsv")
        return cls(helpdesk, client, config, loopback=credentials.is_loopback)

    def _provision(self, *, dry_run: bool, out: TextIO) -> Plan:
        return provision.setup(self.client, self.config, dry_run=dry_run, out=out)

    def _inspect(self) -> Sequence[Problem]:
        return check.check(self.client, self.config)

    def waiting(self) -> tuple[int, datetime | None] | None:
        return self.helpdesk.waiting
