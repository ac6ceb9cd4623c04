"""`python -m worker run` at its edges: what it refuses, and how it fails, as the README says."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def worker(
    *args: str, env: dict[str, str], cwd: Path, state: Path
) -> subprocess.CompletedProcess[str]:
    """`python -m worker ARGS` with its state directory under the test's temporary one: a test
    leaves nothing in the checkout (no state/worker.lock)."""
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "WORKER_STATE_DIR": str(state),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=170,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_once_exits_non_zero_soon_when_the_helpdesk_is_unreachable(tmp_path: Path) -> None:
    started = time.monotonic()
    result = worker(
        "run",
        "--once",
        env={"ZENDESK_URL": f"http://127.0.0.1:{closed_port()}", "ZENDESK_OAUTH_TOKEN": "t"},
        cwd=ROOT,
        state=tmp_path / "state",
    )
    assert result.returncode != 0
    assert "cannot reach" in result.stderr
    assert time.monotonic() - started < 150
    assert not (tmp_path / "state" / "zendesk-poll.json").exists()  # the cursor did not move


def test_run_without_credentials_says_which_variables_to_set(tmp_path: Path) -> None:
    result = worker("run", "--once", env={}, cwd=tmp_path, state=tmp_path / "state")
    assert result.returncode != 0
    assert "ZENDESK_SUBDOMAIN" in result.stderr


@pytest.mark.parametrize("extra", [[], ["--dry-run"]])
def test_a_rehearsal_clock_never_writes_to_a_live_account(tmp_path: Path, extra: list[str]) -> None:
    env = {
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "ops@acme.com.br",
        "ZENDESK_API_TOKEN": "token-that-must-not-leak",
        # A proxy that refuses connections: the dry run tries it, the refused run never does.
        "HTTPS_PROXY": f"http://127.0.0.1:{closed_port()}",
    }
    result = worker(
        "run",
        "--once",
        "--now",
        "2026-12-07T09:10:00-03:00",
        *extra,
        env=env,
        cwd=ROOT,
        state=tmp_path / "state",
    )
    assert result.returncode != 0
    assert "token-that-must-not-leak" not in result.stdout + result.stderr
    if extra:
        assert "CLOCK OVERRIDDEN" in result.stderr
    else:
        assert "only against a loopback helpdesk URL" in result.stderr
        assert "CLOCK OVERRIDDEN" not in result.stderr


def test_a_clock_without_offset_is_refused(tmp_path: Path) -> None:
    env = {"ZENDESK_URL": "http://127.0.0.1:1", "ZENDESK_OAUTH_TOKEN": "t"}
    result = worker(
        "run", "--once", "--now", "2026-12-07T09:10:00", env=env, cwd=ROOT, state=tmp_path
    )
    assert result.returncode != 0
    assert "no UTC offset" in result.stderr


def test_freshdesk_is_chosen_by_configuration_and_says_what_to_set(tmp_path: Path) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text("helpdesk: freshdesk\n")
    result = worker(
        "--config", str(config), "run", "--once", env={}, cwd=ROOT, state=tmp_path / "state"
    )
    assert result.returncode != 0
    assert "FRESHDESK_DOMAIN" in result.stderr


def test_run_with_contracts_over_http_and_no_secret_says_which_variable_to_set(
    tmp_path: Path,
) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text(
        "contract_cancellation:\n  mode: http\n  http:\n    url: https://contratos.test/c\n"
        "    secret_env: CONTRATOS_HMAC\n",
        encoding="utf-8",
    )
    env = {"ZENDESK_URL": f"http://127.0.0.1:{closed_port()}", "ZENDESK_OAUTH_TOKEN": "t"}
    result = worker(
        "--config", str(config), "run", "--once", env=env, cwd=ROOT, state=tmp_path / "state"
    )
    assert result.returncode != 0
    assert "set CONTRATOS_HMAC in the environment" in result.stderr
