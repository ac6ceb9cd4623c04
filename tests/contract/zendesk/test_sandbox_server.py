"""The sandbox over loopback HTTP: its admin endpoints, the faults it injects, rate limits per
endpoint, and the `sandbox` command itself (a real process, stopped by SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from worker.config import Config
from worker.core.calendar import BusinessCalendar
from worker.core.state import MARKER_PREFIX
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SandboxClock
from worker.sandbox.faults import Faults
from worker.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[3]
AUTH = {"Authorization": "Bearer sandbox"}
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Box:
    def __init__(self, limits: RateLimits, faults: Faults | None = None) -> None:
        self.slept: list[float] = []
        self.clock = SandboxClock(START)
        self.server = SandboxServer(
            lambda url: FakeZendesk(
                clock=self.clock,
                subdomain_url=url,
                limits=limits,
                faults=faults,
                sleep=self.slept.append,
            ),
            clock=self.clock,
        ).start()
        self.fake = self.server.fake
        self.url = self.server.url
        self.http = requests.Session()
        self.http.headers.update(AUTH)
        customer = self.fake.add_user("Ana Souza", "ana@exemplo.com.br")
        self.ticket = self.fake.add_ticket(customer, "Cancelamento", "Quero cancelar.")
        self.server.admin.mark_baseline()

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/api/v2/{path}", timeout=10, **kwargs)

    def admin(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(method, f"{self.url}/_sandbox/{name}", json=body, timeout=10)
        return answer.status_code, answer.json()

    def note(self, text: str = "nota") -> requests.Response:
        body = {"ticket": {"comment": {"body": text, "public": False}}}
        return self.api("PUT", f"tickets/{self.ticket}.json", json=body)


@pytest.fixture
def box() -> Iterator[Box]:
    box = Box(RateLimits.off())
    yield box
    box.server.close()


def test_the_server_refuses_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(lambda url: FakeZendesk(clock=lambda: START), host="0.0.0.0")


def test_state_counts_the_account_and_shows_faults_and_limits(box: Box) -> None:
    status, state = box.admin("GET", "state")
    assert status == 200
    assert state["counts"]["tickets"] == 1 and state["counts"]["emails"] == 0
    assert state["now"].startswith("2026-12-07T12:00")
    assert state["faults"]["error_rate"] == 0.0
    assert box.admin("GET", "nothing-here")[0] == 404
    assert box.admin("POST", "faults", {"error_rate": "lots"})[0] == 400


def test_the_clock_is_set_or_advanced_and_the_account_follows(box: Box) -> None:
    status, answer = box.admin("POST", "clock", {"now": "2026-12-10T09:00:00-03:00"})
    assert status == 200 and answer["now"].startswith("2026-12-10T12:00")
    assert box.admin("POST", "clock", {"advance_seconds": 86_400})[1]["now"].startswith(
        "2026-12-11T12:00"
    )
    assert box.note().json()["ticket"]["updated_at"].startswith("2026-12-11T12:00")
    assert box.admin("POST", "clock", {"now": "no"})[0] == 400
    assert box.admin("POST", "clock", {"now": "2026-12-10T09:00:00"})[0] == 400  # no offset


def test_reset_returns_to_the_baseline(box: Box) -> None:
    box.note("apagada pelo reset")
    box.fake.customer_replies(box.ticket, "Oi")
    status, answer = box.admin("POST", "reset")
    assert status == 200 and answer["counts"]["comments"] == 1
    assert len(box.api("GET", f"tickets/{box.ticket}/comments.json").json()["comments"]) == 1


def test_a_share_of_requests_fails_with_5xx_reproducibly_and_is_not_applied(box: Box) -> None:
    def run() -> list[int]:
        box.admin("POST", "reset")
        box.admin("POST", "faults", {"error_rate": 0.5, "seed": 7})
        return [box.note(f"nota {n}").status_code for n in range(20)]

    first, second = run(), run()
    assert first == second  # seeded: the same requests fail the same way
    assert {s for s in first if s != 200} <= {500, 502, 503, 504} and 200 in first
    assert box.admin("GET", "state")[1]["injected"]["error"] == 20 - first.count(200)
    box.admin("POST", "faults", {})
    comments = box.api("GET", f"tickets/{box.ticket}/comments.json").json()["comments"]
    assert len(comments) == 1 + first.count(200)


def test_a_dropped_write_was_applied_but_never_answered(box: Box) -> None:
    box.admin("POST", "faults", {"drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        box.note("chegou, sem resposta")
    assert box.api("GET", f"tickets/{box.ticket}.json").status_code == 200  # reads still answer
    box.admin("POST", "faults", {})
    assert box.fake.comments(box.ticket)[-1]["body"] == "chegou, sem resposta"


def test_a_429_storm_answers_everything_with_retry_after_until_it_passes(box: Box) -> None:
    box.admin("POST", "faults", {"storm_seconds": 30})
    limited = box.api("GET", f"tickets/{box.ticket}.json")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 30
    assert box.note().status_code == 429
    assert box.admin("GET", "state")[0] == 200  # the admin endpoints never fail
    box.admin("POST", "clock", {"advance_seconds": 31})
    assert box.api("GET", f"tickets/{box.ticket}.json").status_code == 200


def test_slow_responses_wait_after_the_request_was_served(box: Box) -> None:
    box.admin("POST", "faults", {"slow_rate": 1.0, "slow_seconds": 2.5})
    assert box.note().status_code == 200
    assert box.slept == [2.5]


def test_rate_limits_per_endpoint_answer_429_with_retry_after() -> None:
    limits = RateLimits(account_per_minute=50, endpoints=(("GET /search", 2),))
    box = Box(limits)
    try:
        query = {"query": "type:ticket requester:ana@exemplo.com.br"}
        assert [box.api("GET", "search.json", params=query).status_code for _ in range(2)] == [
            200,
            200,
        ]
        limited = box.api("GET", "search.json", params=query)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) == 60
        assert limited.json()["error"] == "APIRateLimitExceeded"
        assert box.api("GET", f"tickets/{box.ticket}.json").status_code == 200  # others go on
        box.clock.advance(60)
        assert box.api("GET", "search.json", params=query).status_code == 200
    finally:
        box.server.close()


# --- the command ----------------------------------------------------------------------------


def start_sandbox(*args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.sandbox", "--port", "0", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Ctrl-C"):
            break
    else:
        process.kill()
        pytest.fail(
            "the sandbox did not start: "
            + "".join(lines)
            + (process.stderr.read() if process.stderr else "")
        )
    url = next(
        line.split("ZENDESK_URL=", 1)[1].split()[0] for line in lines if "ZENDESK_URL" in line
    )
    return process, url, lines


def python_m_worker(
    *args: str, env: dict[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return out


def test_the_command_seeds_provisions_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    demo = str(ROOT / "tests" / "fixtures" / "sandbox-demo.yaml")
    database = tmp_path / "sandbox.db"
    process, url, lines = start_sandbox("--seed", demo, "--setup", "--db", str(database))
    try:
        assert any("ZENDESK_OAUTH_TOKEN=sandbox" in line for line in lines)
        assert any(line.startswith("seeded 2 organizations") for line in lines)
        statuses = requests.get(f"{url}/api/v2/custom_statuses.json", headers=AUTH, timeout=10)
        labels = [s["agent_label"] for s in statuses.json()["custom_statuses"]]
        assert "Aguardando retorno do cliente" in labels  # `setup` ran against it
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert state["counts"]["tickets"] == 3
    finally:
        assert "sandbox stopped" in stop(process)

    process, url, lines = start_sandbox("--seed", demo, "--db", str(database))
    try:  # a restart keeps the account and does not seed it twice
        assert any("not seeded again" in line for line in lines)
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert state["counts"]["tickets"] == 3 and state["counts"]["macros"] > 0
    finally:
        stop(process)


def test_the_sandbox_runs_on_real_time_with_the_fixture_dated_relative_to_now() -> None:
    """The worker uses the real clock: a sandbox on the fixture's day would make it decide
    deadlines from the wrong day. So the fixture's tickets move to now (the first was written
    30 minutes before the fixture's `now`)."""
    demo = str(ROOT / "tests" / "fixtures" / "sandbox-demo.yaml")
    began = datetime.now(UTC)
    process, url, lines = start_sandbox("--seed", demo)
    try:
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert abs(datetime.fromisoformat(state["now"]) - began) < timedelta(minutes=1)
        ticket = requests.get(f"{url}/api/v2/tickets/1.json", headers=AUTH, timeout=10).json()
        age = began - datetime.fromisoformat(ticket["ticket"]["created_at"])
        assert timedelta(minutes=29) < age < timedelta(minutes=31)
        banner = "".join(lines)
        assert "real time, the same as the worker's" in banner
        assert (
            "python -m worker run --once " in banner
            and "--now" not in banner.split("Point the worker")[1].split("The poll")[0]
        )
        assert "leaves out the last minute" in banner
    finally:
        stop(process)


