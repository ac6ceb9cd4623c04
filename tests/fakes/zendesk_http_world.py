"""The procedure's world on Zendesk: the real adapter, over HTTP (`responses`), against the
stateful fake Zendesk, with one simulated clock for the fake, the worker and the pacing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import responses

from tests.fakes.clock import Clock
from tests.fakes.world import CNPJ, CPF
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import App, bootstrap
from worker.config import Config
from worker.core.calendar import SAO_PAULO
from worker.core.state import MARKER_PREFIX
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.responses_binding import install
from worker.service import PollReport, Worker
from worker.state_dir import PollPlaceFile


@dataclass
class ZendeskWorld:
    place: Path | None = None
    limits: RateLimits = field(default_factory=RateLimits.off)
    start: datetime = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday
    config: Config = field(default_factory=Config)

    def __post_init__(self) -> None:
        self.clock = Clock(self.start)
        self.fake = FakeZendesk(clock=self.clock, limits=self.limits)
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        install(self.mock, self.fake)
        self.client = self.new_client()
        setup(self.client, self.config, dry_run=False, out=io.StringIO())
        self.app = self.new_app()

    @property
    def worker(self) -> Worker:
        return self.app.worker

    def new_client(self) -> ZendeskClient:
        credentials = Credentials(self.fake.base_url, "worker@empresa.com.br", "token", None)
        return ZendeskClient(
            credentials,
            self.config.zendesk,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )

    def new_app(self, *, dry_run: bool = False) -> App:
        """The application as after a restart: nothing in memory, only the state directory."""
        place = PollPlaceFile(self.place) if self.place is not None else None
        helpdesk = ZendeskHelpdesk(
            self.new_client(),
            self.config,
            monotonic=self.clock.monotonic,
            written=self.place.with_name("zendesk-written.tsv") if self.place else None,
        )
        return bootstrap(
            self.config,
            helpdesk=helpdesk,
            clock=self.clock,
            contract=None,
            place_file=place,
            dry_run=dry_run,
        )

    def close(self) -> None:
        self.mock.stop()
        self.mock.reset()

    # --- the ficha ---------------------------------------------------------------------------

    def holder(self, name: str, email: str, *, document: str = CPF) -> int:
        """A person's account whose holder writes from the registered e-mail."""
        account = self.fake.add_organization(name, {"documento": document, "email_cadastro": email})
        return self.fake.add_user(
            name, email, organization_ids=[account], user_fields={"titular": True}
        )

    def company(self, name: str, partners: list[tuple[str, str]]) -> list[int]:
        account = self.fake.add_organization(
            name, {"documento": CNPJ, "email_cadastro": "contato@empresa-cliente.com.br"}
        )
        return [
            self.fake.add_user(
                partner,
                email,
                organization_ids=[account],
                user_fields={"socio_administrador": True},
            )
            for partner, email in partners
        ]

    # --- people and time ---------------------------------------------------------------------

    def opens(self, requester: int, subject: str = "Cancelamento do contrato") -> int:
        return self.fake.add_ticket(
            requester, subject, "Quero cancelar o meu contrato.", tags=["cancelamento"]
        )

    def agent_says(self, ticket_id: int, text: str) -> None:
        self.fake.agent_comments(ticket_id, text)

    def later(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def poll(self) -> PollReport:
        """What one run does: a poll and a sweep, after the export's one-minute horizon."""
        self.later(minutes=2)
        now = self.clock()
        polled = self.worker.poll(now)
        swept = self.worker.sweep(now)
        polled.tickets += swept.tickets
        polled.steps += swept.steps
        polled.emails += swept.emails
        return polled

    # --- what the ticket shows ---------------------------------------------------------------

    def notes(self, ticket_id: int) -> list[str]:
        return [
            c["body"]
            for c in self.fake.comments(ticket_id)
            if not c["public"] and c["author_id"] == self.fake.worker_id
        ]

    def steps(self, ticket_id: int) -> list[str]:
        """The step key of every worker note, in order."""
        keys = []
        for note in self.notes(ticket_id):
            marker = next(line for line in note.splitlines() if line.startswith(MARKER_PREFIX))
            keys.append(marker.split('"passo":"', 1)[1].split('"', 1)[0])
        return keys

    def emails(self, ticket_id: int) -> list[str]:
        return [e.body for e in self.fake.outbox if e.ticket_id == ticket_id]

    def status(self, ticket_id: int) -> str:
        ticket = self.fake.ticket(ticket_id)
        return next(
            s.agent_label
            for s in self.fake.store.custom_statuses.values()
            if s.id == ticket["custom_status_id"]
        )

    def writes(self) -> Iterator[tuple[str, str]]:
        return ((m, p) for m, p in self.fake.requests if m != "GET")
