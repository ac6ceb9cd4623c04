"""Health and Prometheus metrics of the long-running worker (`--metrics-port`, env
WORKER_METRICS_PORT).

`Metrics` is what the service tells about its work; `serve` exposes it over HTTP on a daemon
thread: `GET /healthz` (the age of the last successful poll, JSON), `GET /metrics` (the
Prometheus text format) and, when a `Receiver` is given, `POST /webhooks/zendesk` and
`POST /webhooks/freshdesk` (worker/webhooks.py: only these paths need exposing to the
helpdesk). Every metric lives in the instance's own registry, never the process-wide one, so two
workers (or two tests) in one process do not clash.

Nothing here carries personal data: labels are outcomes and step kinds, values are counts and
times. The HTTP server logs no requests.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Info
from prometheus_client.exposition import choose_encoder
from prometheus_client.process_collector import ProcessCollector

from worker.webhooks import MAX_BODY, PATHS, Receiver

if TYPE_CHECKING:
    from worker.service import PollReport

PREFIX = "cancelamento"


def _version() -> str:
    try:
        return metadata.version("cancelamento-worker")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def step_kind(key: str) -> str:
    """`5:email-contato` -> `email-contato`: the kind, never the ticket-specific number."""
    return key.partition(":")[2] or key


@dataclass(frozen=True)
class Health:
    ok: bool
    status: str  # "ok", "starting", "working" (a long poll making progress) or "stale"
    last_poll_age_seconds: float | None
    paused: bool

    def body(self) -> dict[str, Any]:
        age = self.last_poll_age_seconds
        return {
            "status": self.status,
            "last_poll_age_seconds": None if age is None else round(age, 3),
            "paused": self.paused,
        }


class Metrics:
    """Counters and gauges of one worker. Thread-safe: the service writes from its thread, the
    HTTP server reads from its own.

    Times passed in (`at`) should be wall-clock, timezone-aware datetimes, the same clock that
    `serve` is given (not a rehearsal clock fixed with `--now`)."""

    def __init__(
        self,
        *,
        helpdesk: str = "zendesk",
        dry_run: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clock = clock  # the wall clock, for what is stamped as it happens (ticket_handled)
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._last_ok_poll: datetime | None = None
        self._last_progress: datetime | None = None
        self._paused = False
        self._api_seen = (0, 0)
        r = self.registry
        info = Info(f"{PREFIX}_worker", "The running worker.", registry=r)
        info.info({"version": _version(), "helpdesk": helpdesk, "dry_run": str(dry_run).lower()})
        self._polls = Counter(
            f"{PREFIX}_polls", "Polls finished, by outcome.", ["outcome"], registry=r
        )
        self._sweeps = Counter(
            f"{PREFIX}_sweeps", "Deadline sweeps finished, by outcome.", ["outcome"], registry=r
        )
        for outcome in ("ok", "failed"):
            self._polls.labels(outcome=outcome)
            self._sweeps.labels(outcome=outcome)
        self._last_poll_ts = Gauge(
            f"{PREFIX}_last_successful_poll_timestamp_seconds",
            "When the last successful poll finished (Unix time).",
            registry=r,
        )
        self._last_sweep_ts = Gauge(
            f"{PREFIX}_last_successful_sweep_timestamp_seconds",
            "When the last successful deadline sweep finished (Unix time).",
            registry=r,
        )
        self._steps = Counter(
            f"{PREFIX}_steps",
            "Steps written (decided, under --dry-run), by kind (the step key after ':').",
            ["kind"],
            registry=r,
        )
        self._emails = Counter(
            f"{PREFIX}_emails_sent",
            "E-mails sent to customers (decided, under --dry-run).",
            registry=r,
        )
        self._handled = Counter(
            f"{PREFIX}_tickets_handled", "Tickets read and decided without error.", registry=r
        )
        self._failed = Counter(
            f"{PREFIX}_ticket_failures",
            "Tickets that failed (helpdesk error or undecidable); retried later.",
            registry=r,
        )
        self._requests = Counter(
            f"{PREFIX}_api_requests", "Requests made to the helpdesk API.", registry=r
        )
        self._throttled = Counter(
            f"{PREFIX}_api_throttled",
            "Helpdesk API answers 429 (rate limited), each waited out.",
            registry=r,
        )
        self._waiting = Gauge(
            f"{PREFIX}_tickets_waiting",
            "Open cancellation tickets waiting on a deadline.",
            registry=r,
        )
        self._oldest_deadline = Gauge(
            f"{PREFIX}_oldest_deadline_timestamp_seconds",
            "The earliest deadline among waiting tickets (Unix time; NaN when none).",
            registry=r,
        )
        self._oldest_deadline.set(math.nan)
        self._paused_gauge = Gauge(
            f"{PREFIX}_paused",
            "1 while the worker is paused (config safety.paused or the PAUSE file): no writes.",
            registry=r,
        )
        self._webhooks = Counter(
            f"{PREFIX}_webhooks",
            "Webhook deliveries, by helpdesk and outcome (queued, coalesced, duplicate, full,"
            " bad-signature, outside-window, bad-token, ...).",
            ["helpdesk", "outcome"],
            registry=r,
        )
        ProcessCollector(registry=r)  # the standard process_* metrics (memory, CPU, fds)

    # What the service reports -----------------------------------------------------------------

    def poll_finished(self, ok: bool, at: datetime) -> None:
        self._polls.labels(outcome="ok" if ok else "failed").inc()
        if ok:
            with self._lock:
                self._last_ok_poll = at
            self._last_poll_ts.set(at.timestamp())

    def sweep_finished(self, ok: bool, at: datetime) -> None:
        self._sweeps.labels(outcome="ok" if ok else "failed").inc()
        if ok:
            self._last_sweep_ts.set(at.timestamp())

    def ticket_handled(self, at: datetime | None = None) -> None:
        """A ticket got through: a poll working through a long backlog is alive. Stamped now by
        the wall clock unless `at` says when: a run's own `now` is when it started, and may be a
        rehearsal's."""
        at = self.clock() if at is None else at
        self._handled.inc()
        with self._lock:
            self._last_progress = at

    def step_written(self, kind: str, email: bool) -> None:
        """`kind` may be a whole step key (`5:email-contato`): only the kind is kept."""
        self._steps.labels(kind=step_kind(kind)).inc()
        if email:
            self._emails.inc()

    def ticket_failed(self) -> None:
        self._failed.inc()

    def api_requests(self, total: int, throttled: int) -> None:
        """Set from the adapter's cumulative totals (e.g. `client.stats`), as often as wanted:
        the counters move by the difference. Totals that go down (a new client) count from 0."""
        with self._lock:
            seen_total, seen_throttled = self._api_seen
            self._api_seen = (total, throttled)
        self._requests.inc(total - seen_total if total >= seen_total else total)
        self._throttled.inc(
            throttled - seen_throttled if throttled >= seen_throttled else throttled
        )

    def webhook(self, helpdesk: str, outcome: str) -> None:
        self._webhooks.labels(helpdesk=helpdesk, outcome=outcome).inc()

    def waiting(self, count: int, oldest_deadline: datetime | None) -> None:
        self._waiting.set(count)
        self._oldest_deadline.set(
            math.nan if oldest_deadline is None else oldest_deadline.timestamp()
        )

    def paused(self, flag: bool) -> None:
        with self._lock:
            self._paused = flag
        self._paused_gauge.set(1 if flag else 0)

    def run_finished(
        self,
        job: str,
        report: PollReport | None,
        at: datetime,
        cost: Mapping[str, int] | None = None,
    ) -> None:
        """One scheduled job ended: `job` is "poll" or "sweep", `report` None when it failed,
        `cost` the connection's cumulative request counts (`Connection.cost()`). A paused run is
        a successful one (the worker is alive and doing what it was told); `paused` says so. A
        "webhook" job (one woken ticket) is neither: it must not make a failing poll look
        healthy."""
        if job != "webhook":
            finished = self.sweep_finished if job == "sweep" else self.poll_finished
            finished(report is not None, at)
        if report is not None:
            self.paused(report.paused is not None)
        if cost:
            self.api_requests(cost.get("requests", 0), cost.get("throttled", 0))

    # What /healthz answers ----------------------------------------------------------------------

    def health(self, now: datetime, started: datetime, max_poll_age: timedelta) -> Health:
        """Healthy while the last successful poll is younger than `max_poll_age`; before the
        first one, "starting" for `max_poll_age` after `started`; during a poll longer than that
        (a backlog), "working" while tickets keep getting through."""
        with self._lock:
            last, progress, paused = self._last_ok_poll, self._last_progress, self._paused
        limit = max_poll_age.total_seconds()
        age = None if last is None else max(0.0, (now - last).total_seconds())
        if age is not None and age <= limit:
            return Health(True, "ok", age, paused)
        if progress is not None and (now - progress).total_seconds() <= limit:
            return Health(True, "working", age, paused)
        if last is None and (now - started).total_seconds() <= limit:
            return Health(True, "starting", None, paused)
        return Health(False, "stale", age, paused)


