"""What the long Zendesk benchmarks share: one simulated clock, a direct transport to the fake,
an account set up by `worker setup` with a backlog, and memory probes.

The clock is the only source of time for the fake (its rate limits), the worker (deadlines) and
the client's pacing (`monotonic` and `sleep`), so a drain that takes two simulated hours runs in
seconds. The transport hands each request to `FakeZendesk.handle` through a `requests` adapter,
with the same JSON round trip as a server, but without `responses`' matching per request.
"""

from __future__ import annotations

import gc
import io
import json
import resource
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from worker.adapters.zendesk.adapter import ZendeskHelpdesk
from worker.adapters.zendesk.http import Credentials, ZendeskClient, new_session
from worker.adapters.zendesk.provision import setup
from worker.bootstrap import bootstrap
from worker.config import Config
from worker.core.calendar import SAO_PAULO
from worker.sandbox import FakeZendesk, LostResponse, RateLimits
from worker.sandbox.clock import SimulatedClock
from worker.service import Worker

BASE_URL = "https://example.zendesk.com"
START = datetime(2026, 12, 7, 9, 0, tzinfo=SAO_PAULO)  # a Monday
CPF = "529.982.247-25"
TICKET_PUT = "/api/v2/tickets/"  # + "{id}.json": the Update Ticket endpoint


def _plan(per_minute: int, updates: int = 100, exports: int = 10) -> RateLimits:
    return RateLimits(
        account_per_minute=per_minute,
        ticket_updates_per_minute=updates,
        incremental_exports_per_minute=exports,
        updates_per_ticket_per_10_minutes=30,
    )


# Zendesk's limits (docs/zendesk.md, facts 6b, 10a, 10b): Team, Growth and Professional (the plans
# most customers have), Enterprise, and the High Volume add-on
TEAM = _plan(200)
GROWTH = _plan(400)
ENTERPRISE = _plan(700)
HIGH_VOLUME = _plan(2500, 300, 30)


class SimClock(SimulatedClock):
    def advance(self, delta: timedelta) -> None:
        self.now += delta


Observer = Callable[[str, str, int], None]  # method, path, status


class DirectAdapter(BaseAdapter):
    """A `requests` transport that answers from the fake in-process: the body goes through JSON
    both ways, as over HTTP, and a lost response becomes a connection error."""

    def __init__(self, fake: FakeZendesk, observe: Observer | None = None) -> None:
        super().__init__()
        self.fake = fake
        self.observe = observe

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body
        raw = body.encode() if isinstance(body, str) else body
        url = request.url or ""
        method = request.method or "GET"
        try:
            status, headers, payload = self.fake.handle(method, url, dict(request.headers), raw)
        except LostResponse:
            raise requests.ConnectionError("connection reset (lost response)") from None
        if self.observe is not None:
            self.observe(method, url.removeprefix(self.fake.base_url).split("?", 1)[0], status)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = json.dumps(payload).encode()
        response.encoding = "utf-8"
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        pass


# --- the account ------------------------------------------------------------------------------


@dataclass
class Account:
    """The fake with `worker setup` applied, a worker that has never run, and the client it
    uses (its `stats` count requests and 429s)."""

    clock: SimClock
    fake: FakeZendesk
    config: Config
    client: ZendeskClient
    helpdesk: ZendeskHelpdesk
    worker: Worker
    shortcuts: list[str] = field(default_factory=list)


def new_account(
    config: Config,
    limits: RateLimits,
    *,
    observe: Observer | None = None,
    transport: str = "direct",
    fast: bool = True,
) -> tuple[Account, Callable[[], None]]:
    """The account and a function that releases the transport (for `responses`)."""
    clock = SimClock(START)
    fake = FakeZendesk(clock=clock, subdomain_url=BASE_URL, limits=limits)
    shortcuts = accelerate(fake) if fast else []
    credentials = Credentials(fake.base_url, "worker@empresa.com.br", "token", None)
    stop: Callable[[], None] = lambda: None  # noqa: E731
    if transport == "responses":
        import responses

        from worker.sandbox.responses_binding import install

        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock.start()
        install(mock, fake)

        def stop() -> None:
            mock.stop()
            mock.reset()

        session = new_session(credentials)
    else:
        session = new_session(credentials)
        session.mount(fake.base_url, DirectAdapter(fake, observe))
    # no proxy look-up in the environment on every request (a third of the wall time here)
    session.trust_env = False

    def client() -> ZendeskClient:
        return ZendeskClient(
            credentials,
            config.zendesk,
            session=session,
            clock=clock.monotonic,
            sleep=clock.sleep,
            jitter=lambda low, high: high,
        )

    setup(client(), config, dry_run=False, out=io.StringIO())
    worker_client = client()
    helpdesk = ZendeskHelpdesk(worker_client, config, monotonic=clock.monotonic)
    worker = bootstrap(config, helpdesk=helpdesk, clock=clock, contract=None).worker
    account = Account(clock, fake, config, worker_client, helpdesk, worker, shortcuts)
    return account, stop


def add_holder(fake: FakeZendesk, n: int, *, created_at: datetime | None = None) -> int:
    """Situação 1: a person's account (CPF), its holder writing from the registered e-mail."""
    email = f"titular{n}@exemplo.com.br"
    account = fake.add_organization(f"Cliente {n}", {"documento": CPF, "email_cadastro": email})
    user = fake.add_user(
        f"Titular {n}", email, organization_ids=[account], user_fields={"titular": True}
    )
    return fake.add_ticket(
        user,
        "Cancelamento do contrato",
        "Quero cancelar o meu contrato.",
        tags=["cancelamento"],
        created_at=created_at,
    )


