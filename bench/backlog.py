"""Draining a backlog of cancellation tickets under Zendesk's real rate limits.

10,000 new PF holder tickets wait (a holiday, a migration); the fake enforces the account's
limits on the simulated clock and answers 429 with Retry-After past them; the worker polls every
60 s with its default configuration. Measured: how long until every ticket has its first note,
the achieved share of the binding limit (Update Ticket: 100 a minute, 300 with High Volume),
429s, requests per ticket, what the open backlog costs when idle, and the process's memory
while it runs. Each configuration runs in its own process (a fresh interpreter: its RSS is its
own), two at a time, after `make bench`'s throughput sections (their wall times stay
uncontended).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench import summary
from bench.sim import (
    ENTERPRISE,
    GROWTH,
    HIGH_VOLUME,
    TEAM,
    TICKET_PUT,
    Account,
    add_holder,
    current_rss_mb,
    deep_size_mb,
    new_account,
    peak_rss_mb,
)
from bench.zendesk import table
from worker import logs
from worker.adapters.zendesk.http import endpoint_of
from worker.config import Config
from worker.config import Zendesk as ZendeskSettings
from worker.sandbox import RateLimits

TICKETS = 10_000
POLL_EVERY = timedelta(seconds=60)
GOAL = 0.90  # of the binding limit
MAX_POLLS = 2_000  # a drain that never ends is a bug; stop and report it


@dataclass(frozen=True)
class Spec:
    name: str
    limits: RateLimits
    share: float
    tickets: int
    requests_per_minute: int = 700
    updates_per_minute: int = 100

    @property
    def binding(self) -> int:
        """Update Ticket binds first: one write per first step and ~6 requests per ticket
        stay under the account limit (checked in the table: 'req/min')."""
        assert self.limits.ticket_updates_per_minute is not None
        return self.limits.ticket_updates_per_minute

    def config(self) -> Config:
        return Config(
            zendesk=ZendeskSettings(
                requests_per_minute=self.requests_per_minute,
                ticket_updates_per_minute=self.updates_per_minute,
                share=self.share,
            )
        )


@dataclass
class Sample:
    noted: int
    simulated_min: float
    rss_mb: float | None
    peak_mb: float
    worker: dict[str, float] | None  # MB by part, when traced


def worker_state(account: Account) -> dict[str, float]:
    """What the worker's objects hold (deep sizes, MB): the adapter's read cache (requesters,
    accounts by e-mail and members), the versions it wrote last, and the rest (layout, retry
    set, the client's windows and counters). The export page's tickets travel with the page
    (`TicketPage.headers`) and go with it."""
    helpdesk = account.helpdesk
    client = account.client
    cache = helpdesk.cache
    return {
        "requesters and accounts": deep_size_mb(
            cache.requesters, cache.members, cache.by_registered_email
        ),
        "written": deep_size_mb(helpdesk._written),
        "rest": deep_size_mb(
            helpdesk._layout,
            account.worker.retry,
            client.stats,
            client.account_window,
            client.windows,
            stop=[account.clock],
        ),
    }


def fake_state(account: Account) -> tuple[float, float | None]:
    """The fake's Python objects (store, request log, limiter) and its SQLite pages, MB."""
    fake = account.fake
    python = deep_size_mb(fake.store, fake.requests, fake.limiter, stop=[account.clock])
    connection = getattr(getattr(fake.store, "db", None), "connection", None)
    if connection is None:
        return python, None
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    size = connection.execute("PRAGMA page_size").fetchone()[0]
    return python, pages * size / (1024 * 1024)


@dataclass
class Idle:
    """After the drain, every ticket open and waiting: what polls and sweeps cost."""

    open_tickets: int
    echo: int  # the first poll after the drain: the worker's own writes come back
    poll: int  # a poll with nothing changed
    sweep: int  # a sweep within the hour: only the tickets whose deadline day has come
    sweep_seconds: float  # simulated, paced
    full_sweep: int = 0  # the hourly sweep over every open cancellation ticket


@dataclass
class Result:
    spec: Spec
    noted: int = 0
    steps: int = 0
    failed: int = 0
    polls: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)  # 429s by endpoint family
    drain_seconds: float = 0.0  # first poll to the last first note
    setup_wall: float = 0.0
    drain_wall: float = 0.0
    rss_start: float | None = None  # before seeding (interpreter, worker and fake code loaded)
    rss_seeded: float | None = None
    noted_at: list[float] = field(default_factory=list)  # simulated seconds from the start
    samples: list[Sample] = field(default_factory=list)
    worker: dict[str, float] = field(default_factory=dict)
    fake_mb: float = 0.0
    sqlite_mb: float | None = None
    idle: Idle | None = None
    shortcuts: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return self.requests[f"PUT {TICKET_PUT}{{id}}"]

    @property
    def minutes(self) -> float:
        """Counted to the end of the last update's one-minute window, so a client that spends
        exactly the limit every minute shows tickets / limit."""
        return self.drain_seconds / 60 + 1

    @property
    def rate(self) -> float:
        """First notes per simulated minute over the drain's whole minutes (the last, partial
        one left out): the pace the drain kept."""
        whole = int(self.drain_seconds // 60)
        if whole == 0:
            return self.noted / self.minutes
        return sum(1 for at in self.noted_at if at < whole * 60) / whole

    @property
    def share(self) -> float:
        return self.rate / self.spec.binding


def _family(method: str, path: str) -> str:
    name = endpoint_of(method, path)
    return f"{method} {TICKET_PUT}{{id}}" if name == "PUT /tickets/{id}" else name


def drain(spec: Spec, sample_every: int, trace: bool = False) -> Result:
    """One configuration, start to finish (runs in a worker process)."""
    logs.configure("console", level=logging.WARNING)
    result = Result(spec)
    first_note: dict[str, datetime] = {}
    counting = False

    def observe(method: str, path: str, status: int) -> None:
        if not counting:
            return
        family = _family(method, path)
        result.requests[family] += 1
        if status == 429:
            result.throttled[family] += 1
        elif status == 200 and method == "PUT" and path.startswith(TICKET_PUT):
            ticket_id = path.removeprefix(TICKET_PUT).removesuffix(".json")
            if ticket_id not in first_note:
                first_note[ticket_id] = account.clock.now
                # mid-page (the export's page of 1,000 is then half handled) and at the end
                count = len(first_note)
                if count % sample_every == sample_every // 2 or count == spec.tickets:
                    minutes = (account.clock.now - started).total_seconds() / 60
                    rss, peak = current_rss_mb(), peak_rss_mb()
                    parts = worker_state(account) if trace else None
                    result.samples.append(Sample(count, minutes, rss, peak, parts))

    wall = time.perf_counter()
    result.rss_start = current_rss_mb()
    account, stop = new_account(spec.config(), spec.limits, observe=observe)
    result.shortcuts = account.shortcuts
    for n in range(spec.tickets):
        add_holder(account.fake, n)
    result.rss_seeded = current_rss_mb()
    # past the export's one-minute horizon, and past setup's requests in the limit windows
    account.clock.advance(timedelta(minutes=2))
    result.setup_wall = time.perf_counter() - wall

    wall = time.perf_counter()
    counting = True
    started = account.clock.now
    next_poll = started
    while len(first_note) < spec.tickets and result.polls < MAX_POLLS:
        account.clock.now = max(account.clock.now, next_poll)
        next_poll = account.clock.now + POLL_EVERY
        report = account.worker.poll(account.clock())
        result.polls += 1
        result.steps += report.steps
        result.failed += len(report.failed)
    counting = False
    result.drain_wall = time.perf_counter() - wall
    if trace:
        result.idle = idle_cost(account, spec.tickets)
    result.noted = len(first_note)
    result.noted_at = sorted((at - started).total_seconds() for at in first_note.values())
    if first_note:
        result.drain_seconds = result.noted_at[-1]
    result.worker = worker_state(account)
    result.fake_mb, result.sqlite_mb = fake_state(account)
    stop()
    return result


def idle_cost(account: Account, open_tickets: int) -> Idle:
    fake = account.fake
    account.clock.advance(timedelta(minutes=2))
    mark = len(fake.requests)
    account.worker.poll(account.clock())
    echo = len(fake.requests) - mark
    account.clock.advance(POLL_EVERY)
    mark = len(fake.requests)
    account.worker.poll(account.clock())
    poll = len(fake.requests) - mark
    mark = len(fake.requests)
    account.worker.sweep(account.clock())  # the first sweep of a process lists every open one
    full = len(fake.requests) - mark
    account.clock.advance(POLL_EVERY)
    mark, before = len(fake.requests), account.clock.now
    account.worker.sweep(account.clock())
    sweep = len(fake.requests) - mark
    seconds = (account.clock.now - before).total_seconds()
    return Idle(open_tickets, echo, poll, sweep, seconds, full)


def specs(tickets: int) -> list[Spec]:
    hv = {"requests_per_minute": 2500, "updates_per_minute": 300}
    return [
        Spec("Enterprise, share 0.9 (default)", ENTERPRISE, 0.9, tickets),
        Spec("Enterprise, share 0.8", ENTERPRISE, 0.8, tickets),
        Spec("Enterprise, share 1.0", ENTERPRISE, 1.0, tickets),
        Spec("High Volume, share 0.9", HIGH_VOLUME, 0.9, tickets, **hv),
        Spec("Growth/Professional, share 0.9", GROWTH, 0.9, tickets, requests_per_minute=400),
        Spec("Team, share 0.9", TEAM, 0.9, tickets, requests_per_minute=200),
    ]


class Drains:
    """The drains under way in their own processes (this one is free meanwhile), or run here
    one after the other when `jobs` is 1."""

    def __init__(self, tickets: int, jobs: int) -> None:
        self.tickets = tickets
        self.jobs = jobs
        self.started = time.perf_counter()
        self.todo = specs(tickets)
        self.sample_every = max(1, tickets // 10)
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[Result]] = []
        if jobs > 1:
            # one drain per process: each starts from a fresh interpreter, so its RSS is its own
            self.pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=1,
            )
            self.futures = [
                self.pool.submit(drain, spec, self.sample_every, n == 0)
                for n, spec in enumerate(self.todo)
            ]

    def results(self) -> list[Result]:
        if self.pool is None:
            return [drain(s, self.sample_every, n == 0) for n, s in enumerate(self.todo)]
        with self.pool:
            return [f.result() for f in self.futures]


