"""The Zendesk section of `make bench`: the real adapter, over HTTP (`responses`), against the
stateful fake Zendesk (`worker.sandbox`), with one simulated clock for the fake, the worker and
the client's pacing (so pacing waits cost no wall time, but show up as simulated minutes).

It counts what the adapter asks of an account: requests per ticket and per endpoint family for a
poll over a backlog of new cancellation tickets, the writes per step, the e-mail path after three
failed calls, and what an idle worker costs an hour. The fake's rate limits are off: these are
the adapter's own costs, not a 429 study.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from bench import summary
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient, endpoint_of
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import bootstrap
from worker.config import Config, Safety
from worker.core.calendar import SAO_PAULO
from worker.core.effects import FieldKey
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SimulatedClock
from worker.sandbox.responses_binding import install
from worker.service import PollReport

TICKETS = 500  # default backlog; `--zendesk-tickets N` changes it
START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday
CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"
POLL_EVERY = timedelta(seconds=60)
SWEEP_EVERY = timedelta(minutes=5)
IDLE_HOUR = timedelta(hours=1)  # idle cost is one simulated hour of polls and sweeps
FIRST_STEP_GOAL = 3.0  # requests per first step (issue 17)
IDLE_GOAL = 80  # requests an hour, idle at default settings (issue 17)
OPEN_BACKLOG = 10_000  # open tickets waiting for their deadline, for the idle cost
NO_EMAIL_CAP = 100_000  # safety.max_emails_per_run: an operator's brake, not a cost measured here

LAYOUT = ("GET /users/me", "GET /custom_statuses", "GET /ticket_fields")
# (family as counted, label in the table), in the order a ticket costs them
FAMILIES = (
    ("GET /tickets/{id}/comments", "GET tickets/{id}/comments"),
    ("GET /users/{id}", "GET users/{id} (+organizations)"),
    ("GET /search organization", "GET search (organizations)"),
    ("GET /organizations/{id}/users", "GET organizations/{id}/users"),
    ("GET /users/{id}/organization_memberships", "GET users/{id}/organization_memberships"),
    ("GET /search ticket", "GET search (tickets)"),
    ("GET /tickets/{id}", "GET tickets/{id}"),
    ("PUT /tickets/{id}", "PUT tickets/{id}"),
    ("GET /incremental/tickets/cursor", "GET incremental export (poll)"),
    ("GET /search/export", "GET search export (sweep)"),
)


def bench_config() -> Config:
    """The defaults, with the per-run e-mail cap out of reach: the e-mail path below sends one
    e-mail per ticket in a single run."""
    return Config(safety=Safety(max_emails_per_run=NO_EMAIL_CAP))


class CountingZendesk(FakeZendesk):
    """The fake, keeping each request's full URL: searches differ only by their query."""

    def __init__(self, *, clock: Callable[[], datetime], limits: RateLimits) -> None:
        super().__init__(clock=clock, limits=limits)
        self.urls: list[tuple[str, str]] = []

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], Any]:
        self.urls.append((method.upper(), url))
        return super().handle(method, url, headers, body)


def family(method: str, url: str) -> str:
    parts = urlsplit(url)
    name = endpoint_of(method, parts.path)
    if name == "GET /search":
        query = parse_qs(parts.query).get("query", [""])[0]
        kind = query.split(" ", 1)[0].removeprefix("type:") if query.startswith("type:") else "?"
        return f"{name} {kind}"
    return name


@dataclass
class Phase:
    """What one stretch of polling cost: requests by family, the reports, time."""

    requests: Counter[str] = field(default_factory=Counter)
    reports: list[PollReport] = field(default_factory=list)
    wall: float = 0.0
    busy: timedelta = timedelta(0)  # simulated time inside poll and sweep: the client's pacing

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return sum(n for name, n in self.requests.items() if not name.startswith("GET "))

    @property
    def reads(self) -> int:
        return self.total - self.writes

    @property
    def layout(self) -> int:
        return sum(self.requests[name] for name in LAYOUT)

    @property
    def tickets(self) -> int:
        return sum(r.tickets for r in self.reports)

    @property
    def steps(self) -> int:
        return sum(r.steps for r in self.reports)

    @property
    def emails(self) -> int:
        return sum(r.emails for r in self.reports)

    @property
    def troubles(self) -> list[str]:
        """Failed tickets and pauses: each makes the counts above wrong, so they are printed."""
        found = [f"ticket {ticket_id} failed" for r in self.reports for ticket_id in r.failed]
        found += [f"paused: {why}" for r in self.reports if (why := getattr(r, "paused", None))]
        return found