# --- a speed shortcut for the fake's search ---------------------------------------------------
#
# The fake answers a search by scanning every record (tens of milliseconds at 10,000 tickets),
# which makes a 10,000-ticket drain quadratic: minutes of wall time spent in the fake, not in the
# worker. The shortcut indexes, by id, the records the worker's two queries look for, and runs
# the fake's own search on those candidates only, so every answer is what the fake would have
# said (a record whose indexed value changed after indexing could only be missed, and none does
# here). It is skipped (the run is only slower) when the sandbox's search has another shape.


class _Index:
    """Record ids by key over one of the store's dicts; rebuilt when the dict's size changes
    (records are resolved through the dict, so reloaded records are the current ones)."""

    def __init__(self, records: dict[int, Any], keys: Callable[[Any], Iterable[str]]) -> None:
        self.records = records
        self.keys = keys
        self.size = -1
        self.ids: dict[str, list[int]] = {}

    def get(self, key: str) -> dict[int, Any]:
        if len(self.records) != self.size:
            self.ids = {}
            for record_id, record in self.records.items():
                for name in self.keys(record):
                    self.ids.setdefault(name, []).append(record_id)
            self.size = len(self.records)
        return {i: self.records[i] for i in self.ids.get(key, []) if i in self.records}


class _Narrowed:
    """The fake's store as the search sees it, with one collection cut down to candidates."""

    def __init__(self, store: Any, **subsets: dict[int, Any]) -> None:
        self._store = store
        self.__dict__.update(subsets)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _indexed_search(store: Any, current: object) -> Any:
    """The fake's search, run on the candidates an index finds for the two queries the worker
    sends (`type:ticket requester:"e-mail" ...` and `type:organization <field>:"value"`); any
    other query scans everything, as before. None if the sandbox's search has another shape."""
    try:
        from worker.sandbox.search import Searcher, parse_query, requested_types
    except ImportError:
        return None
    if type(current) is not Searcher or not all(
        isinstance(getattr(store, name, None), dict)
        for name in ("users", "tickets", "organizations")
    ):
        return None

    users = _Index(store.users, lambda u: {str(u.id), u.email.casefold(), u.name.casefold()})
    tickets = _Index(store.tickets, lambda t: {str(t.requester_id)})
    organizations = _Index(
        store.organizations,
        lambda o: {f"{k}={str(v).casefold()}" for k, v in o.organization_fields.items()},
    )

    class IndexedSearcher(Searcher):
        def run(self, query: str, kinds: set[str] | None = None) -> list[tuple[str, Any]]:
            terms = parse_query(query)
            wanted = requested_types(terms) or {"ticket", "user", "organization"}
            if kinds is not None:
                wanted &= kinds
            plain = [t for t in terms if t.op == ":" and not t.negated and t.key]
            narrowed: _Narrowed | None = None
            found: dict[int, Any] = {}
            if wanted == {"ticket"}:
                # repeated `requester:` terms are OR-ed: the candidates are their union
                values = [t.value.casefold() for t in plain if t.key == "requester"]
                if values and "none" not in values:
                    for value in values:
                        for user_id in users.get(value):
                            found.update(tickets.get(str(user_id)))
                    narrowed = _Narrowed(self.store, tickets=found)
            elif wanted == {"organization"}:
                keys = {d["key"] for d in self.store.organization_fields}
                key = next((t.key for t in plain if t.key in keys), None)
                values = [t.value.casefold() for t in plain if t.key == key]
                if key is not None and "none" not in values:
                    for value in values:
                        found.update(organizations.get(f"{key}={value}"))
                    narrowed = _Narrowed(self.store, organizations=found)
            if narrowed is None:
                return super().run(query, kinds)
            return Searcher(narrowed).run(query, kinds)  # type: ignore[arg-type]

    return IndexedSearcher(store)


def accelerate(fake: FakeZendesk) -> list[str]:
    """Installs the search shortcut if it fits this fake; returns what was applied."""
    indexed = _indexed_search(getattr(fake, "store", None), getattr(fake, "searcher", None))
    if indexed is None:
        return []
    fake.searcher = indexed
    return ["search index"]


# --- memory -----------------------------------------------------------------------------------


def _status_mb(field: str) -> float | None:
    """A size from /proc/self/status (Linux), in MB, or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def current_rss_mb() -> float | None:
    """The resident set now (Linux), or None."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """The process's peak resident set so far: VmHWM on Linux (a spawned process's own, where
    `ru_maxrss` may start from its parent's), else `ru_maxrss` (KiB on Linux, bytes on macOS)."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def deep_size_mb(*roots: object, stop: Iterable[object] = ()) -> float:
    """Bytes reachable from `roots` (objects counted once; classes, modules and functions, and
    anything in `stop`, are neither counted nor followed)."""
    skip = (type, type(sys), type(deep_size_mb))
    seen = {id(o) for o in stop}
    pending = [o for o in roots if id(o) not in seen]
    total = 0
    while pending:
        obj = pending.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        pending.extend(r for r in gc.get_referents(obj) if id(r) not in seen)
    return total / (1024 * 1024)
