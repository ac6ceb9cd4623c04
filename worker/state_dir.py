"""The state directory: what the worker keeps between runs that is not in the helpdesk.

The poll's place (the cursor, and the tickets that failed and must be tried again though the
cursor moved past them) and the lock live here; `PAUSE` and the Freshdesk journal beside them.
Losing the directory costs one look-back poll, never a wrong action: the procedure's state is in
the tickets. Files hold ids and opaque cursors, never personal data (CONTRACT 12).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PollPlace:
    cursor: str | None = None
    retry: frozenset[str] = frozenset()
    scope: str | None = None  # the allow-list the cursor was made under (a fingerprint)


@dataclass(frozen=True)
class PollPlaceFile:
    """One helpdesk's poll place, written atomically so a crash never leaves half a file."""

    path: Path

    @classmethod
    def in_dir(cls, state_dir: Path, helpdesk: str) -> PollPlaceFile:
        return cls(state_dir / f"{helpdesk}-poll.json")

    def load(self) -> PollPlace:
        """Missing, unreadable or damaged: an empty place (the look-back rebuilds it). A
        directory in its place is the operator's to fix (StateFileError), not a silent loss at
        every start."""
        try:
            data = json.loads(state_file(self.path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return PollPlace()  # missing or unreadable: the look-back rebuilds it
        if not isinstance(data, dict):
            return PollPlace()
        cursor = data.get("cursor")
        retry = data.get("retry")
        scope = data.get("scope")
        return PollPlace(
            cursor if isinstance(cursor, str) and cursor else None,
            frozenset(str(i) for i in retry) if isinstance(retry, list) else frozenset(),
            scope if isinstance(scope, str) else None,
        )

    def save(self, place: PollPlace) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state_file(self.path)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".cursor-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(
                    {"cursor": place.cursor, "retry": sorted(place.retry), "scope": place.scope},
                    out,
                )
                out.flush()
                os.fsync(out.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class AlreadyRunning(Exception):
    """Another worker holds the state directory's lock."""


class StateFileError(Exception):
    """Something in the state directory cannot be used (a directory where a file belongs): the
    operator must act; the message names the path and what to do."""


def state_file(path: Path) -> Path:
    """`path`, if nothing but a file (or nothing) is there."""
    if path.is_dir():
        raise StateFileError(
            f"{path} is a directory, but the worker keeps a file there: move it away and start "
            "again (nothing in the state directory is needed to stay correct; see "
            "docs/operations.md)"
        )
    return path


class InstanceLock:
    """One active worker per state directory: two would poll the same cursor and race on the
    same tickets. The lock is the kernel's (flock) on the directory itself, so a killed worker
    never leaves it held, and deleting a file in it cannot let a second worker in beside a
    running one. `worker.lock` only says who holds it. Before each write the worker checks
    (`still_held`) that the path still names the directory it locked: one deleted and made
    again would hold a second worker's lock, so the first stops writing."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / "worker.lock"
        self._handle: int | None = None

    def acquire(self) -> None:
        if self.state_dir.exists() and not self.state_dir.is_dir():
            raise StateFileError(
                f"{self.state_dir} is a file, but the state directory goes there: point "
                "--state-dir (WORKER_STATE_DIR) at a directory, or move the file away"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state_file(self.path)
        handle = os.open(self.state_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise AlreadyRunning(
                f"another worker (pid {self._holder()}) is running with the state directory "
                f"{self.state_dir}; only one may act at a time"
            ) from None
        self._handle = handle
        self.path.write_text(str(os.getpid()), encoding="utf-8")

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except (OSError, ValueError):
            return "unknown"

    def still_held(self) -> bool:
        """The locked directory is still the one at the path (not deleted and made again)."""
        if self._handle is None:
            return False
        try:
            now, held = self.state_dir.stat(), os.fstat(self._handle)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
