"""A backlog drained in real time: the real worker against the sandbox served over loopback
HTTP, every answer 150 ms late (the sandbox's slow-response fault), a normal round trip to a
hosted helpdesk.

The simulated drains (`bench.backlog`) say what the pacing allows when a request takes no time;
this says what users see when every request takes a tenth of a second and more: how many first
notes a minute, as a share of Update Ticket's limit (100 a minute, the binding one at 700
requests a minute), with the worker's default settings and its read-ahead as `run` sets it.
It takes minutes of wall time (1,000 tickets at the 90 % goal: about eleven), mostly waiting.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench import summary
from bench.sim import ENTERPRISE, add_holder
from bench.zendesk import bench_config, table
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.admin import READ_AHEAD
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import bootstrap
from worker.core.calendar import SAO_PAULO
from worker.sandbox import FakeZendesk, Faults
from worker.sandbox.clock import SandboxClock
from worker.sandbox.server import SandboxServer

TICKETS = 1_000  # the floor for this measure
LATENCY = 0.150  # seconds added to every answer
GOAL = 0.90  # of Update Ticket's limit
START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday: a business day
MAX_POLLS = 50


@dataclass
class Drain:
    tickets: int
    read_ahead: int
    noted_at: dict[str, float] = field(default_factory=dict)  # first PUT per ticket, s
    requests: int = 0
    polls: int = 0
    wall: float = 0.0

    @property
    def rate(self) -> float:
        """First notes per whole minute of the drain (the last, partial one left out)."""
        times = sorted(self.noted_at.values())
        if not times:
            return 0.0
        whole = int(times[-1] // 60)
        if whole == 0:
            return len(times) / (times[-1] / 60 or 1)
        return sum(1 for at in times if at < whole * 60) / whole

    @property
    def share(self) -> float:
        return self.rate / (ENTERPRISE.ticket_updates_per_minute or 100)


def drain(tickets: int, read_ahead: int, latency: float = LATENCY) -> Drain:
    clock = SandboxClock(START)
    result = Drain(tickets, read_ahead)
    lock = threading.Lock()
    started = [0.0]

    def on_request(method: str, path: str) -> None:
        with lock:
            result.requests += 1
            if method == "PUT" and path.startswith("/api/v2/tickets/") and started[0]:
                ticket_id = path.rsplit("/", 1)[-1].removesuffix(".json")
                result.noted_at.setdefault(ticket_id, time.monotonic() - started[0])

    server = SandboxServer(
        lambda url: FakeZendesk(clock=clock, subdomain_url=url, limits=ENTERPRISE),
        on_request=on_request,
        clock=clock,
    ).start()
    try:
        config = bench_config()
        credentials = Credentials(server.url, "worker@empresa.com.br", "token", None)
        setup(ZendeskClient(credentials, config.zendesk), config, dry_run=False, out=io.StringIO())
        fake = server.fake
        created = clock() - timedelta(minutes=10)  # past the export's one-minute horizon
        for n in range(tickets):
            add_holder(fake, n, created_at=created)
        fake.set_faults(Faults(slow_rate=1.0, slow_seconds=latency))
        helpdesk = ZendeskHelpdesk(ZendeskClient(credentials, config.zendesk), config)
        app = bootstrap(
            config, helpdesk=helpdesk, clock=clock, contract=None, read_ahead=read_ahead
        )
        worker = app.worker
        with lock:
            result.requests = 0
        started[0] = time.monotonic()
        while len(result.noted_at) < tickets and result.polls < MAX_POLLS:
            worker.poll(clock())
            result.polls += 1
        result.wall = time.monotonic() - started[0]
    finally:
        server.close()
    return result


COMPARED = 150  # tickets drained without read-ahead, for the table: what it buys


def run(tickets: int = TICKETS, read_ahead: int = READ_AHEAD) -> Drain:
    result = drain(tickets, read_ahead)
    alone = drain(min(COMPARED, tickets), 0)
    print()
    print(
        f"== Real time: {tickets:,} new PF holder tickets against the sandbox over loopback HTTP, "
        f"{LATENCY * 1000:.0f} ms added to every answer =="
    )
    table(
        "10. Backlog drain in real time (Enterprise limits: 700 requests, 100 updates a minute; "
        "default settings: 90 % of each)",
        [
            "read-ahead threads",
            "noted",
            "wall s",
            "upd/min",
            "share",
            ">= 90 %",
            "requests",
            "req/ticket",
            "polls",
        ],
        [
            [
                f"{d.read_ahead}",
                f"{len(d.noted_at):,}",
                f"{d.wall:.0f}",
                f"{d.rate:.1f}",
                f"{d.share:.1%}",
                "yes" if d.share >= GOAL else "NO",
                f"{d.requests:,}",
                f"{d.requests / max(1, len(d.noted_at)):.2f}",
                f"{d.polls}",
            ]
            for d in (result, alone)
        ],
    )
    print(
        "   upd/min: first notes per whole minute of wall time from the first poll (the last, "
        "partial minute left out);\n"
        "   share = upd/min / 100. Reads of the next tickets overlap the current one's write "
        "(service.ReadAhead); writes stay paced, in order."
    )
    value = summary.goal(result.share * 100, GOAL * 100, at_most=False, unit=" %", digits=1)
    if tickets < TICKETS:
        value += f" [measured with {tickets:,} tickets]"
    summary.add("backlog share of binding limit at 150 ms per answer", value)
    return result
