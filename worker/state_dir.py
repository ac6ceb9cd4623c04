"""The state directory: what the worker keeps between runs that is not in the helpdesk.

Only the poll's place lives here today (the cursor, and the tickets that failed and must be
tried again though the cursor moved past them) (the lock and the journal join it later). Losing the
directory costs one look-back poll, never a wrong action: the procedure's state is in the
tickets. Files hold ids and opaque cursors, never personal data (CONTRACT 12).
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
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
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


class InstanceLock:
    """One active worker per state directory: two would poll the same cursor and race on the
    same tickets. The lock is the kernel's (flock), so a killed worker never leaves it held."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "worker.lock"
        self._handle: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 64).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise AlreadyRunning(
                f"another worker (pid {holder}) is running with the state directory "
                f"{self.path.parent}; only one may act at a time"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._handle = handle

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
