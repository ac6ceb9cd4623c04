"""`python -m worker check` as a new operator meets it: a wrong URL named as such, a pause
said out loud, and an OK that lists what it covered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from worker.cli import main
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.server import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[str]:
    server = SandboxServer(
        lambda url: FakeZendesk(
            clock=lambda: datetime(2026, 12, 7, 12, tzinfo=UTC),
            subdomain_url=url,
            limits=RateLimits.off(),
        )
    ).start()
    yield server.url
    server.close()


def worker(url: str, state: Path, *args: str) -> Result:
    env = {"ZENDESK_URL": url, "ZENDESK_OAUTH_TOKEN": "sandbox"}
    return CliRunner().invoke(main, ["--state-dir", str(state), *args], env=env)


def test_a_base_url_ending_in_api_v2_is_named_as_the_problem(sandbox: str, tmp_path: Path) -> None:
    result = worker(f"{sandbox}/api/v2", tmp_path, "check")
    assert result.exit_code == 1
    assert "404" in result.output
    assert "has the path '/api/v2'" in result.output
    assert "fix ZENDESK_URL" in result.output
    assert "again" not in result.output


def test_an_ok_lists_what_was_checked(sandbox: str, tmp_path: Path) -> None:
    assert worker(sandbox, tmp_path, "setup").exit_code == 0
    result = worker(sandbox, tmp_path, "check")
    assert result.exit_code == 0, result.output
    assert "OK: zendesk is ready for the worker; checked:" in result.output
    listed = [line[4:] for line in result.output.splitlines() if line.startswith("  - ")]
    assert [item.split()[0] for item in listed] == [
        "configuration",
        "templates",
        "credentials:",
        "custom",
        "the",
        "state",
    ]
    assert "notification trigger" in listed[4]
    assert "not paused" in result.output
    assert "PAUSED" not in result.output


def test_an_ok_with_push_configured_says_the_webhook_was_checked(
    sandbox: str, tmp_path: Path
) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text("webhooks:\n  public_url: https://worker.exemplo.com.br/webhooks/zendesk\n")
    env = {"ZENDESK_URL": sandbox, "ZENDESK_OAUTH_TOKEN": "sandbox"}
    state = ["--config", str(config), "--state-dir", str(tmp_path / "state")]
    provisioned = CliRunner().invoke(main, [*state, "setup"], env=env)
    assert provisioned.exit_code == 0, provisioned.output
    env["ZENDESK_WEBHOOK_SECRET"] = "segredo-de-teste"
    result = CliRunner().invoke(main, [*state, "check"], env=env)
    assert result.exit_code == 0, result.output
    listed = [line[4:] for line in result.output.splitlines() if line.startswith("  - ")]
    push = [item for item in listed if item.startswith("push:")]
    assert len(push) == 1
    assert "ZENDESK_WEBHOOK_SECRET is set" in push[0]
    assert "the webhook calls it and its trigger is active" in push[0]
    assert "segredo-de-teste" not in result.output


def test_an_ok_with_contracts_over_http_says_the_secret_was_checked_not_the_endpoint(
    sandbox: str, tmp_path: Path
) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text(
        "contract_cancellation:\n  mode: http\n"
        "  http: {url: 'https://contratos.exemplo.com.br/cancelar'}\n"
    )
    env = {"ZENDESK_URL": sandbox, "ZENDESK_OAUTH_TOKEN": "sandbox", "CONTRACT_API_SECRET": "k"}
    state = ["--config", str(config), "--state-dir", str(tmp_path / "state")]
    assert CliRunner().invoke(main, [*state, "setup"], env=env).exit_code == 0
    result = CliRunner().invoke(main, [*state, "check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "  - contract cancellation over HTTP: CONTRACT_API_SECRET is set (the endpoint itself is"
        " not called)" in result.output
    )


def test_a_pause_file_is_said_not_hidden_behind_an_ok(sandbox: str, tmp_path: Path) -> None:
    assert worker(sandbox, tmp_path, "setup").exit_code == 0
    (tmp_path / "PAUSE").write_text("limite de e-mails atingido\n", encoding="utf-8")
    result = worker(sandbox, tmp_path, "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PAUSED: the worker writes nothing while")
    assert "limite de e-mails atingido" in result.output