def test_a_simulated_clock_only_when_asked_and_the_banner_says_so() -> None:
    demo = str(ROOT / "tests" / "fixtures" / "sandbox-demo.yaml")
    process, url, lines = start_sandbox("--seed", demo, "--now", "2026-12-07T09:00:00-03:00")
    try:
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert state["now"].startswith("2026-12-07T12:0")
        ticket = requests.get(f"{url}/api/v2/tickets/1.json", headers=AUTH, timeout=10).json()
        assert ticket["ticket"]["created_at"].startswith("2026-12-07T11:30")
        banner = "".join(lines)
        assert "SIMULATED" in banner
        assert "run --once --now 2026-12-07T12:00" in banner
    finally:
        stop(process)


def test_say_and_people_act_on_a_running_sandbox_as_the_customer_and_the_agent() -> None:
    demo = str(ROOT / "tests" / "fixtures" / "sandbox-demo.yaml")
    process, url, _ = start_sandbox("--seed", demo)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return python_m_worker("sandbox", *args, "--url", url, env=env)

    try:
        listed = sandbox("people")
        assert listed.returncode == 0, listed.stderr
        assert "Ana Souza <ana.souza@exemplo.com.br> · end-user · titular" in listed.stdout
        assert "tickets #1" in listed.stdout
        assert "Agente Paula" in listed.stdout
        assert (
            sandbox("say", "--ticket", "1", "--as", "cliente", "Sim, pode cancelar.").returncode
            == 0
        )
        assert sandbox("say", "--ticket", "1", "--as", "agente", "#tentativa").returncode == 0
        comments = requests.get(
            f"{url}/api/v2/tickets/1/comments.json?include=users", headers=AUTH, timeout=10
        ).json()
        names = {u["id"]: u["name"] for u in comments["users"]}
        said = [(names[c["author_id"]], c["public"], c["body"]) for c in comments["comments"][1:]]
        assert said == [
            ("Ana Souza", True, "Sim, pode cancelar."),
            ("Agente Paula", False, "#tentativa"),
        ]
        missing = sandbox("say", "--ticket", "99", "--as", "agente", "x")
        assert missing.returncode != 0 and "no ticket 99" in missing.stderr
    finally:
        stop(process)


