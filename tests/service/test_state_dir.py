"""The state directory under an operator's hands: files deleted, directories where files belong, the
directory itself replaced. Nothing there is needed to stay correct, so none of it may let two
workers act at once, nor stop the worker with a traceback instead of saying what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.adapters.memo import OwnWrites
from worker.cli import main
from worker.config import Safety
from worker.safety import Guard, Paused
from worker.state_dir import AlreadyRunning, InstanceLock

# Nothing listens there: a run that got as far as the helpdesk would fail on it, not on the file.
ENV = {"ZENDESK_URL": "http://127.0.0.1:9", "ZENDESK_OAUTH_TOKEN": "t"}


def now() -> datetime:
    return datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_deleting_worker_lock_under_a_running_worker_never_lets_a_second_one_in(
    tmp_path: Path,
) -> None:
    with InstanceLock(tmp_path):
        (tmp_path / "worker.lock").unlink()  # an operator "cleaning up"
        with pytest.raises(AlreadyRunning):
            InstanceLock(tmp_path).acquire()


def test_a_state_directory_replaced_under_a_running_worker_stops_its_writes(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with InstanceLock(state) as lock:
        guard = Guard(Safety(), state / "PAUSE", now, lock.still_held)
        guard.before_write(emails=False)  # still its own directory: writes go on
        state.rename(tmp_path / "old")
        state.mkdir()  # a second worker could lock this one now
        with pytest.raises(Paused, match="replaced while running"):
            guard.before_write(emails=False)


@pytest.mark.parametrize("name", ["worker.lock", "zendesk-poll.json"])
def test_a_directory_where_a_state_file_belongs_is_named_with_what_to_do(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).mkdir(parents=True)
    result = CliRunner().invoke(main, ["--state-dir", str(tmp_path), "run", "--once"], env=ENV)
    assert result.exit_code == 1
    assert not isinstance(result.exception, OSError)
    assert f"{tmp_path / name} is a directory" in result.output
    assert "move it away" in result.output


def test_a_file_where_the_state_directory_belongs_is_named_with_what_to_do(
    tmp_path: Path,
) -> None:
    (tmp_path / "state").write_text("")
    args = ["--state-dir", str(tmp_path / "state"), "run", "--once"]
    result = CliRunner().invoke(main, args, env=ENV)
    assert result.exit_code == 1
    assert f"{tmp_path / 'state'} is a file" in result.output and "--state-dir" in result.output


def test_a_pause_directory_pauses_and_says_how_to_resume_even_when_the_cap_trips(
    tmp_path: Path,
) -> None:
    (tmp_path / "PAUSE").mkdir()
    guard = Guard(Safety(), tmp_path / "PAUSE", now)
    reason = guard.paused_reason()
    assert reason is not None and "is a directory" in reason and "delete it" in reason
    with pytest.raises(Paused):
        guard.trip("200 e-mails in one run")  # writing the file fails; the pause holds


def test_the_workers_own_writes_outlive_the_process_but_not_a_decision_cut_midway(
    tmp_path: Path,
) -> None:
    path = tmp_path / "zendesk-written.tsv"
    first = OwnWrites(path=path)
    first.remember("1", "2026-12-07T12:00:00Z")
    first.remember("2", "2026-12-07T12:01:00Z")
    first.remember("2", "2026-12-07T12:02:00Z", complete=False)  # a step is still owed
    again = OwnWrites(path=path)  # the next `run --once`
    assert again.is_echo("1", "2026-12-07T12:00:00Z")
    assert not again.is_echo("2", "2026-12-07T12:01:00Z")
    assert not again.is_echo("2", "2026-12-07T12:02:00Z")


def test_the_kept_writes_are_rewritten_before_the_file_grows_past_twice_what_is_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "zendesk-written.tsv"
    writes = OwnWrites(size=3, path=path)
    for n in range(20):
        writes.remember(str(n % 5), f"v{n}")
    assert len(path.read_text().splitlines()) <= 2 * 3
    again = OwnWrites(size=3, path=path)
    assert again.is_echo("4", "v19") and not again.is_echo("0", "v15")
