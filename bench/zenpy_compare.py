"""Our Zendesk client against zenpy on the same reads, counted by the sandbox (docs/zendesk.md,
"Why not zenpy"). Not part of `make test` nor of `make bench`, and zenpy is no dependency: it
runs only where `zenpy` imports, e.g.

    python3 -m venv /tmp/zenpy && /tmp/zenpy/bin/pip install zenpy
    PYTHONPATH=/tmp/zenpy/lib/python3.11/site-packages .venv/bin/python -m bench.zenpy_compare

Each client reads, on a fresh sandbox served over loopback HTTP (the same seed each time), what
one poll of the worker reads for `TICKETS` new cancellation tickets (half PF holders, each with
an account of their own; half managing partners of a company with two): the incremental
export, then for each ticket its comments and their authors, the requester and their
organizations, the organizations whose registered e-mail is the requester's, each
organization's members, and the organization memberships of each marked member other than
the requester (once per person a poll). The sandbox counts every request it answers.
Ours is the worker's own adapter (`read_ticket`, `read_ficha` after `changed_tickets`); zenpy
is asked the same things through its public API, once with its cache off (`disable_cache`)
and once with its cache purged at the start of the poll (as our per-poll memory is).
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bench.sim import add_holder
from bench.zendesk import CNPJ, bench_config
from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.core.calendar import SAO_PAULO
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SandboxClock
from worker.sandbox.server import SandboxServer

TICKETS = 500
START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)
EMAIL, TOKEN = "worker@empresa.com.br", "token"
MARKS = ("titular", "socio_administrador")
FAMILIES: Counter[str] = Counter()
UNPACED = {"requests_per_minute": 10_000, "ticket_updates_per_minute": 1_000, "share": 1.0}


@contextmanager
def sandbox(tickets: int) -> Iterator[tuple[SandboxServer, Callable[[], int], datetime]]:
    """A provisioned sandbox with `tickets` new tickets; the request count from now on (the
    last run's requests by endpoint family are kept in `FAMILIES`)."""
    clock = SandboxClock(START)
    lock = threading.Lock()
    count = [0]

    def on_request(method: str, path: str) -> None:
        with lock:
            count[0] += 1
            route = re.sub(r"/[0-9]+", "/{id}", path.split("?", 1)[0])
            FAMILIES[f"{method} {route}"] += 1

    server = SandboxServer(
        lambda url: FakeZendesk(clock=clock, subdomain_url=url, limits=RateLimits.off()),
        on_request=on_request,
        clock=clock,
    ).start()
    try:
        config = bench_config()
        credentials = Credentials(server.url, EMAIL, TOKEN, None)
        setup(ZendeskClient(credentials, config.zendesk), config, dry_run=False, out=io.StringIO())
        created = clock() - timedelta(minutes=10)  # past the export's one-minute horizon
        for n in range(tickets):
            if n % 2:
                add_company(server.fake, n, created)
            else:
                add_holder(server.fake, n, created_at=created)
        since = created - timedelta(minutes=1)
        with lock:
            count[0] = 0
            FAMILIES.clear()
        yield server, lambda: count[0], since
    finally:
        server.close()


def add_company(fake: FakeZendesk, n: int, created: datetime) -> int:
    """Situação 2: a company (CNPJ) with two managing partners; the first one writes."""
    account = fake.add_organization(
        f"Empresa {n}", {"documento": CNPJ, "email_cadastro": f"contato{n}@empresa.com.br"}
    )
    partners = [
        fake.add_user(
            f"Sócio {n}-{k}",
            f"socio{n}-{k}@empresa.com.br",
            organization_ids=[account],
            user_fields={"socio_administrador": True},
        )
        for k in (1, 2)
    ]
    return fake.add_ticket(
        partners[0],
        "Cancelamento do contrato",
        "Quero cancelar o meu contrato.",
        tags=["cancelamento"],
        created_at=created,
    )


def ours(tickets: int) -> int:
    with sandbox(tickets) as (server, requests, since):
        # The sandbox's limits are off, and so is our pacing: only the count matters here.
        config = bench_config()
        config = config.model_copy(update={"zendesk": config.zendesk.model_copy(update=UNPACED)})
        helpdesk = ZendeskHelpdesk(
            ZendeskClient(Credentials(server.url, EMAIL, TOKEN, None), config.zendesk), config
        )
        cursor: str | None = None
        read = 0
        while True:
            page = helpdesk.changed_tickets(cursor, since)
            for ticket_id in page.ticket_ids:
                ticket = helpdesk.read_ticket(ticket_id, page.headers.get(ticket_id))
                helpdesk.read_ficha(ticket)
                read += 1
            cursor = page.cursor
            if not page.more:
                break
        assert read == tickets, f"our client read {read} of {tickets} tickets"
        return requests()


def with_zenpy(tickets: int, *, cache: bool) -> int:
    from zenpy import Zenpy  # type: ignore[import-not-found]

    with sandbox(tickets) as (server, requests, since):
        address = urlsplit(server.url)
        os.environ["ZENPY_FORCE_SCHEME"] = address.scheme
        os.environ["ZENPY_FORCE_NETLOC"] = address.netloc
        client = Zenpy(subdomain="sandbox", email=EMAIL, token=TOKEN, disable_cache=not cache)
        if cache:  # a poll starts with an empty cache, as our per-poll memory does
            for name in ("user", "organization", "ticket", "organization_membership"):
                client.purge_cache(name)
        read = 0
        seen_memberships: set[int] = set()
        for ticket in client.tickets.incremental(
            start_time=int(since.timestamp()), paginate_by_time=False
        ):
            poll_reads(client, ticket, seen_memberships)
            read += 1
        assert read == tickets, f"zenpy read {read} of {tickets} tickets"
        return requests()


def poll_reads(client: Any, ticket: Any, seen_memberships: set[int]) -> None:
    """What the worker reads of one ticket, through zenpy's public API."""
    for comment in client.tickets.comments(ticket=ticket.id):
        _ = comment.author.name  # the author's name and role
    # The requester with their organizations side-loaded, as ours asks; zenpy hands a
    # side-load to an object only through its cache (its primary organization here: each
    # holder has one account).
    requester = client.users(id=ticket.requester_id, include="organizations")
    organizations = {o.id: o for o in [requester.organization] if o is not None}
    registered = client.search(type="organization", email_cadastro=requester.email)
    organizations.update({o.id: o for o in registered})
    for organization in organizations.values():
        for member in client.organizations.users(organization.id):
            fields = member.user_fields or {}
            if member.id == requester.id or member.id in seen_memberships:
                continue
            if any(fields.get(mark) for mark in MARKS):
                seen_memberships.add(member.id)
                list(client.users.organization_memberships(user=member.id))


def main() -> None:
    try:
        import zenpy
    except ImportError:
        print("zenpy is not importable here: nothing measured (see this module's docstring)")
        return
    runs: dict[str, Callable[[], int]] = {
        "our client": lambda: ours(TICKETS),
        "zenpy, cache off (disable_cache=True)": lambda: with_zenpy(TICKETS, cache=False),
        "zenpy, cache purged at each poll": lambda: with_zenpy(TICKETS, cache=True),
    }
    figures, families = {}, {}
    for name, measure in runs.items():
        figures[name] = measure()
        families[name] = FAMILIES.most_common()
    print(f"Requests the sandbox answered for the same reads of {TICKETS} tickets")
    print(f"(zenpy {getattr(zenpy, '__version__', '?')}):")
    base = figures["our client"]
    for name, count in figures.items():
        extra = f" ({(count - base) / base:+.0%} against ours)" if count != base else ""
        print(f"  {name}: {count:,}{extra}")
        print("    " + ", ".join(f"{family} {n}" for family, n in families[name]))


if __name__ == "__main__":
    main()
