"""A small world for procedure tests: a helpdesk, a clock, the worker, and people.

Tests read like the procedure: `world.opens(...)`, `world.agent_says(...)`,
`world.customer_writes(...)`, `world.later(days=2)`, `world.poll()`.

`World` is the in-memory helpdesk (`MemoryWorld`) unless the environment variable
`WORLD_BACKEND` names another: `zendesk` (the real adapter against the stateful `FakeZendesk`)
or `freshdesk` (the real adapter against `tests/fakes/freshdesk_fake.py`), both over HTTP
through `responses` (`tests/fakes/`). Every scenario suite runs unchanged on each; a test
that needs the in-memory helpdesk's internals is marked `memory_only`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tests.fakes.clock import Clock
from tests.fakes.faults import FaultyMemoryHelpdesk
from worker.adapters.memory import SentEmail
from worker.bootstrap import App, bootstrap
from worker.config import Config
from worker.core.calendar import SAO_PAULO
from worker.core.model import AuthorRole, Channel, Comment, Member, Person, Ticket
from worker.core.state import MARKER_PREFIX, History, read_history
from worker.ports import ContractSystem, Helpdesk
from worker.safety import Guard
from worker.service import PollReport, Worker
from worker.state_dir import PollPlaceFile

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Fictitious, valid documents.
CPF = "529.982.247-25"
CPF_2 = "111.444.777-35"
CNPJ = "11.222.333/0001-81"
CNPJ_2 = "45.723.174/0001-10"
CNPJ_ALPHANUMERIC = "12.ABC.345/01DE-35"

AGENT = Person("agent-1", "agente@empresa.com.br", "Paula")


def person(name: str, email: str) -> Person:
    return Person(email, email, name)


class AccountBook(Protocol):
    def add_account(
        self,
        account_id: str,
        name: str,
        document: str | None,
        registered: str | None,
        members: list[Member],
    ) -> object: ...


class WorldHelpdesk(AccountBook, Helpdesk, Protocol):
    """A world's helpdesk: the port the worker uses, and the ficha the world writes."""


