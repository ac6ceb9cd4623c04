"""Health and metrics: counters move as the service reports, /healthz tells a fresh poll from a
stale one (with a grace period at start), /metrics speaks Prometheus, and the port is freed."""

from __future__ import annotations

import json
import math
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.clock import Clock
from worker.metrics import Metrics, Server, serve, step_kind
from worker.service import PollReport

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(minutes=5)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, f"{name}{labels} not exposed"
    return found


def get(server: Server, path: str) -> tuple[int, str, bytes]:
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(helpdesk="zendesk", dry_run=False)


@pytest.fixture
def server(metrics: Metrics, clock: Clock) -> Iterator[Server]:
    running = serve(metrics, 0, "127.0.0.1", max_poll_age=MAX_AGE, clock=clock)
    yield running
    running.close()


def test_counters_move_as_the_service_reports(metrics: Metrics) -> None:
    metrics.poll_finished(True, T0)
    metrics.poll_finished(False, T0)
    metrics.poll_finished(True, T0 + timedelta(minutes=1))
    metrics.sweep_finished(True, T0)
    metrics.step_written("email-contato", email=True)
    metrics.step_written("5:email-contato", email=True)
    metrics.step_written("6:nota-ficha", email=False)
    metrics.ticket_failed()
    metrics.ticket_handled(T0)

    assert value(metrics, "cancelamento_polls_total", outcome="ok") == 2
    assert value(metrics, "cancelamento_polls_total", outcome="failed") == 1
    assert value(metrics, "cancelamento_sweeps_total", outcome="ok") == 1
    assert value(metrics, "cancelamento_sweeps_total", outcome="failed") == 0
    assert (
        value(metrics, "cancelamento_last_successful_poll_timestamp_seconds")
        == (T0 + timedelta(minutes=1)).timestamp()
    )
    assert value(metrics, "cancelamento_steps_total", kind="email-contato") == 2
    assert value(metrics, "cancelamento_steps_total", kind="nota-ficha") == 1
    assert value(metrics, "cancelamento_emails_sent_total") == 2
    assert value(metrics, "cancelamento_ticket_failures_total") == 1
    assert value(metrics, "cancelamento_tickets_handled_total") == 1


def test_api_counters_follow_cumulative_totals(metrics: Metrics) -> None:
    metrics.api_requests(10, 1)
    metrics.api_requests(10, 1)  # reported again: no change
    metrics.api_requests(25, 3)
    assert value(metrics, "cancelamento_api_requests_total") == 25
    assert value(metrics, "cancelamento_api_throttled_total") == 3
    metrics.api_requests(4, 0)  # a new client counts from zero: the counter never goes down
    assert value(metrics, "cancelamento_api_requests_total") == 29
    assert value(metrics, "cancelamento_api_throttled_total") == 3


def test_gauges_waiting_deadline_and_pause(metrics: Metrics) -> None:
    assert math.isnan(value(metrics, "cancelamento_oldest_deadline_timestamp_seconds"))
    assert value(metrics, "cancelamento_paused") == 0
    metrics.waiting(7, T0)
    metrics.paused(True)
    assert value(metrics, "cancelamento_tickets_waiting") == 7
    assert value(metrics, "cancelamento_oldest_deadline_timestamp_seconds") == T0.timestamp()
    assert value(metrics, "cancelamento_paused") == 1
    metrics.waiting(0, None)
    metrics.paused(False)
    assert value(metrics, "cancelamento_tickets_waiting") == 0
    assert math.isnan(value(metrics, "cancelamento_oldest_deadline_timestamp_seconds"))
    assert value(metrics, "cancelamento_paused") == 0


def test_run_finished_maps_a_scheduled_job(metrics: Metrics) -> None:
    metrics.run_finished("poll", PollReport(), T0, {"requests": 12, "writes": 2, "throttled": 1})
    metrics.run_finished("poll", PollReport(paused="PAUSE exists"), T0, {"requests": 12})
    metrics.run_finished("sweep", None, T0)
    assert value(metrics, "cancelamento_polls_total", outcome="ok") == 2
    assert value(metrics, "cancelamento_sweeps_total", outcome="failed") == 1
    assert value(metrics, "cancelamento_paused") == 1
    assert value(metrics, "cancelamento_api_requests_total") == 12
    assert value(metrics, "cancelamento_api_throttled_total") == 1
    metrics.run_finished("sweep", PollReport(), T0)
    assert value(metrics, "cancelamento_paused") == 0
    assert value(metrics, "cancelamento_last_successful_sweep_timestamp_seconds") == T0.timestamp()