def start(tickets: int = TICKETS, jobs: int = 2) -> Drains:
    return Drains(tickets, jobs)


def run(tickets: int = TICKETS, jobs: int = 2) -> list[Result]:
    return report(start(tickets, jobs))


def report(drains: Drains) -> list[Result]:
    results = drains.results()
    elapsed = time.perf_counter() - drains.started
    print()
    print(
        f"== Backlog: {drains.tickets:,} new PF holder tickets, first step each, under Zendesk's "
        "real limits (simulated time) =="
    )
    drain_table(results)
    idle_table(results)
    plans = "; ".join(f"{r.spec.name} {r.share:.0%}" for r in results[1:])
    summary.add(
        "backlog share of binding limit",
        f"{summary.goal(results[0].share * 100, GOAL * 100, at_most=False, unit=' %', digits=1)} "
        f"({results[0].spec.name}; simulated time; Update Ticket is the limit named. {plans})",
    )
    update_many(results)
    memory_table(results)
    troubles = [
        f"{r.spec.name}: {r.noted}/{r.spec.tickets} noted, {r.failed} failed, {r.polls} polls"
        for r in results
        if r.noted < r.spec.tickets or r.failed
    ]
    if troubles:
        print()
        print("WARNING: some drains did not finish cleanly; their rows are off:")
        for trouble in troubles:
            print(f"  {trouble}")
    print()
    print(
        f"   wall: {elapsed:.1f} s for {len(results)} drains in {drains.jobs} process(es); sandbox "
        f"shortcut: {', '.join(results[0].shortcuts) or 'none (slower)'} (bench/sim.py)"
    )
    return results


