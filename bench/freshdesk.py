"""What the Freshdesk adapter costs: requests per ticket per poll and per step, through the real
adapter over HTTP against the stateful Freshdesk fake the scenario suites use
(`tests/fakes/`), on a simulated clock. Freshdesk has no optimistic concurrency, so each step
re-reads its ticket before writing, and a step that e-mails is a reply, a note and an update
(docs/freshdesk.md); the minimum is therefore not one write per step as on Zendesk."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

from tests.fakes.freshdesk import FreshdeskWorld
from tests.fakes.freshdesk_fake import PENDING
from tests.fakes.world import person
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk, _Cursor, _iso
from worker.config import Config, Safety
from worker.core.effects import FieldKey

TICKETS = 200
OPEN_BACKLOG = 10_000  # open cancellations waiting for their deadline, for the idle cost


def family(method: str, path: str) -> str:
    return f"{method} " + re.sub(r"/\d+", "/{id}", path.removeprefix("/api/v2"))


def idle_hour(open_tickets: int) -> tuple[int, int]:
    """Requests in an idle hour at the default cadence (a poll every `poll_seconds`, a sweep
    every `sweep_seconds`) while `open_tickets` cancellations wait for their deadline (in a
    week): the worker has seen them all (its cursor is past them), nothing changes. Then the
    requests of the sweep's daily check of its deadline range against the full listing, made
    before the hour (a worker that has run for a day made it already)."""
    world = FreshdeskWorld()
    try:
        adapter = world.hooked.adapter
        assert isinstance(adapter, FreshdeskHelpdesk)
        deadline = adapter.layout.fields[FieldKey.DEADLINE]
        day = (world.clock.now + timedelta(days=7)).date().isoformat()
        fake = world.fake
        for n in range(open_tickets):
            contact = fake.add_contact(f"Cliente {n}", f"cliente{n}@exemplo.com.br")
            ticket = fake.create_ticket(contact, "Cancelamento", "Quero cancelar.")
            fake.agent_updates(
                ticket,
                {"status": PENDING, "tags": ["cancelamento"], "custom_fields": {deadline: day}},
            )
        world.later(minutes=2)
        world.worker.cursor = _Cursor(_iso(world.clock.now - timedelta(seconds=30)), 1, {}).render()
        schedule = world.config.schedule
        every = schedule.sweep_seconds // schedule.poll_seconds
        mark = len(fake.requests)
        world.worker.sweep(world.clock())  # the first sweep of the day checks its range
        check = len(fake.requests) - mark - 1
        mark = len(fake.requests)
        for n in range(3600 // schedule.poll_seconds):
            world.later(seconds=schedule.poll_seconds)
            world.worker.poll(world.clock())
            if n % every == 0:
                world.worker.sweep(world.clock())
        return len(fake.requests) - mark, check
    finally:
        world.close()


def run(tickets: int = TICKETS, open_tickets: int = OPEN_BACKLOG) -> None:
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
    started = time.perf_counter()
    idle = {count: idle_hour(count) for count in sorted({0, open_tickets})}
    print(
        "\nIdle hour at default settings (a poll a minute, a sweep every 5 min): "
        + ", ".join(f"{n} requests with {count:,} open" for count, (n, _) in idle.items())
        + f" ({time.perf_counter() - started:.0f} s wall). The sweep asks only for deadlines"
        " up to yesterday, so an idle one is one request whatever waits. Once a day it also"
        " lists every open cancellation to check that range (fact 41 is not settled): "
        + ", ".join(f"{c} requests with {count:,} open" for count, (_, c) in idle.items())
        + "."
    )
