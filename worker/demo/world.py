"""The demo's week on the sandbox: the fake Zendesk served over real HTTP on loopback, the real
Zendesk adapter and the scheduler's jobs, all on one simulated clock.

Nothing here talks to zendesk.com: the server listens on 127.0.0.1 (a free port) and the worker's
base URL is the server's, exactly as `ZENDESK_URL` points a real run at a sandbox.
"""

from __future__ import annotations

import io
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient, endpoint_of
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import bootstrap
from worker.config import Config
from worker.contract.http import HttpContractSystem
from worker.core.model import AuthorRole, Ticket
from worker.core.state import parse_marker, read_history
from worker.demo import script
from worker.demo.script import Action, AgentNote, Customer, CustomerEmail, Scenario
from worker.render import Renderer
from worker.runner import Runner
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SimulatedClock as BaseSimulatedClock
from worker.sandbox.contracts import PATH as CONTRACTS_PATH
from worker.sandbox.contracts import ContractStandIn
from worker.sandbox.server import SandboxServer
from worker.service import PollReport

# The incremental export leaves out the last minute of changes, so each run of the jobs comes
# a little after the quarter hour: what people did up to the quarter is seen at once.
EXPORT_LAG = timedelta(minutes=2)


class SimulatedClock(BaseSimulatedClock):
    def advance_to(self, moment: datetime) -> None:
        """Time only moves forward (a pacing pause may already have gone past `moment`)."""
        self.now = max(self.now, moment)


@dataclass(frozen=True)
class SentEmail:
    ticket_id: str
    kind: str  # the step that sent it, e.g. "email-contato"
    to: str
    cc: tuple[str, ...]
    step: str = "?"  # that step's key, e.g. "5:email-contato": one e-mail per step, ever


@dataclass
class ApiCost:
    """What the worker's scheduled jobs cost the account (the fake's request log)."""

    requests: int = 0
    writes: int = 0
    steps: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    @property
    def reads(self) -> int:
        return self.requests - self.writes

    @property
    def writes_per_step(self) -> float:
        return self.writes / self.steps if self.steps else 0.0


@dataclass
class Provisioning:
    created: Counter[str]  # objects `setup` created, by API collection
    kept: int
    requests: int

    @property
    def total(self) -> int:
        return sum(self.created.values())


@dataclass
class DemoResult:
    config: Config
    url: str  # where the sandbox listened
    provisioning: Provisioning
    titles: dict[str, str]  # ticket id -> what the ticket shows
    tickets: dict[str, Ticket]  # each ticket at the end, read through the adapter
    emails: list[SentEmail]
    cost: ApiCost
    jobs: int  # scheduler jobs run (polls and sweeps)
    failed_jobs: int
    seconds: float  # real time the week took
    contracts_cancelled: int = 0  # by the stand-in, when contract_cancellation.mode is http


DEMO_CONTRACT_SECRET = "demo-contratos"


class DemoWorld:
    """The sandbox and its people. `close` must be called (it stops the server)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = SimulatedClock(script.START)
        self.contracts = ContractStandIn(DEMO_CONTRACT_SECRET)
        self.server = SandboxServer(
            lambda url: FakeZendesk(clock=self.clock, subdomain_url=url, limits=RateLimits.off()),
            contracts=self.contracts,
        )
        self.server.start()
        self.fake = self.server.fake
        self.clients: list[ZendeskClient] = []
        self.users: dict[str, int] = {}  # e-mail -> user id
        self.tickets: dict[str, int] = {}  # requester's e-mail -> the ticket they opened
        self.titles: dict[str, str] = {}

    def client(self, token: str) -> ZendeskClient:
        credentials = Credentials(self.server.url, None, None, token)
        made = ZendeskClient(
            credentials,
            self.config.zendesk,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )
        self.clients.append(made)
        return made

    def contract_system(self) -> HttpContractSystem | None:
        """With `contract_cancellation.mode: http` the sandbox's stand-in answers, over loopback,
        instead of the configured URL: a demo never leaves this machine."""
        settings = self.config.contract_cancellation.http
        if self.config.contract_cancellation.mode != "http" or settings is None:
            return None
        local = settings.model_copy(update={"url": self.server.url + CONTRACTS_PATH})
        return HttpContractSystem(local, DEMO_CONTRACT_SECRET)

    def close(self) -> None:
        for made in self.clients:
            made.session.close()
        self.server.close()

    # --- setting up the account -----------------------------------------------------------

    def provision(self) -> Provisioning:
        before = len(self.fake.requests)
        plan = setup(self.client("setup"), self.config, dry_run=False, out=io.StringIO())
        if plan.problems:
            raise RuntimeError(
                "setup could not provision the sandbox: "
                + "; ".join(problem.what for problem in plan.problems)
            )
        created = Counter(
            change.path.rsplit("/", 1)[-1].removesuffix(".json") for change in plan.changes
        )
        return Provisioning(created, len(plan.kept), len(self.fake.requests) - before)

    def seed(self) -> None:
        ficha = self.config.ficha
        for account in script.ACCOUNTS:
            organization = self.fake.add_organization(
                account.name,
                {
                    ficha.document: account.document,
                    ficha.registered_email: account.registered_email,
                },
            )
            for seat in account.seats:
                self.users[seat.person.email] = self.fake.add_user(
                    seat.person.name,
                    seat.person.email,
                    organization_ids=[organization],
                    user_fields={ficha.holder: seat.holder, ficha.managing_partner: seat.partner},
                )
        for stranger in script.STRANGERS:
            self.users[stranger.email] = self.fake.add_user(stranger.name, stranger.email)

    # --- what people do --------------------------------------------------------------------

    def perform(self, action: Action) -> None:
        if isinstance(action, Scenario):
            self._opens(action)
        elif isinstance(action, AgentNote):
            self.fake.agent_comments(self._ticket_of(action.ticket_of), action.text)
        elif isinstance(action, CustomerEmail):
            self._writes(action)

    def _opens(self, scenario: Scenario) -> None:
        ticket_id = self.fake.add_ticket(
            self.users[scenario.requester.email],
            scenario.subject,
            scenario.body,
            tags=scenario.tags,
            channel=scenario.channel,
        )
        self.tickets.setdefault(scenario.requester.email, ticket_id)
        self.titles[str(ticket_id)] = scenario.title

    def _writes(self, email: CustomerEmail) -> None:
        """Every customer's message is an e-mail from their own address (a copied partner's
        too), so the worker believes it; it reopens the ticket, as the requester's does."""
        ticket_id = self._ticket_of(email.ticket_of)
        author = None if email.author == email.ticket_of else self.users[email.author.email]
        self.fake.customer_replies(ticket_id, email.text, author_id=author)

    def _ticket_of(self, requester: Customer) -> int:
        return self.tickets[requester.email]