def drain_table(results: Sequence[Result]) -> None:
    rows = []
    for r in results:
        spec = r.spec
        paced = spec.binding * spec.share
        rows.append(
            [
                spec.name,
                f"{spec.limits.account_per_minute}/{spec.binding}",
                f"{paced:.0f}",
                f"{r.noted:,}",
                f"{r.minutes:.1f}",
                f"{spec.tickets / spec.binding:.1f}",
                f"{r.rate:.1f}",
                f"{r.share:.1%}",
                "yes" if r.share >= GOAL else "NO",
                f"{r.total / r.minutes:.0f}",
                f"{sum(r.throttled.values())}",
                f"{r.total / max(1, r.noted):.2f}",
                f"{r.writes / max(1, r.steps):.2f}",
                f"{r.polls}",
                f"{r.drain_wall:.1f}",
            ]
        )
    table(
        "5. Backlog drain: first poll to each ticket's first note; the binding limit is Update "
        "Ticket (one write per first step)",
        [
            "configuration",
            "limits/min (all/upd)",
            "paced upd/min",
            "noted",
            "minutes",
            "min. minutes",
            "upd/min",
            "share",
            ">= 90 %",
            "req/min",
            "429s",
            "req/ticket",
            "writes/step",
            "polls",
            "wall s",
        ],
        rows,
    )
    print(
        "   minutes: simulated, first poll to the last first note plus that update's one-minute "
        "window (a client\n"
        "   spending exactly the limit each minute shows tickets/limit = min. minutes); upd/min: "
        "first notes per whole\n"
        "   simulated minute of the drain (the last, partial one left out); share = upd/min / "
        "limit.\n"
        "   The client paces to share x limit (worker/adapters/zendesk/http.py) and keeps that "
        "pace exactly, so the\n"
        "   default 0.9 reaches the 90 % goal and leaves 10 % of Update Ticket to agents' apps "
        "and\n"
        "   integrations (0.8 would leave 20 % and miss the goal). 1.0 takes the whole "
        "limit without a 429\n"
        "   here only because nothing else writes to the account; beside other writers it would "
        "meet 429s."
    )


