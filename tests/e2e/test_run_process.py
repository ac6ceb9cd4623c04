"""The real worker process (`python -m worker run`) against the fake Zendesk over loopback HTTP:
a clean stop on SIGTERM with a step in flight, the single-instance lock, and `run --once`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from worker.adapters.zendesk.http import Credentials, ZendeskClient
from worker.adapters.zendesk.provision import setup
from worker.config import Config
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SandboxClock
from worker.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


class Sandbox:
    def __init__(self) -> None:
        self.clock = SandboxClock()
        self.in_flight = threading.Event()
        self.hold_puts = 0.0
        self.server = SandboxServer(
            lambda url: FakeZendesk(clock=self.clock, subdomain_url=url, limits=RateLimits.off()),
            on_request=self._seen,
        ).start()
        self.fake = self.server.fake
        client = ZendeskClient(Credentials(self.server.url, None, None, "token"), Config().zendesk)
        setup(client, Config(), dry_run=False, out=io.StringIO())

    def _seen(self, method: str, path: str) -> None:
        if method == "PUT" and path.startswith("/api/v2/tickets/"):
            self.in_flight.set()
            time.sleep(self.hold_puts)  # the step is in flight while this sleeps

    def holder_ticket(self, n: int) -> int:
        self.clock.offset = timedelta(minutes=-5)
        email = f"cliente{n}@exemplo.com.br"
        account = self.fake.add_organization(
            f"Cliente {n}", {"documento": "529.982.247-25", "email_cadastro": email}
        )
        user = self.fake.add_user(
            f"Cliente {n}", email, organization_ids=[account], user_fields={"titular": True}
        )
        ticket = self.fake.add_ticket(
            user, "Cancelamento", "Quero cancelar o meu contrato.", tags=["cancelamento"]
        )
        self.clock.offset = timedelta(0)
        return ticket

    def worker_notes(self, ticket: int) -> list[str]:
        return [
            c["body"]
            for c in self.fake.comments(ticket)
            if c["author_id"] == self.fake.worker_id and not c["public"]
        ]

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "ZENDESK_URL": self.server.url,
            "ZENDESK_OAUTH_TOKEN": "token",
            "WORKER_LOG_FORMAT": "json",
        }


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    yield box
    box.server.close()


def start_worker(
    sandbox: Sandbox, state: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker", "--state-dir", str(state), "run", *args],
        cwd=ROOT,
        env={**sandbox.env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_once_takes_the_first_step_and_exits_zero(sandbox: Sandbox, tmp_path: Path) -> None:
    ticket = sandbox.holder_ticket(1)
    process = start_worker(sandbox, tmp_path / "state", "--once")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert len(sandbox.worker_notes(ticket)) == 1
    assert (tmp_path / "state" / "zendesk-poll.json").exists()


def test_sigterm_lets_the_step_in_flight_finish_and_exits_cleanly(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first, second = sandbox.holder_ticket(1), sandbox.holder_ticket(2)
    sandbox.hold_puts = 1.5
    process = start_worker(sandbox, tmp_path / "state")
    try:
        assert sandbox.in_flight.wait(timeout=60), "the worker never wrote"
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, err = process.communicate(timeout=20)
        stopped_in = time.monotonic() - started
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert stopped_in < 10
    assert "worker stopped" in err
    assert len(sandbox.worker_notes(first)) == 1  # the step in flight was written whole
    assert sandbox.worker_notes(second) == []  # and nothing new started


def test_a_second_worker_on_the_same_state_directory_refuses(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = start_worker(sandbox, state)
    try:
        deadline = time.monotonic() + 30
        lock = state / "worker.lock"
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text()):
            time.sleep(0.1)
        second = start_worker(sandbox, state, "--once")
        _, err = second.communicate(timeout=30)
        assert second.returncode != 0
        assert f"another worker (pid {first.pid})" in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)
    assert first.returncode == 0


def test_health_and_metrics_are_served_while_running(sandbox: Sandbox, tmp_path: Path) -> None:
    import json
    import urllib.request

    port = free_port()
    ticket = sandbox.holder_ticket(1)
    process = start_worker(sandbox, tmp_path / "state", env={"WORKER_METRICS_PORT": str(port)})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sandbox.worker_notes(ticket):
            time.sleep(0.2)
        time.sleep(1.0)  # the poll job reports after its last ticket
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            health = json.loads(answer.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            exposed = answer.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert health["status"] in ("ok", "working")
    assert 'cancelamento_steps_total{kind="inicio"} 1.0' in exposed
    assert "cancelamento_api_requests_total" in exposed


def test_explain_reads_one_ticket_and_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    ticket = sandbox.holder_ticket(1)
    before = len(sandbox.fake.requests)
    result = subprocess.run(
        [sys.executable, "-m", "worker", "--state-dir", str(tmp_path), "explain", str(ticket)],
        cwd=ROOT,
        env=sandbox.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"Ticket #{ticket}" in result.stdout
    assert "1:inicio" in result.stdout  # what it would do now
    assert "cliente1@exemplo.com.br" not in result.stdout  # masked
    methods = {m for m, _ in sandbox.fake.requests[before:]}
    assert methods == {"GET"}


def test_with_push_a_new_ticket_is_handled_on_its_webhook_long_before_the_next_poll(
    tmp_path: Path,
) -> None:
    """The whole push path through the real process: the sandbox fires the trigger `setup`
    created, signed, at the worker's metrics port; the poll runs once at start, then not for an
    hour, so only the webhook can bring the new ticket's step."""

    from worker.config import Schedule, Webhooks
    from worker.sandbox.webhooks import Emitter

    port = free_port()
    box = Sandbox()
    emitter = Emitter()
    box.fake.emitter = emitter
    url = f"http://127.0.0.1:{port}/webhooks/zendesk"
    config = Config(webhooks=Webhooks(public_url=url), schedule=Schedule(poll_seconds=3600))
    client = ZendeskClient(Credentials(box.server.url, None, None, "token"), config.zendesk)
    setup(client, config, dry_run=False, out=io.StringIO())
    config_file = tmp_path / "worker.yaml"
    config_file.write_text(
        f"schedule:\n  poll_seconds: 3600\nwebhooks:\n  public_url: {url}\n", encoding="utf-8"
    )
    env = {
        "WORKER_METRICS_PORT": str(port),
        "WORKER_CONFIG": str(config_file),
        "ZENDESK_WEBHOOK_SECRET": box.fake.store.webhooks[0]["_secret"],
    }
    process = start_worker(box, tmp_path / "state", env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and not _polled(port):
            time.sleep(0.2)
        ticket = box.fake.add_ticket(
            box.fake.add_user("Cliente", "cliente@exemplo.com.br"),
            "Cancelamento",
            "Quero cancelar o meu contrato.",
            tags=["cancelamento"],
        )
        written = time.monotonic() + 20
        while time.monotonic() < written and not box.worker_notes(ticket):
            time.sleep(0.1)
        notes = box.worker_notes(ticket)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        box.server.close()
    assert emitter.sent >= 1 and emitter.failed == 0, err
    assert len(notes) == 1, err


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _polled(port: int) -> bool:
    """/healthz says "ok" once the first poll succeeded."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(json.loads(answer.read())["status"] == "ok")
    except OSError:
        return False