def test_a_newcomer_following_the_banner_gets_deadlines_from_the_sandboxs_day(
    tmp_path: Path,
) -> None:
    """No --now anywhere: the worker's real clock and the sandbox's agree, so the contact
    e-mail's deadline counts from the day the sandbox is on."""
    demo = str(ROOT / "tests" / "fixtures" / "sandbox-demo.yaml")
    process, url, _ = start_sandbox("--seed", demo, "--setup")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "ZENDESK_URL": url,
        "ZENDESK_OAUTH_TOKEN": "sandbox",
    }

    def worker(*args: str) -> subprocess.CompletedProcess[str]:
        done = python_m_worker("--state-dir", str(tmp_path / "state"), *args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    try:
        worker("sandbox", "say", "--ticket", "1", "--as", "agente", "#tentativa\n" * 3)
        # The export leaves out the last minute; a real newcomer waits it (the banner says so).
        requests.post(f"{url}/_sandbox/clock", json={"advance_seconds": 61}, timeout=10)
        worker("run", "--once")
        now = datetime.fromisoformat(
            requests.get(f"{url}/_sandbox/state", timeout=10).json()["now"]
        )
        comments = requests.get(f"{url}/api/v2/tickets/1/comments.json", headers=AUTH, timeout=10)
        markers = [
            json.loads(line.removeprefix(MARKER_PREFIX))
            for c in comments.json()["comments"]
            for line in c["body"].splitlines()
            if line.startswith(MARKER_PREFIX)
        ]
        assert [m["passo"] for m in markers][-1] == "5:email-contato"
        calendar = BusinessCalendar.from_config(Config().calendar)
        expected = calendar.deadline_after(now, Config().procedure.customer_deadline_business_days)
        assert datetime.fromisoformat(markers[-1]["estado"]["deadline"]) == expected
    finally:
        stop(process)


def test_the_command_starts_with_the_faults_and_limits_asked_for() -> None:
    process, url, lines = start_sandbox(
        "--storm-seconds", "600", "--endpoint-limit", "GET /tickets/{id}=5"
    )
    try:
        assert any(line.startswith("Faults:") for line in lines)
        answer = requests.get(f"{url}/api/v2/users/me.json", headers=AUTH, timeout=10)
        assert answer.status_code == 429
        state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
        assert state["limits"]["per_endpoint_per_minute"]["GET /tickets/{id}"] == 5
    finally:
        stop(process)


def test_the_command_refuses_a_bad_endpoint_limit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "worker.sandbox", "--endpoint-limit", "search=5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode != 0 and "GET /search=50" in result.stderr


def test_the_sandbox_clock_runs_on_from_where_it_was_set() -> None:
    real = [START]
    clock = SandboxClock(datetime(2026, 1, 1, tzinfo=UTC), real=lambda: real[0])
    real[0] += timedelta(seconds=5)
    assert clock() == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
