"""End-to-end: the real worker process (`python -m worker run ...`) against the sandbox, the fake
Zendesk served over loopback HTTP (`SandboxServer`), provisioned by the real `setup`.

Time is simulated: the sandbox's clock is set by the test, and every run of the worker gets the
same moment with `--now` (allowed against a loopback URL), so deadlines pass without waiting.
The incremental export hides the last minute of the sandbox's clock, so `Sandbox.run` moves the
clock two minutes on before each run, as the real poll interval would.

What the tests look at is what a customer and an agent would see: the fake's outbox (the
e-mails the notification trigger sent) and the ticket's comments (the worker's notes, each
ending with its step marker).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from socketserver import StreamRequestHandler
from typing import Any, cast

from tests.fakes.clock import Clock
from tests.fakes.world import CNPJ, CPF
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.config import Config
from worker.core.calendar import SAO_PAULO
from worker.core.state import MARKER_PREFIX
from worker.sandbox import Email, FakeZendesk, RateLimits
from worker.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"  # the sandbox accepts any bearer token
START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday, no holiday near

# Fictitious, valid documents.

WAITING = "Aguardando retorno do cliente"
IN_PROGRESS = "Em atendimento"
SENT_TAG = re.compile(r"^cancelamento-enviado-\d+$")
PERSONAL_DATA = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}"
)
THIRD_CALL_STEPS = ["1:inicio", "2:tentativa", "3:tentativa", "4:tentativa", "5:email-contato"]


class Dropped(Exception):
    """Raised by a request hook: the server drops the request unanswered and unapplied."""


@dataclass
class Run:
    """A finished worker process."""

    returncode: int
    stdout: str
    stderr: str

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log lines (WORKER_LOG_FORMAT=json)."""
        events = []
        for line in (self.stdout + "\n" + self.stderr).splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
        return events

    def finished(self) -> dict[str, Any]:
        """The `run finished` summary of a `run --once`."""
        found = [e for e in self.logs() if e.get("event") == "run finished"]
        assert found, self.tail()
        return found[-1]

    def personal_data(self) -> list[str]:
        """E-mail addresses, CPFs and CNPJs shown unmasked in the output (CONTRACT 12)."""
        return PERSONAL_DATA.findall(self.stdout + self.stderr)

    def tail(self) -> str:
        return f"exit {self.returncode}\n{self.stderr[-4000:]}"


class PutTrap:
    """A request hook that catches the worker at its n-th ticket update (PUT), optionally
    counting one ticket's only, and holds it there (the worker waits for the answer) until
    `release` is set. `arrived` says it is there; `caught` is the update's ticket.

    Ways, for a worker killed while held: `before`, the update is then refused unapplied (as if
    the worker died just before sending it); `during`, it is then applied (the worker died
    before the answer came back); `after`, the update is applied and answered, and the worker
    is held at its next request, whatever that is, which is then refused."""

    WAYS = ("before", "during", "after")

    def __init__(self, n: int, way: str, *, ticket: int | None = None) -> None:
        assert way in self.WAYS
        self.n = n
        self.way = way
        self.ticket = ticket
        self.seen = 0
        self.caught: int | None = None
        self.armed = False
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()

    def __call__(self, method: str, path: str) -> None:
        if self.armed:  # the request after the n-th update
            self.armed = False
            self._hold(drop=True)
            return
        match = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", path.split("?", 1)[0])
        if method != "PUT" or match is None:
            return
        if self.ticket is not None and int(match[1]) != self.ticket:
            return
        self.seen += 1
        if self.seen != self.n:
            return
        self.caught = int(match[1])
        if self.way == "after":
            self.armed = True
        else:
            self._hold(drop=self.way == "before")

    def _hold(self, *, drop: bool) -> None:
        self.arrived.set()
        self.release.wait(timeout=120)
        self.returned.set()
        if drop:
            raise Dropped


