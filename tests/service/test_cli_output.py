"""What the CLI prints for a person is masked like the logs: the helpdesk's error text is shown
only after personal data and credentials are taken out, whatever the helpdesk echoed."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner

from worker import logs
from worker.cli import main
from worker.service import Worker

TOKEN = "tok-que-nao-pode-vazar"
PASSWORD = "senha-do-proxy"
ENV = {
    "ZENDESK_URL": f"https://ops:{PASSWORD}@acme.zendesk.com",
    "ZENDESK_EMAIL": "ops@acme.com.br",
    "ZENDESK_API_TOKEN": TOKEN,
}
SENT = base64.b64encode(f"ops@acme.com.br/token:{TOKEN}".encode()).decode()
COMMANDS = [["run", "--once"], ["check"]]


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    yield
    logs._secrets.clear()


def answer_everything(status: int, body: dict[str, Any]) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for method in (responses.GET, responses.POST, responses.PUT):
        mock.add(method, re.compile(r".*"), status=status, json=body)
    return mock


def printed(args: list[str], tmp_path: Path) -> str:
    result = CliRunner().invoke(main, ["--state-dir", str(tmp_path), *args], env=ENV)
    assert result.exit_code == 1, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS)
def test_personal_data_in_a_helpdesk_refusal_is_masked_in_what_the_cli_prints(
    tmp_path: Path, args: list[str]
) -> None:
    refusal = {
        "error": "RecordInvalid",
        "description": "Requester josé.araújo@padaria-pão.com.br (CPF 529.982.247-25) is invalid",
    }
    with answer_everything(422, refusal):
        output = printed(args, tmp_path)
    assert "RecordInvalid" in output  # the refusal itself is still shown
    for personal in ("araújo", "padaria-pão", "529.982.247-25"):
        assert personal not in output


@pytest.mark.parametrize("args", COMMANDS)
def test_credentials_echoed_by_the_helpdesk_or_in_its_url_are_never_printed(
    tmp_path: Path, args: list[str]
) -> None:
    echo = {
        "error": "Couldn't authenticate you",
        "description": f"Authorization: Basic {SENT}; token {TOKEN}; from https://ops:{PASSWORD}@",
    }
    with answer_everything(401, echo):
        output = printed(args, tmp_path)
    assert "authenticate" in output
    for secret in (TOKEN, SENT, PASSWORD):
        assert secret not in output


def test_an_unexpected_error_ends_with_a_masked_log_line_not_a_raw_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explodes(self: Worker, now: datetime) -> None:
        raise ValueError(f"ficha de josé.araújo@padaria-pão.com.br, CPF 529.982.247-25, {TOKEN}")

    monkeypatch.setattr(Worker, "run_once", explodes)
    result = CliRunner().invoke(main, ["--state-dir", str(tmp_path), "run", "--once"], env=ENV)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    assert "ValueError" in result.output and "unexpected error" in result.output
    for secret in ("araújo", "padaria-pão", "529.982.247-25", TOKEN):
        assert secret not in result.output