class Account:
    """One Zendesk account set up by `worker setup`, a backlog of new cancellation tickets, and
    a worker that has never run (no cursor: the first poll reads the look-back)."""

    def __init__(self, size: int, *, companies: bool) -> None:
        self.config = bench_config()
        self.clock = SimulatedClock(START)
        self.fake = CountingZendesk(clock=self.clock, limits=RateLimits.off())
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        install(self.mock, self.fake)
        setup(self.new_client(), self.config, dry_run=False, out=io.StringIO())
        helpdesk = ZendeskHelpdesk(self.new_client(), self.config, monotonic=self.clock.monotonic)
        self.worker = bootstrap(
            self.config, helpdesk=helpdesk, clock=self.clock, contract=None
        ).worker
        self.tickets = [
            self.company(n) if companies and n % 2 else self.holder(n) for n in range(size)
        ]

    def new_client(self) -> ZendeskClient:
        credentials = Credentials(self.fake.base_url, "worker@empresa.com.br", "token", None)
        return ZendeskClient(
            credentials,
            self.config.zendesk,
            clock=self.clock.monotonic,
            sleep=self.clock.sleep,
            jitter=lambda low, high: high,
        )

    def close(self) -> None:
        self.mock.stop()
        self.mock.reset()

    def holder(self, n: int) -> int:
        """Situação 1: a person's account (CPF), the holder writing from the registered e-mail."""
        email = f"titular{n}@exemplo.com.br"
        account = self.fake.add_organization(
            f"Cliente {n}", {"documento": CPF, "email_cadastro": email}
        )
        user = self.fake.add_user(
            f"Titular {n}", email, organization_ids=[account], user_fields={"titular": True}
        )
        return self.opens(user)

    def company(self, n: int) -> int:
        """Situação 2: a company (CNPJ) with two managing partners; the first one writes."""
        account = self.fake.add_organization(
            f"Empresa {n}", {"documento": CNPJ, "email_cadastro": f"contato{n}@empresa.com.br"}
        )
        partners = [
            self.fake.add_user(
                f"Sócio {n}-{k}",
                f"socio{n}-{k}@empresa.com.br",
                organization_ids=[account],
                user_fields={"socio_administrador": True},
            )
            for k in (1, 2)
        ]
        return self.opens(partners[0])

    def opens(self, requester: int) -> int:
        return self.fake.add_ticket(
            requester,
            "Cancelamento do contrato",
            "Quero cancelar o meu contrato.",
            tags=["cancelamento"],
        )

    def _since(self, mark: int) -> Counter[str]:
        return Counter(family(m, u) for m, u in self.fake.urls[mark:])

    def phase(self, runs: Sequence[tuple[timedelta, bool]]) -> tuple[Phase, Phase, Phase]:
        """Runs (wait before, with a sweep?) in turn; the whole, the polls, and the sweeps."""
        whole, polls, sweeps = Phase(), Phase(), Phase()
        started = time.perf_counter()
        for wait, with_sweep in runs:
            self.clock.now += wait
            before = self.clock.now
            mark = len(self.fake.urls)
            report = self.worker.poll(self.clock())
            polls.requests.update(self._since(mark))
            polls.reports.append(report)
            if with_sweep:
                mark = len(self.fake.urls)
                report = self.worker.sweep(self.clock())
                sweeps.requests.update(self._since(mark))
                sweeps.reports.append(report)
            whole.busy += self.clock.now - before
        whole.requests = polls.requests + sweeps.requests
        whole.reports = polls.reports + sweeps.reports
        whole.wall = time.perf_counter() - started
        return whole, polls, sweeps

    def agents_call_three_times(self) -> None:
        for ticket in self.tickets:
            for _ in range(3):
                self.fake.agent_comments(ticket, "#tentativa")


# --- printing --------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Plain text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    print()
    print(title)
    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.2f}" if whole else "-"


def minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f}"


# --- the section -----------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    short: str
    first: Phase
    email: Phase
    echo: Phase
    idle: Phase
    idle_polls: Phase
    idle_sweeps: Phase
    outbox: int


