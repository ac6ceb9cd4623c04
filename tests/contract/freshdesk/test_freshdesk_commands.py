"""A new user's first hour on Freshdesk, through the command line against a fresh account of
the strict fake: `setup`, `setup` again, `check`, with no edit of the configuration between
them; and a broken write journal, which stops `run` with what to do instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.fakes.freshdesk_fake import FakeFreshdesk, fresh_account
from worker.cli import main

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


@pytest.fixture
def account() -> Iterator[FakeFreshdesk]:
    with fresh_account() as fake:
        yield fake


def command(tmp_path: Path, fake: FakeFreshdesk, *args: str) -> Result:
    config = tmp_path / "worker.yaml"
    if not config.exists():  # written once, as a new user would: never edited after
        config.write_text(f"helpdesk: freshdesk\ntemplates_dir: {TEMPLATES}\n")
    env = {"FRESHDESK_URL": fake.base_url, "FRESHDESK_API_KEY": "chave-do-worker"}
    state = tmp_path / "state"
    return CliRunner().invoke(
        main, ["--config", str(config), "--state-dir", str(state), *args], env=env
    )


def test_setup_then_setup_again_then_check_pass_with_no_configuration_edit(
    account: FakeFreshdesk, tmp_path: Path
) -> None:
    first = command(tmp_path, account, "setup")
    assert first.exit_code == 0, first.output
    assert "Freshdesk named it cf_e_mail_de_cadastro" in first.output
    account.requests.clear()
    second = command(tmp_path, account, "setup")
    assert second.exit_code == 0, second.output
    assert [call for call in account.requests if call[0] != "GET"] == []
    checked = command(tmp_path, account, "check")
    assert checked.exit_code == 0, checked.output
    assert 'company field "CPF ou CNPJ" -> cf_cpf_ou_cnpj' in checked.output
    assert "OK: freshdesk is ready for the worker; checked:" in checked.output


@pytest.mark.parametrize("broken", ["corrupt", "directory"])
def test_a_broken_journal_stops_run_with_the_file_and_what_to_do(
    account: FakeFreshdesk, tmp_path: Path, broken: str
) -> None:
    assert command(tmp_path, account, "setup").exit_code == 0
    journal = tmp_path / "state" / "freshdesk-journal.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    if broken == "corrupt":
        journal.write_bytes(b"\x00garbage, not SQLite\x00" * 500)
    else:
        journal.mkdir()
    result = command(tmp_path, account, "run", "--once")
    assert result.exit_code != 0
    assert f"the Freshdesk write journal {journal} cannot be used" in result.output
    assert "move it aside" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