class Sandbox:
    """One fake Zendesk account on loopback, set up by the real `setup`, and a state directory
    for the worker processes run against it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.clock = Clock(START)
        self.hooks: list[Callable[[str, str], None]] = []
        self.server = SandboxServer(
            lambda url: FakeZendesk(clock=self.clock, subdomain_url=url, limits=RateLimits.off()),
            on_request=self._on_request,
        )
        self.server.httpd.handle_error = self._handle_error  # type: ignore[method-assign]
        # The handler writes the headers and the body separately: with Nagle's algorithm on,
        # the body waits for the client's delayed ACK, 40 ms a request (a run: ~1 s more).
        handler = cast(type[StreamRequestHandler], self.server.httpd.RequestHandlerClass)
        handler.disable_nagle_algorithm = True
        self.server.start()
        self.fake = self.server.fake
        self.url = self.server.url
        client = ZendeskClient(Credentials(self.url, None, None, TOKEN), Config().zendesk)
        setup(client, Config(), dry_run=False, out=io.StringIO())
        self.field_ids = {
            f["title"]: int(f["id"])
            for f in client.get("/api/v2/ticket_fields.json")["ticket_fields"]
        }
        self.status_labels = {
            int(s["id"]): str(s["agent_label"])
            for s in client.get("/api/v2/custom_statuses.json")["custom_statuses"]
        }
        self.serial = 0  # keeps seeded e-mail addresses apart

    def close(self) -> None:
        self.server.close()
        self.fake.close()

    def _on_request(self, method: str, path: str) -> None:
        for hook in list(self.hooks):
            hook(method, path)

    def _handle_error(self, request: object, client_address: object) -> None:
        """Quiet about what the tests cause on purpose: a dropped request, or an answer to a
        worker that was killed."""
        problem = sys.exc_info()[1]
        if isinstance(problem, Dropped | BrokenPipeError | ConnectionResetError):
            return
        type(self.server.httpd).handle_error(self.server.httpd, request, client_address)  # type: ignore[arg-type]

    # --- the ficha ---------------------------------------------------------------------------

    def holder(
        self, name: str, email: str, *, registered: str | None = None, document: str = CPF
    ) -> int:
        """A person's account (PF) and its holder; by default writing from the registered
        e-mail."""
        account = self.fake.add_organization(
            f"{name} (conta)", {"documento": document, "email_cadastro": registered or email}
        )
        return self.fake.add_user(
            name, email, organization_ids=[account], user_fields={"titular": True}
        )

    def company(
        self,
        name: str,
        partners: Sequence[tuple[str, str]],
        *,
        others: Sequence[tuple[str, str]] = (),
        document: str = CNPJ,
        registered: str | None = None,
    ) -> dict[str, int]:
        """A company's account (PJ): its managing partners and other people; ids by e-mail."""
        self.serial += 1
        account = self.fake.add_organization(
            name,
            {
                "documento": document,
                "email_cadastro": registered or f"contato{self.serial}@empresa.com.br",
            },
        )
        people = {
            email: self.fake.add_user(
                person,
                email,
                organization_ids=[account],
                user_fields={"socio_administrador": True},
            )
            for person, email in partners
        }
        for person, email in others:
            people[email] = self.fake.add_user(person, email, organization_ids=[account])
        return people

    def two_calls_down(self, count: int) -> list[int]:
        """`count` holders' tickets with two failed calls recorded and noted, after one run:
        the next `#tentativa` makes the third call and the contact e-mail (3 updates)."""
        tickets = []
        for n in range(count):
            self.serial += 1
            holder = self.holder(f"Cliente {n}", f"cliente{self.serial}@exemplo.com.br")
            tickets.append(self.opens(holder))
            self.agent_says(tickets[-1], "#tentativa\n#tentativa")
        self.run()
        for ticket in tickets:
            assert self.steps(ticket) == THIRD_CALL_STEPS[:3]
        return tickets

    def nobody(self, name: str, email: str) -> int:
        """Someone in no account."""
        return self.fake.add_user(name, email)

    # --- what people do ----------------------------------------------------------------------

    def opens(
        self,
        requester: int,
        subject: str = "Cancelamento do contrato",
        body: str = "Quero cancelar o meu contrato.",
        *,
        tags: Sequence[str] = ("cancelamento",),
    ) -> int:
        return self.fake.add_ticket(requester, subject, body, tags=tags)

    def agent_says(self, ticket: int, text: str) -> None:
        """An agent's internal note (how agents record calls and commands)."""
        self.fake.agent_comments(ticket, text)

    def agent_changes(self, ticket: int, **changes: object) -> None:
        self.fake.agent_updates(ticket, **changes)

    def customer_replies(self, ticket: int, text: str) -> None:
        """The requester answers the ticket's e-mail."""
        self.fake.customer_replies(ticket, text)

    def replies_as(self, ticket: int, author: int, text: str) -> None:
        """Someone copied on the ticket (a partner) answers its e-mail from their own address:
        a public comment by them, reopening the ticket as the requester's reply does."""
        self.fake.customer_replies(ticket, text, author_id=author)

    def later(self, **delta: float) -> None:
        self.clock.advance(**delta)

    # --- the worker --------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "ZENDESK_URL": self.url,
            "ZENDESK_OAUTH_TOKEN": TOKEN,
            "WORKER_LOG_FORMAT": "json",
        }
        if "TZ" in os.environ:
            env["TZ"] = os.environ["TZ"]
        return env

    def start(self, *args: str) -> subprocess.Popen[str]:
        """`python -m worker run --now <the sandbox's clock> ARGS` (long-running without
        `--once`)."""
        command = [sys.executable, "-m", "worker", "--state-dir", str(self.state_dir), "run"]
        command += ["--now", self.clock.now.isoformat(), *args]
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, check: bool = True, timeout: float = 150) -> Run:
        """`run --once`, two minutes after the last change (the export hides the last minute)."""
        self.later(minutes=2)
        process = self.start("--once", *args)
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            process.kill()
        result = Run(process.returncode, out, err)
        if check:
            assert result.returncode == 0, result.tail()
        assert result.personal_data() == [], "personal data in the worker's log"
        return result

    # --- what the tickets show ---------------------------------------------------------------

    def comments(self, ticket: int) -> list[dict[str, Any]]:
        return self.fake.comments(ticket)

    def ticket(self, ticket: int) -> dict[str, Any]:
        return self.fake.ticket(ticket)

    def notes(self, ticket: int) -> list[str]:
        """The worker's internal notes, in order."""
        return [
            c["body"]
            for c in self.comments(ticket)
            if c["author_id"] == self.fake.worker_id and not c["public"]
        ]

    def steps(self, ticket: int) -> list[str]:
        """The step key of every worker note, in order (a note without a marker: `?`)."""
        return [_step_of(note) for note in self.notes(ticket)]

    def state(self, ticket: int) -> dict[str, Any]:
        """The procedure's state after the last step (the last note's marker)."""
        marker = _marker(self.notes(ticket)[-1])
        assert marker is not None
        return dict(marker["estado"])

    def emails(self, ticket: int) -> list[Email]:
        """What the customer received: the outbox, for this ticket."""
        return [e for e in self.fake.outbox if e.ticket_id == ticket]

    def email_steps(self, ticket: int) -> list[str]:
        """For each of the worker's public replies, the kind of the step it belongs to: the
        step of the worker's next note (`?` when no note follows)."""
        kinds: list[str] = []
        comments = self.comments(ticket)
        for position, comment in enumerate(comments):
            if comment["author_id"] != self.fake.worker_id or not comment["public"]:
                continue
            following = next(
                (
                    c["body"]
                    for c in comments[position + 1 :]
                    if c["author_id"] == self.fake.worker_id and not c["public"]
                ),
                "",
            )
            kinds.append(_step_of(following).split(":", 1)[-1])
        return kinds

    def tags(self, ticket: int) -> list[str]:
        return list(self.ticket(ticket)["tags"])

    def status(self, ticket: int) -> str:
        """The custom status's label ("Em atendimento", "Solved", ...)."""
        return self.status_labels[int(self.ticket(ticket)["custom_status_id"])]

    def field(self, ticket: int, title: str) -> Any:
        wanted = self.field_ids[title]
        return next(f["value"] for f in self.ticket(ticket)["custom_fields"] if f["id"] == wanted)

    def assert_whole(self, ticket: int, steps: Sequence[str], emails: Sequence[str]) -> None:
        """Exactly these steps, one note each, and exactly these e-mails, each once, each
        showing the ticket's number; no e-mail left half-written."""
        assert self.steps(ticket) == list(steps), f"ticket {ticket}: {self.steps(ticket)}"
        assert len(set(steps)) == len(steps), "one note per step, distinct steps"
        sent = self.emails(ticket)
        assert self.email_steps(ticket) == list(emails), f"ticket {ticket}"
        assert len(sent) == len(emails), f"ticket {ticket}: {len(sent)} e-mails in the outbox"
        for email in sent:
            assert f"Protocolo: {ticket}" in email.body
        assert not [t for t in self.tags(ticket) if SENT_TAG.match(t)], self.tags(ticket)


def _marker(note: str) -> dict[str, Any] | None:
    line = next((line for line in note.splitlines() if line.startswith(MARKER_PREFIX)), None)
    return None if line is None else dict(json.loads(line.removeprefix(MARKER_PREFIX)))


def _step_of(note: str) -> str:
    marker = _marker(note)
    return "?" if marker is None else str(marker["passo"])


def kill(process: subprocess.Popen[str]) -> Run:
    """SIGKILL: no handler runs, nothing is flushed or released but by the kernel."""
    process.kill()
    out, err = process.communicate(timeout=30)
    return Run(process.returncode, out, err)
