"""What the Freshdesk adapter costs: requests per ticket per poll and per step, through the real
adapter over HTTP against the stateful Freshdesk fake the scenario suites use
(`tests/backends/`), on a simulated clock. Freshdesk has no optimistic concurrency, so each step
re-reads its ticket before writing, and a step that e-mails is a reply, a note and an update
(docs/freshdesk.md); the minimum is therefore not one write per step as on Zendesk."""

from __future__ import annotations

import re
import time
from collections import Counter

from tests.backends.freshdesk import FreshdeskWorld
from tests.world import person
from worker.config import Config, Safety

TICKETS = 200


def family(method: str, path: str) -> str:
    return f"{method} " + re.sub(r"/\d+", "/{id}", path.removeprefix("/api/v2"))


def run(tickets: int = TICKETS) -> None:
    started = time.perf_counter()
    world = FreshdeskWorld(config=Config(safety=Safety(max_emails_per_run=100_000)))
    people = [person(f"Cliente {n}", f"cliente{n}@exemplo.com.br") for n in range(tickets)]
    ids = []
    for someone in people:
        world.pf(someone)
        ids.append(world.opens(someone))
    rows = []

    def measured(title: str) -> None:
        world.fake.requests.clear()
        report = world.poll()
        calls = Counter(family(m, p) for m, p in world.fake.requests)
        writes = sum(n for name, n in calls.items() if not name.startswith("GET"))
        reads = sum(calls.values()) - writes
        rows.append((title, tickets, report.steps, report.emails, reads, writes, calls))

    measured("first step of each ticket")
    for ticket in ids:
        for _ in range(3):
            world.agent_says(ticket, "#tentativa")
    measured("3 failed calls + contact e-mail")
    world.later(minutes=5)
    measured("idle poll and sweep")
    world.close()

    print(f"\n== Freshdesk: the real adapter over HTTP, against the fake ({tickets} tickets) ==\n")
    header = (
        f"{'run':<34}{'tickets':>8}{'steps':>7}{'e-mails':>9}{'reads':>7}{'writes':>8}"
        f"{'reads/ticket':>14}{'writes/step':>13}"
    )
    print(header)
    print("-" * len(header))
    for title, count, steps, emails, reads, writes, _ in rows:
        per_step = f"{writes / steps:.2f}" if steps else "-"
        print(
            f"{title:<34}{count:>8}{steps:>7}{emails:>9}{reads:>7}{writes:>8}"
            f"{reads / count:>14.2f}{per_step:>13}"
        )
    print("\nBy endpoint family (first run, then the e-mail run):")
    for title, _, _, _, _, _, calls in rows[:2]:
        print(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in calls.most_common()))
    print(
        "\nA step without e-mail is a note and an update (2 writes); with an e-mail, a reply, a"
        " note and an update (3). Each step re-reads its ticket first (1 read), since Freshdesk"
        f" cannot refuse a stale write. Wall time: {time.perf_counter() - started:.1f} s."
    )