def scenario(name: str, short: str, size: int, *, companies: bool) -> Scenario:
    account = Account(size, companies=companies)
    try:
        # the first run: every ticket is new (2 min: past the export's one-minute horizon)
        first, _, _ = account.phase([(timedelta(minutes=2), True)])
        account.agents_call_three_times()
        sent = len(account.fake.outbox)
        email, _, _ = account.phase([(timedelta(minutes=2), True)])
        outbox = len(account.fake.outbox) - sent  # the e-mails the fake's trigger sent
        # the worker's own updates come back in the next export: re-read, nothing decided
        echo, _, _ = account.phase([(timedelta(minutes=2), True)])
        quiet, idle_polls, idle_sweeps = account.phase(idle_hour())
        return Scenario(name, short, first, email, echo, quiet, idle_polls, idle_sweeps, outbox)
    finally:
        account.close()


def idle_hour() -> list[tuple[timedelta, bool]]:
    """An hour at the default cadence: a poll every minute, a sweep every fifth."""
    every = SWEEP_EVERY // POLL_EVERY
    return [(POLL_EVERY, n % every == 0) for n in range(IDLE_HOUR // POLL_EVERY)]


def idle_with_open(open_tickets: int = OPEN_BACKLOG) -> int:
    """Requests in an idle hour while `open_tickets` cancellations wait for their deadline (set,
    in a week): the worker has seen them all (its cursor is past them), nothing changes."""
    from bench.sim import add_holder, new_account

    config = bench_config()
    account, stop = new_account(config, RateLimits.off())
    try:
        deadline = account.helpdesk.layout.fields[FieldKey.DEADLINE]
        day = (account.clock.now + timedelta(days=7)).date().isoformat()
        for n in range(open_tickets):
            ticket = add_holder(account.fake, n)
            account.fake.agent_updates(
                ticket, status="open", custom_fields=[{"id": deadline, "value": day}]
            )
        account.clock.advance(timedelta(minutes=2))
        account.worker.cursor = f"t:{int(account.clock.now.timestamp()) - 30}"
        mark = len(account.fake.requests)
        for wait, with_sweep in idle_hour():
            account.clock.advance(wait)
            account.worker.poll(account.clock())
            if with_sweep:
                account.worker.sweep(account.clock())
        return len(account.fake.requests) - mark
    finally:
        stop()


def run(size: int = TICKETS, open_tickets: int = OPEN_BACKLOG) -> None:
    started = time.perf_counter()
    half = size // 2
    scenarios = [
        scenario(f"{size} PF holders", "PF", size, companies=False),
        scenario(f"{size - half} PF + {half} PJ (2 partners)", "PF+PJ", size, companies=True),
    ]
    elapsed = time.perf_counter() - started
    troubles = [
        f"{s.name}, {name}: {trouble}"
        for s in scenarios
        for name, phase in (("first", s.first), ("e-mail", s.email), ("echo", s.echo))
        for trouble in phase.troubles
    ] + [f"{s.name}, idle: {trouble}" for s in scenarios for trouble in s.idle.troubles]
    print()
    print(f"== Zendesk: the real adapter over HTTP, against the fake ({size} tickets) ==")
    first_poll(scenarios, size)
    email_path(scenarios, size)
    idle(scenarios)
    wall_time(scenarios, elapsed)
    pf = scenarios[0]
    per_step = (pf.first.total - pf.first.layout) / size
    others = ", ".join(
        f"{s.short} {(s.first.total - s.first.layout) / size:.2f}" for s in scenarios[1:]
    )
    summary.add(
        "requests per first step (zendesk)",
        f"{summary.goal(per_step, FIRST_STEP_GOAL, at_most=True)}; PF holders ({others})",
    )
    summary.add(
        "idle requests per hour (zendesk)", summary.goal(pf.idle.total, IDLE_GOAL, at_most=True)
    )
    if open_tickets > 0:
        started = time.perf_counter()
        with_open = idle_with_open(open_tickets)
        print()
        print(
            f"Idle hour with {open_tickets:,} open cancellations waiting for their deadline: "
            f"{with_open} requests ({time.perf_counter() - started:.0f} s wall)"
        )
        key = "idle requests per hour with 10000 open (zendesk)"
        value = summary.goal(with_open, 2 * IDLE_GOAL, at_most=True)
        if open_tickets != OPEN_BACKLOG:
            value += f" [measured with {open_tickets:,} open]"
        summary.add(key, value)
    if troubles:
        print()
        print(f"WARNING: {len(troubles)} failures or pauses; the counts above are off:")
        for trouble in troubles[:10]:
            print(f"  {trouble}")


def first_poll(scenarios: Sequence[Scenario], size: int) -> None:
    rows = [
        [
            s.name,
            f"{s.first.tickets}",
            f"{s.first.steps}",
            f"{s.first.total}",
            ratio(s.first.total - s.first.layout, size),
            ratio(s.first.reads - s.first.layout, size),
            f"{s.first.writes}",
            ratio(s.first.writes, s.first.steps),
            f"{s.first.layout}",
            minutes(s.first.busy),
        ]
        for s in scenarios
    ]
    table(
        "1. First run (poll + sweep) over new cancellation tickets; per ticket excludes the "
        "3 layout reads; goal 1.00 writes/step",
        [
            "scenario",
            "tickets",
            "steps",
            "requests",
            "req/ticket",
            "reads/ticket",
            "writes",
            "writes/step",
            "layout",
            "paced min",
        ],
        rows,
    )
    known = {name for name, _ in FAMILIES} | set(LAYOUT)
    others = sorted({n for s in scenarios for n in s.first.requests} - known)
    rows = [
        [label]
        + [
            cell
            for s in scenarios
            for cell in (f"{s.first.requests[name]}", ratio(s.first.requests[name], size))
        ]
        for name, label in [*FAMILIES, *((n, n) for n in others)]
    ]
    rows.append(
        ["one-time layout (users/me, custom_statuses, ticket_fields)"]
        + [cell for s in scenarios for cell in (f"{s.first.layout}", "")]
    )
    table(
        "1b. The same first run by endpoint family",
        ["endpoint family"] + [head for s in scenarios for head in (s.short, f"{s.short}/ticket")],
        rows,
    )


def email_path(scenarios: Sequence[Scenario], size: int) -> None:
    rows = [
        [
            s.name,
            f"{s.email.tickets}",
            f"{s.email.steps}",
            f"{s.email.emails}",
            f"{s.outbox}",
            f"{s.email.writes}",
            ratio(s.email.writes, s.email.steps),
            ratio(s.email.steps + s.email.emails, s.email.steps),
            f"{s.email.reads}",
            ratio(s.email.reads, size),
            minutes(s.email.busy),
        ]
        for s in scenarios
    ]
    table(
        "2. The e-mail path: three #tentativa agent notes on each ticket, then one run "
        "(expect writes/step = (steps+e-mails)/steps: an e-mail step is two updates)",
        [
            "scenario",
            "tickets",
            "steps",
            "e-mails",
            "outbox",
            "writes",
            "writes/step",
            "(steps+e-mails)/steps",
            "reads",
            "reads/ticket",
            "paced min",
        ],
        rows,
    )


def idle(scenarios: Sequence[Scenario]) -> None:
    rows = []
    for s in scenarios:
        polls, sweeps = len(s.idle_polls.reports), len(s.idle_sweeps.reports)
        rows.append(
            [
                s.name,
                f"{s.echo.tickets}",
                f"{s.echo.steps}",
                f"{s.echo.total}",
                f"{s.idle.steps}",
                f"{s.idle_polls.total / polls:.1f}",
                f"{s.idle_sweeps.total / sweeps:.1f}",
                f"{s.idle.total}",
            ]
        )
    table(
        "3. Idle cost: one simulated hour with nothing changed (a poll every "
        f"{POLL_EVERY.seconds} s, a sweep every {SWEEP_EVERY.seconds // 60} min), after one run "
        "that re-reads the worker's own updates (echo). The sweep lists every open cancellation\n"
        "   once an hour and asks only for due ones otherwise; `run --once` from cron is a new "
        "process each time, so each of its sweeps lists every open one",
        [
            "scenario",
            "echo tickets",
            "echo steps",
            "echo requests",
            "idle steps",
            "req/poll",
            "req/sweep",
            "req/hour",
        ],
        rows,
    )


def wall_time(scenarios: Sequence[Scenario], elapsed: float) -> None:
    rows = []
    for s in scenarios:
        phases = (s.first, s.email, s.echo, s.idle)
        wall = sum(p.wall for p in phases)
        decided = sum(p.tickets for p in phases)
        steps = sum(p.steps for p in phases)
        requests = sum(p.total for p in phases)
        rows.append(
            [
                s.name,
                f"{decided}",
                f"{steps}",
                f"{requests}",
                f"{wall:.2f}",
                f"{decided / wall:.0f}",
                f"{steps / wall:.0f}",
                f"{requests / wall:.0f}",
            ]
        )
    table(
        "4. Wall time of the runs above (informative; the whole Zendesk section, with setup "
        f"and seeding: {elapsed:.1f} s)",
        [
            "scenario",
            "decisions",
            "steps",
            "requests",
            "wall s",
            "decisions/s",
            "steps/s",
            "requests/s",
        ],
        rows,
    )