class FichaSetup:
    """How every world writes the ficha and opens tickets: the same whatever the helpdesk."""

    helpdesk: WorldHelpdesk

    def add_account(
        self,
        account_id: str,
        name: str,
        document: str | None,
        registered: str | None,
        members: list[Member],
    ) -> None:
        self.helpdesk.add_account(account_id, name, document, registered, members)

    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str:
        raise NotImplementedError

    def opens(
        self,
        requester: Person,
        subject: str = "Cancelamento do contrato",
        body: str = "Quero cancelar o meu contrato.",
        *,
        tags: tuple[str, ...] = ("cancelamento",),
        channel: Channel = "email",
    ) -> str:
        return self.open_ticket(requester, subject, body, tuple(tags), channel)

    # --- time and runs -----------------------------------------------------------------------

    clock: Clock
    config: Config
    app: App

    @property
    def worker(self) -> Worker:
        return self.app.worker

    def wire(
        self,
        *,
        config: Config | None = None,
        helpdesk: Helpdesk | None = None,
        contract: ContractSystem | None = None,
        place_file: PollPlaceFile | None = None,
        guard: Guard | None = None,
        dry_run: bool = False,
    ) -> App:
        """The application on this world's helpdesk and clock, as a new process would be
        wired, with what a test fakes besides (no contract system unless given)."""
        return bootstrap(
            config or self.config,
            helpdesk=helpdesk or self.helpdesk,
            clock=self.clock,
            contract=contract,
            place_file=place_file,
            guard=guard,
            dry_run=dry_run,
        )

    def later(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def at(self, moment: datetime) -> None:
        self.clock.now = moment

    def before_poll(self) -> None:
        """Whatever the helpdesk needs before a run sees the changes made so far."""

    def poll(self) -> PollReport:
        """One run: a poll and a sweep, at the moment the run starts."""
        self.before_poll()
        now = self.clock()
        report = self.worker.poll(now)
        sweep = self.worker.sweep(now)
        report.steps += sweep.steps
        return report

    # --- what we look at ---------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket:
        raise NotImplementedError

    def history(self, ticket_id: str) -> History:
        return read_history(self.ticket(ticket_id))

    def notes(self, ticket_id: str) -> list[str]:
        """The worker's notes, without their state marker line."""
        return [
            "\n".join(
                line for line in c.body.splitlines() if not line.startswith(MARKER_PREFIX)
            ).strip()
            for c in worker_comments(self.ticket(ticket_id))
            if not c.public
        ]

    def last_note(self, ticket_id: str) -> str:
        return self.notes(ticket_id)[-1]

    def pf(self, holder: Person, *, registered: str | None = None, document: str = CPF) -> None:
        """A person's account; by default the holder writes from the registered e-mail."""
        self.add_account(
            f"pf-{holder.email}",
            holder.name,
            document,
            registered or holder.email,
            [Member(holder, holder=True)],
        )

    def pj(
        self,
        name: str,
        partners: list[Person],
        *,
        others: list[Person] = (),  # type: ignore[assignment]
        registered: str = "contato@empresa-cliente.com.br",
        document: str | None = CNPJ,
    ) -> None:
        members = [Member(p, managing_partner=True) for p in partners]
        members += [Member(p) for p in others]
        self.add_account(f"pj-{name}", name, document, registered, members)


def worker_comments(ticket: Ticket) -> list[Comment]:
    return [c for c in ticket.comments if c.role is AuthorRole.WORKER]


@dataclass
class MemoryWorld(FichaSetup):
    config: Config = field(default_factory=Config)
    start: datetime = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday

    helpdesk: FaultyMemoryHelpdesk = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock(self.start)
        self.helpdesk = FaultyMemoryHelpdesk(self.config, self.clock)
        self.app = self.wire()

    # --- what people do ----------------------------------------------------------------------

    def open_ticket(
        self, requester: Person, subject: str, body: str, tags: tuple[str, ...], channel: Channel
    ) -> str:
        return self.helpdesk.create_ticket(requester, subject, body, channel=channel, tags=tags)

    def agent_says(self, ticket_id: str, text: str, *, public: bool = False) -> None:
        self.helpdesk.agent_note(ticket_id, AGENT, text, public=public)

    def customer_writes(self, ticket_id: str, author: Person, text: str) -> None:
        self.helpdesk.customer_writes(ticket_id, author, text)

    def spoofed_reply(self, ticket_id: str, author: Person, text: str) -> None:
        """A message shown as `author`'s that the helpdesk itself doubts (Zendesk: flag 14,
        possible spoofing; Freshdesk: sent from another address than the contact's)."""
        doubt = f"o helpdesk indica que a mensagem pode não ter sido enviada por {author.key}"
        self.helpdesk.customer_writes(ticket_id, author, text, doubt)

    # --- what we look at ---------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket:
        return self.helpdesk.ticket(ticket_id)

    def emails(self, ticket_id: str) -> list[SentEmail]:
        return [e for e in self.helpdesk.outbox if e.ticket_id == ticket_id]

    def email_templates(self, ticket_id: str) -> list[str]:
        """Which e-mails went out, by the step kind that sent them."""
        return [e.step.split(":", 1)[1] for e in self.emails(ticket_id)]

    def status(self, ticket_id: str) -> str:
        ticket = self.ticket(ticket_id)
        return ticket.custom_status or ticket.status.value


BACKENDS = ("memory", "zendesk", "freshdesk")


def backend() -> str:
    """The helpdesk `World` runs on, from `WORLD_BACKEND` (memory unless told)."""
    name = os.environ.get("WORLD_BACKEND", "").strip().lower() or "memory"
    if name not in BACKENDS:
        raise ValueError(f"WORLD_BACKEND={name!r}: expected one of {', '.join(BACKENDS)}")
    return name


def world_class() -> type[MemoryWorld]:
    name = backend()
    if name == "zendesk":
        from tests.fakes.zendesk import ZendeskWorld

        return ZendeskWorld  # type: ignore[return-value]  # same public interface
    if name == "freshdesk":
        from tests.fakes.freshdesk import FreshdeskWorld

        return FreshdeskWorld  # type: ignore[return-value]
    return MemoryWorld


if TYPE_CHECKING:
    World = MemoryWorld
else:

    def __getattr__(name: str) -> object:
        # Resolved on first use (`from tests.fakes.world import World`), so the backends can import
        # this module's people and documents without a cycle.
        if name == "World":
            return world_class()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