def test_step_kind_keeps_only_the_kind() -> None:
    assert step_kind("5:email-contato") == "email-contato"
    assert step_kind("email-contato") == "email-contato"


def test_two_instances_do_not_clash() -> None:
    first, second = Metrics(), Metrics()
    first.ticket_failed()
    assert value(first, "cancelamento_ticket_failures_total") == 1
    assert value(second, "cancelamento_ticket_failures_total") == 0


def test_healthz_is_starting_then_stale_without_a_poll(server: Server, clock: Clock) -> None:
    status, content_type, body = get(server, "/healthz")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {
        "status": "starting",
        "last_poll_age_seconds": None,
        "paused": False,
    }

    clock.advance(minutes=6)
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert json.loads(body)["status"] == "stale"


def test_healthz_ok_when_fresh_and_503_when_stale(
    server: Server, metrics: Metrics, clock: Clock
) -> None:
    clock.advance(minutes=1)
    metrics.poll_finished(True, clock())
    clock.advance(seconds=30)
    status, _, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "last_poll_age_seconds": 30.0, "paused": False}

    metrics.poll_finished(False, clock())  # a failed poll does not refresh health
    clock.advance(minutes=5)
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "stale", "last_poll_age_seconds": 330.0, "paused": False}


def test_healthz_stays_green_through_a_long_poll_that_makes_progress(
    server: Server, metrics: Metrics, clock: Clock
) -> None:
    metrics.poll_finished(True, clock())
    clock.advance(minutes=20)
    metrics.ticket_handled(clock())  # a backlog: the poll is still going, tickets get through
    clock.advance(minutes=1)
    status, _, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "working"


def test_healthz_says_when_paused(server: Server, metrics: Metrics, clock: Clock) -> None:
    metrics.poll_finished(True, clock())
    metrics.paused(True)
    status, _, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body)["paused"] is True


def test_metrics_endpoint_exposes_every_name(server: Server, metrics: Metrics) -> None:
    metrics.step_written("5:email-contato", email=True)
    metrics.api_requests(3, 1)
    status, content_type, body = get(server, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    text = body.decode()
    for name in (
        "cancelamento_polls_total",
        "cancelamento_sweeps_total",
        "cancelamento_steps_total",
        "cancelamento_emails_sent_total",
        "cancelamento_api_requests_total",
        "cancelamento_api_throttled_total",
        "cancelamento_tickets_waiting",
        "cancelamento_oldest_deadline_timestamp_seconds",
        "cancelamento_last_successful_poll_timestamp_seconds",
        "cancelamento_paused",
        "cancelamento_worker_info",
    ):
        assert f"\n{name}" in text, name
    assert 'cancelamento_steps_total{kind="email-contato"} 1.0' in text
    assert 'dry_run="false"' in text


def test_unknown_path_is_404(server: Server) -> None:
    status, _, _ = get(server, "/")
    assert status == 404
    status, _, _ = get(server, "/metrics/extra")
    assert status == 404


def test_close_frees_the_port(metrics: Metrics, clock: Clock) -> None:
    running = serve(metrics, 0, "127.0.0.1", max_poll_age=MAX_AGE, clock=clock)
    port = running.port
    assert port > 0
    assert get(running, "/healthz")[0] == 200
    running.close()
    with socket.socket() as probe:
        # SO_REUSEADDR ignores the closed connections' TIME_WAIT, not a socket still listening
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
    again = serve(metrics, port, "127.0.0.1", max_poll_age=MAX_AGE, clock=clock)
    try:
        assert again.port == port
        assert get(again, "/healthz")[0] == 200
    finally:
        again.close()


def test_a_taken_port_raises(server: Server, metrics: Metrics, clock: Clock) -> None:
    with pytest.raises(OSError):
        serve(metrics, server.port, "127.0.0.1", max_poll_age=MAX_AGE, clock=clock)