class Server:
    """The HTTP endpoint on a daemon thread. `port` is the bound one (useful with port 0)."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def serve(
    metrics: Metrics,
    port: int,
    host: str = "0.0.0.0",
    *,
    max_poll_age: timedelta,
    clock: Callable[[], datetime],
    receiver: Receiver | None = None,
) -> Server:
    """Start `/healthz` and `/metrics` on `host:port` (port 0: any free port), and the webhook
    paths when `receiver` is given. Raises OSError when the port cannot be bound."""
    started = clock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "cancelamento-worker"
        sys_version = ""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                health = metrics.health(clock(), started, max_poll_age)
                status = HTTPStatus.OK if health.ok else HTTPStatus.SERVICE_UNAVAILABLE
                body = json.dumps(health.body()).encode()
                self._send(status, "application/json", body)
            elif path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._send(HTTPStatus.OK, content_type, encoder(metrics.registry))
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

        def do_POST(self) -> None:
            helpdesk = PATHS.get(self.path.split("?", 1)[0])
            if receiver is None or helpdesk is None:
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._send(HTTPStatus.LENGTH_REQUIRED, "text/plain; charset=utf-8", b"")
                return
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True  # the body is not read, so not reusable
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "text/plain; charset=utf-8", b"")
                return
            body = self.rfile.read(length)
            answer = receiver.receive(helpdesk, dict(self.headers.items()), body)
            self._send(HTTPStatus(answer.status), "application/json", answer.body())

        def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """No access log: the worker's stderr is its structured log."""

    class Httpd(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    return Server(Httpd((host, port), Handler))