def run_demo(config: Config, renderer: Renderer) -> DemoResult:
    """Starts the sandbox, provisions and seeds it, plays the week with the scheduler's jobs every
    15 simulated minutes, reads every ticket back, and stops the sandbox."""
    began = time.perf_counter()
    world = DemoWorld(config)
    try:
        provisioning = world.provision()
        world.seed()
        helpdesk = ZendeskHelpdesk(world.client("demo"), config, monotonic=world.clock.monotonic)
        app = bootstrap(
            config,
            helpdesk=helpdesk,
            clock=world.clock,
            renderer=renderer,
            contract=world.contract_system(),
        )
        reports: list[PollReport | None] = []
        runner = Runner(
            app,
            config.schedule,
            on_report=lambda job, report: reports.append(report),
            monotonic=world.clock.monotonic,
        )
        cost = ApiCost()
        pending = script.timeline()
        tick = script.START + EXPORT_LAG
        while tick <= script.END:
            while pending and pending[0].at <= tick:
                action = pending.pop(0)
                world.clock.advance_to(action.at)
                world.perform(action)
            world.clock.advance_to(tick)
            for job in (runner.poll_job, runner.sweep_job):
                before = len(world.fake.requests)
                job()
                for method, path in world.fake.requests[before:]:
                    cost.requests += 1
                    cost.writes += method != "GET"
                    cost.by_endpoint[endpoint_of(method, path)] += 1
            tick += script.POLL_EVERY
        reader = ZendeskHelpdesk(world.client("report"), config, layout=helpdesk.layout)
        tickets = {ticket_id: reader.read_ticket(ticket_id) for ticket_id in world.titles}
        cost.steps = sum(read_history(ticket).steps for ticket in tickets.values())
        return DemoResult(
            config=config,
            url=world.server.url,
            provisioning=provisioning,
            titles=dict(world.titles),
            tickets=tickets,
            emails=_emails(world.fake, tickets),
            cost=cost,
            jobs=len(reports),
            failed_jobs=sum(1 for report in reports if report is None or report.failed),
            seconds=time.perf_counter() - began,
            contracts_cancelled=len(world.contracts.cancelled),
        )
    finally:
        world.close()


def _emails(fake: FakeZendesk, tickets: dict[str, Ticket]) -> list[SentEmail]:
    """The e-mails the account sent, each with the step that sent it: an e-mail is the worker's
    public comment, and the note right after it carries the step's marker."""
    kinds: dict[str, list[str]] = {}  # step keys
    for ticket_id, ticket in tickets.items():
        waiting = 0
        found = kinds.setdefault(ticket_id, [])
        for comment in ticket.comments:
            if comment.role is not AuthorRole.WORKER:
                continue
            if comment.public:
                waiting += 1
            elif waiting and (marker := parse_marker(comment.body)) is not None:
                found.extend([str(marker.step)] * waiting)
                waiting = 0
        found.extend(["?"] * waiting)
    sent: list[SentEmail] = []
    by_ticket: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for email in fake.outbox:
        by_ticket.setdefault(str(email.ticket_id), []).append((email.to, tuple(email.cc)))
    for ticket_id, addressed in by_ticket.items():
        for step, recipients in itertools.zip_longest(kinds.get(ticket_id, []), addressed):
            to, cc = recipients if recipients is not None else ("?", ())
            step = step or "?"
            sent.append(SentEmail(ticket_id, step.split(":", 1)[-1], to, cc, step))
    return sent
