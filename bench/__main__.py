"""`make bench`: the procedure's own costs on the in-memory helpdesk, printed as a table.

Not a test: numbers to compare between versions. It opens a backlog of N cancellation tickets of
the three situations, lets simulated agents record three failed calls on each, and runs the
worker's poll and sweep until every deadline has passed. It reports the helpdesk calls per ticket
and per step (the adapters' budgets build on these), decisions per second and peak memory.
Then the same questions for the real Zendesk adapter against the fake Zendesk (`bench.zendesk`),
a backlog drained under Zendesk's real rate limits with the process's memory (`bench.backlog`),
and the delay from a ticket's creation to its first note (`bench.latency`). All in simulated
time. Then a drain in real time against the sandbox over loopback HTTP with 150 ms added to
every answer (`bench.realtime`): what users see, not what a simulated clock allows. Last, the
reading of Portuguese on the held-out corpus (`bench.reading`: the `evaluate-reading` table and
the time per e-mail).

`--quick` runs every section with smaller numbers (100 tickets here and in the Zendesk section,
1,000 in the drains and the idle backlog, one hour of arrivals, 200 tickets in real time): a few
minutes instead of twenty, for a change's first check; its summary values are marked where they
were measured smaller than their key says. Each section prints one progress line on stderr as it
starts, and the run ends with a summary block (`bench.summary`): one `key: value` line each, with
each goal and whether it is met.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
from datetime import datetime, timedelta

from bench import backlog, freshdesk, latency, push, reading, realtime, summary, zendesk
from worker import logs
from worker.adapters.memory import MemoryHelpdesk
from worker.bootstrap import bootstrap
from worker.config import Config, Safety
from worker.core.calendar import SAO_PAULO
from worker.core.model import Member, Person
from worker.sandbox.clock import SimulatedClock

AGENT = Person("agent", "agente@empresa.com.br", "Agente")


def open_backlog(helpdesk: MemoryHelpdesk, size: int) -> list[str]:
    ids = []
    for n in range(size):
        holder = Person(f"h{n}", f"titular{n}@exemplo.com.br", f"Titular {n}")
        partner = Person(f"p{n}", f"socio{n}@exemplo.com.br", f"Sócio {n}")
        other = Person(f"o{n}", f"outro{n}@exemplo.com.br", f"Outro {n}")
        kind = n % 3
        if kind == 0:
            helpdesk.add_account(
                f"a{n}", f"Conta {n}", "529.982.247-25", holder.email, [Member(holder, holder=True)]
            )
            requester = holder
        elif kind == 1:
            members = [
                Member(holder, managing_partner=True),
                Member(partner, managing_partner=True),
            ]
            helpdesk.add_account(
                f"a{n}", f"Empresa {n}", "11.222.333/0001-81", f"adm{n}@e.com.br", members
            )
            requester = holder
        else:
            members = [Member(holder, managing_partner=True), Member(other)]
            helpdesk.add_account(
                f"a{n}", f"Empresa {n}", "11.222.333/0001-81", f"adm{n}@e.com.br", members
            )
            requester = other
        ids.append(helpdesk.create_ticket(requester, "Cancelamento", "Quero cancelar o contrato."))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller numbers, in seconds")
    parser.add_argument("--tickets", type=int, help="in-memory backlog (300; quick: 100)")
    parser.add_argument(
        "--zendesk-tickets",
        type=int,
        help=f"backlog for the Zendesk section ({zendesk.TICKETS}; quick: 100; 0 skips it)",
    )
    parser.add_argument(
        "--backlog-tickets",
        type=int,
        help=f"tickets drained under real limits ({backlog.TICKETS:,}; quick: 1,000; 0 skips)",
    )
    parser.add_argument(
        "--realtime-tickets",
        type=int,
        help=f"tickets drained in real time at 150 ms an answer ({realtime.TICKETS:,}, about "
        "12 min; quick: 200; 0 skips)",
    )
    parser.add_argument(
        "--latency-hours",
        type=float,
        help=f"simulated hours of arrivals for the latency ({latency.HOURS:g}; quick: 1; 0 skips)",
    )
    parser.add_argument(
        "--push-tickets",
        type=int,
        help=f"comments timed through the webhook, real time ({push.TICKETS}; quick: 15; 0 skips)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the backlog drains (default: up to 2; 1 runs them in this process, "
        "whose RSS then includes the sections before)",
    )
    args = parser.parse_args()
    quick = args.quick

    def pick(value: float | None, normal: float, small: float) -> float:
        return value if value is not None else (small if quick else normal)

    args.tickets = int(pick(args.tickets, 300, 100))
    args.zendesk_tickets = int(pick(args.zendesk_tickets, zendesk.TICKETS, 100))
    args.backlog_tickets = int(pick(args.backlog_tickets, backlog.TICKETS, 1_000))
    args.latency_hours = pick(args.latency_hours, latency.HOURS, 1.0)
    args.push_tickets = int(pick(args.push_tickets, push.TICKETS, 15))
    args.realtime_tickets = int(pick(args.realtime_tickets, realtime.TICKETS, 200))
    whole = time.perf_counter()
    logs.configure("console", level=logging.WARNING)
    config = Config(safety=Safety(max_emails_per_run=100_000))  # a backlog, not a safety test
    clock = SimulatedClock(datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO))
    helpdesk = MemoryHelpdesk(config, clock)
    worker = bootstrap(config, helpdesk=helpdesk, clock=clock, contract=None).worker
    ids = open_backlog(helpdesk, args.tickets)

    summary.progress("in-memory procedure")
    started = time.perf_counter()
    polls = 0
    first = worker.poll(clock())
    polls += 1
    for ticket_id in ids:
        if "terceiro" not in helpdesk.ticket(ticket_id).tags:
            helpdesk.agent_note(ticket_id, AGENT, "#tentativa\n#tentativa\n#tentativa")
    clock.now += timedelta(minutes=1)
    second = worker.poll(clock())
    polls += 1
    clock.now += timedelta(days=7)
    third = worker.poll(clock())
    sweep = worker.sweep(clock())
    polls += 1
    elapsed = time.perf_counter() - started
    steps = first.steps + second.steps + third.steps + sweep.steps
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = [
        ("tickets", f"{args.tickets}"),
        ("steps taken", f"{steps}"),
        ("e-mails sent", f"{len(helpdesk.outbox)}"),
        ("helpdesk writes", f"{helpdesk.writes}"),
        ("writes per step (goal 1.00)", f"{helpdesk.writes / steps:.2f}"),
        ("helpdesk reads", f"{helpdesk.reads}"),
        ("reads per ticket per poll", f"{helpdesk.reads / (args.tickets * polls):.2f}"),
        ("wall time (s)", f"{elapsed:.2f}"),
        ("steps per second", f"{steps / elapsed:.0f}"),
        ("peak RSS (MB)", f"{peak_mb:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.zendesk_tickets > 0:
        summary.progress("zendesk adapter")
        zendesk.run(args.zendesk_tickets, 1_000 if quick else zendesk.OPEN_BACKLOG)
        summary.progress("freshdesk adapter")
        freshdesk.run(
            min(freshdesk.TICKETS, args.zendesk_tickets),
            1_000 if quick else freshdesk.OPEN_BACKLOG,
        )
    # after the sections above, so that their wall times are not shared with the drains
    if args.backlog_tickets > 0:
        summary.progress("backlog drains")
        backlog.run(args.backlog_tickets, max(1, args.jobs))
    polled = None
    if args.latency_hours > 0:
        summary.progress("detection latency")
        polled = latency.run(args.latency_hours)
    webhook_p95 = None
    if args.push_tickets > 0:
        summary.progress("webhook latency (real time)")
        webhook_p95 = push.run(args.push_tickets)
    if args.realtime_tickets > 0:
        summary.progress("real-time drain (minutes of wall time)")
        realtime.run(args.realtime_tickets)
    if args.backlog_tickets > 0:
        summary.progress("transports")
        print()
        print("== The bench's own transport ==")
        backlog.transports(min(300, args.backlog_tickets))
    summary.progress("reading of Portuguese")
    reading.run()
    print()
    print(f"make bench: {time.perf_counter() - whole:.0f} s wall")
    push.summarise(webhook_p95, polled)
    summary.show()


if __name__ == "__main__":
    main()