def idle_table(results: Sequence[Result]) -> None:
    polls_per_hour = 3600 / POLL_EVERY.total_seconds()
    sweeps_per_hour = 3600 / Config().schedule.sweep_seconds
    rows = []
    for r in results:
        idle = r.idle
        if idle is None:
            continue
        hourly = idle.poll * polls_per_hour + idle.full_sweep + idle.sweep * (sweeps_per_hour - 1)
        account = r.spec.limits.account_per_minute or 0
        rows.append(
            [
                r.spec.name,
                f"{idle.open_tickets:,}",
                f"{idle.echo}",
                f"{idle.poll}",
                f"{idle.full_sweep}",
                f"{idle.sweep}",
                f"{idle.sweep_seconds:.0f}",
                f"{hourly:,.0f}",
                f"{hourly / 60 / account:.1%}" if account else "-",
            ]
        )
    if not rows:
        return
    table(
        "5b. Idle cost with the backlog still open (every ticket waits for its next step): a poll "
        "every 60 s, a sweep every 5 min",
        [
            "configuration",
            "open tickets",
            "echo poll req",
            "idle poll req",
            "hourly sweep req",
            "sweep req",
            "sweep sim. s",
            "req/hour",
            "of account limit",
        ],
        rows,
    )
    print(
        "   echo poll: the first poll after the drain; the worker's own writes come back in the "
        "export and each is\n"
        "   skipped as the version it wrote (export pages only). The sweep asks only for the "
        "tickets whose deadline\n"
        "   day has come (a range on the deadline field); once an hour it lists every open "
        "cancellation (1,000 a page),\n"
        "   so the open backlog costs about one request per 1,000 tickets an hour."
    )


