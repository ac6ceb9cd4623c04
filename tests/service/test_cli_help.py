"""What `--help` says is what the commands do: an operator reads it before any document."""

from __future__ import annotations

from click.testing import CliRunner

from worker.cli import main


def _help(*command: str) -> str:
    return " ".join(CliRunner().invoke(main, [*command, "--help"]).output.split())


def test_setups_help_names_the_views_and_the_webhook_it_creates() -> None:
    text = _help("setup")
    assert "views" in text
    assert "webhook" in text


def test_checks_help_names_the_webhook_it_verifies() -> None:
    assert "webhook" in _help("check")


def test_the_state_directorys_help_names_the_worker_s_own_writes_and_the_pause() -> None:
    text = _help()
    assert "own writes" in text
    assert "PAUSE" in text


def test_the_procedure_command_is_listed_and_says_what_it_prints() -> None:
    assert "procedure" in _help()
    text = _help("procedure")
    assert "transition table" in text
    assert "docs/procedure.md" in text
