"""Two short memories both adapters keep: reads one poll can share, and the version each
ticket had after the worker's own last write to it (kept in the state directory, so that
`run --once` from cron does not read again every ticket the previous run wrote)."""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger("worker")

V = TypeVar("V")

READ_TTL_SECONDS = 60.0  # people and accounts read within one poll are reused, never longer
FORGOTTEN = "-"  # a line that takes a ticket out of the kept versions
WRITTEN_MEMORY = 10_000  # tickets whose last write is remembered (a few hundred kB)


class Recent(Generic[V]):
    """Values read in the last `ttl` seconds. Short on purpose: a ficha an agent edits must be
    seen at the next poll; and pruned each poll, so a worker that runs for months keeps one
    poll's worth of people, not every requester it ever met."""

    def __init__(self, clock: Callable[[], float], ttl: float = READ_TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None or not self._fresh(entry[0]):
            return None
        return entry[1]

    def put(self, key: str, value: V) -> V:
        self._entries[key] = (self._clock(), value)
        return value

    def prune(self) -> None:
        for key in [k for k, (stamp, _) in self._entries.items() if not self._fresh(stamp)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, stamp: float) -> bool:
        return self._clock() - stamp < self._ttl


class OwnWrites:
    """The version each ticket had after our last write: a helpdesk's change list sends our own
    writes back, and reading a ticket only to decide nothing would double the cost.

    With a `path` (in the state directory) it outlives the process: one line per write (ticket
    id, tab, the version: an `updated_at`, never personal data), appended as it happens and
    rewritten whole when it has grown to twice what is kept. Missing, unreadable or damaged, it
    starts empty: losing it costs only reads, since deciding again decides nothing new."""

    def __init__(self, size: int = WRITTEN_MEMORY, path: Path | None = None) -> None:
        self._size = size
        self._versions: OrderedDict[str, str] = OrderedDict()
        self._path = path
        self._lines = 0
        if path is not None:
            self._load(path)

    def remember(self, ticket_id: str, version: str, *, complete: bool = True) -> None:
        """`complete`: the write ended a decision. After an earlier step of one, the ticket is
        forgotten instead: a step is owed, and the next sight of the ticket must be read."""
        if not complete:
            if self._versions.pop(ticket_id, None) is not None:
                self._append(ticket_id, FORGOTTEN)
            return
        self._versions[ticket_id] = version
        self._versions.move_to_end(ticket_id)
        if len(self._versions) > self._size:
            self._versions.popitem(last=False)
        self._append(ticket_id, version)

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, ValueError):
            return
        for line in text.splitlines():
            ticket_id, tab, version = line.partition("\t")
            if tab and ticket_id and version == FORGOTTEN:
                self._versions.pop(ticket_id, None)
                self._lines += 1
            elif tab and ticket_id and version:
                self._versions[ticket_id] = version
                self._versions.move_to_end(ticket_id)
                self._lines += 1
        while len(self._versions) > self._size:
            self._versions.popitem(last=False)

    def _append(self, ticket_id: str, version: str) -> None:
        path = self._path
        if path is None or not (ticket_id + version).isprintable() or "\t" in ticket_id:
            return
        try:
            if self._lines >= 2 * self._size:
                self._rewrite(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="ascii") as out:
                    out.write(f"{ticket_id}\t{version}\n")
                self._lines += 1
        except (OSError, ValueError):
            log.warning("own writes not kept in the state directory; a next run re-reads them")
            self._path = None  # said once; this run keeps them in memory

    def _rewrite(self, path: Path) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".written-")
        try:
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.writelines(f"{i}\t{v}\n" for i, v in self._versions.items())
            Path(temporary).replace(path)
        finally:
            Path(temporary).unlink(missing_ok=True)
        self._lines = len(self._versions)

    def is_echo(self, ticket_id: str, version: object) -> bool:
        """The ticket is as our last write left it: nothing changed since."""
        return self._versions.get(ticket_id) == version