def update_many(results: Sequence[Result]) -> None:
    """What batching could buy, computed from the measured reads per ticket."""
    rows = []
    plans: dict[RateLimits, Result] = {}
    for r in results:
        plans.setdefault(r.spec.limits, r)
    for r in plans.values():
        account = r.spec.limits.account_per_minute or 0
        reads = (r.total - r.writes) / max(1, r.noted)
        tickets = r.spec.tickets
        jobs = -(-tickets // 100)
        # one job per 100 tickets and at least one job_status read for each
        batched = (reads * tickets + 2 * jobs) / account
        single = tickets / r.spec.binding
        rows.append(
            [
                r.spec.name.split(",")[0],
                f"{reads:.2f}",
                f"{single:.1f}",
                f"{batched:.1f}",
                f"{single / batched:.2f}x",
            ]
        )
    if not rows:
        return
    table(
        "6. Could `update_many` go past Update Ticket's limit? Best case, at the account's whole "
        "limit (computed)",
        [
            "plan",
            "reads/ticket (measured)",
            "min. minutes, PUT tickets/{id}",
            "min. minutes, update_many",
            "best gain",
        ],
        rows,
    )
    print(
        "   `PUT /api/v2/tickets/update_many.json` takes up to 100 tickets (one object for a list "
        "of ids, or an array of\n"
        "   ticket objects each with its own id) and answers with a job_status: a queued "
        "background job, read back\n"
        "   with GET /api/v2/job_statuses/{id}; only a limited number of jobs may be queued or "
        "running at once (Job\n"
        "   limit). It is one request on the account limit; the 100/min applies to Update Ticket. "
        "The docs read say\n"
        "   nothing about `safe_update`/`updated_stamp` inside a batch: the per-ticket 409 "
        "that makes the worker re-read\n"
        "   and re-decide is documented for PUT tickets/{id} only, and a job returns no new "
        "`updated_at` to chain the\n"
        "   e-mail step's second update on. With batching, the ~5 reads per ticket bind "
        "instead (the account\n"
        "   limit), so the best case above gains well under 2x, by giving up a documented conflict "
        "check for an\n"
        "   undocumented one.\n"
        "   Conclusion: not legitimately; the worker keeps one guarded PUT per update (the "
        "fake has no update_many)."
    )


def mb(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "-"


def memory_table(results: Sequence[Result]) -> None:
    traced = results[0]
    rows = []
    for sample in traced.samples:
        parts = sample.worker or {}
        rows.append(
            [
                f"{sample.noted:,}",
                f"{sample.simulated_min:.0f}",
                mb(sample.rss_mb),
                f"{sample.peak_mb:.0f}",
                f"{sum(parts.values()):.1f}",
                f"{parts.get('page', 0):.1f}",
                f"{parts.get('requesters and accounts', 0):.1f}",
                f"{parts.get('written', 0):.2f}",
            ]
        )
    table(
        f"7. Memory during the drain '{traced.spec.name}', MB: RSS of the whole process (worker "
        f"and fake; {mb(traced.rss_start)} before seeding, {mb(traced.rss_seeded)} seeded) and "
        "the worker's own state",
        [
            "first notes",
            "sim. min",
            "RSS",
            "peak RSS",
            "worker state",
            "export page",
            "requesters, accounts",
            "written versions",
        ],
        rows,
    )
    rows = []
    for r in results:
        peak = max((s.peak_mb for s in r.samples), default=0.0)
        worker = sum(r.worker.values())
        alone = r.rss_start + worker if r.rss_start is not None else None
        rows.append(
            [
                r.spec.name,
                mb(r.rss_start),
                mb(r.rss_seeded),
                f"{peak:.0f}",
                f"{worker:.1f}",
                f"{r.worker.get('requesters and accounts', 0) / max(1, r.noted) * 1024:.1f}",
                mb(alone),
                f"{r.fake_mb:.0f}",
                f"{r.sqlite_mb:.0f}" if r.sqlite_mb is not None else "-",
            ]
        )
    table(
        "7b. Memory of each drain's process, MB: RSS before seeding, seeded, peak; the worker's "
        "state at the end; the fake's",
        [
            "configuration",
            "RSS start",
            "seeded",
            "peak RSS",
            "worker state",
            "KB/ticket kept",
            "start + worker",
            "fake objects",
            "fake SQLite",
        ],
        rows,
    )
    print(
        "   RSS is the whole process: interpreter and code (start), the fake's account (seeded), "
        "then both sides'\n"
        "   growth. The fake's objects and SQLite pages stand for Zendesk and grow with every "
        "ticket, comment and\n"
        "   request; 'start + worker' estimates a worker process on its own. In the worker's "
        "state, the export page\n"
        "   (tickets of the current page not yet handled) is bounded by the page size (1,000), "
        "and so are the written\n"
        "   versions (10,000 tickets), and the read cache of requesters, accounts and members "
        "is pruned each\n"
        "   poll to what the last READ_TTL_SECONDS read (worker/adapters/memo.py)."
    )
    default = results[0]
    if default.rss_start is not None and default.noted:
        alone = default.rss_start + sum(default.worker.values())
        kept = default.worker.get("requesters and accounts", 0) / default.noted * 1024
        until = round((200 - default.rss_start) * 1024 / max(kept, 0.001), -3)
        if kept < 0.5:
            verdict = "flat (nothing kept per requester), well under 200 MB: goal met."
        else:
            verdict = (
                f"under 200 MB but not flat: + {kept:.1f} KB per distinct requester "
                f"(200 MB after ~{until:,.0f} requesters)."
            )
        print(
            f"   Goal (flat, well under 200 MB): the worker alone is about {alone:.0f} MB after "
            f"{default.noted:,} tickets;\n   {verdict}"
        )


# --- the transport ----------------------------------------------------------------------------


@dataclass
class Transport:
    name: str
    requests: int
    wall: float


def transports(tickets: int = 300) -> None:
    """The same first poll over `responses` (as the tests and the section above) and over the
    direct adapter used for the drains: same requests, less wall time per request."""
    measured = []
    for name in ("responses", "direct"):
        account, stop = new_account(Config(), RateLimits.off(), transport=name)
        try:
            for n in range(tickets):
                add_holder(account.fake, n)
            account.clock.advance(timedelta(minutes=2))
            before = len(account.fake.requests)
            wall = time.perf_counter()
            account.worker.poll(account.clock())
            wall = time.perf_counter() - wall
            measured.append(Transport(name, len(account.fake.requests) - before, wall))
        finally:
            stop()
    rows = [
        [
            t.name,
            f"{t.requests}",
            f"{t.wall:.2f}",
            f"{t.wall / t.requests * 1e6:.0f}",
            f"{measured[0].wall / t.wall:.2f}x",
        ]
        for t in measured
    ]
    table(
        f"9. Transport: one first poll over {tickets} tickets (limits off), `responses` vs the "
        "direct `requests` adapter (bench/sim.py)",
        ["transport", "requests", "wall s", "us/request", "speed"],
        rows,
    )
