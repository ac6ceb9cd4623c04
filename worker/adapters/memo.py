"""Two short memories both adapters keep: reads one poll can share, and the version each
ticket had after the worker's own last write to it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

READ_TTL_SECONDS = 60.0  # people and accounts read within one poll are reused, never longer
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
    writes back, and reading a ticket only to decide nothing would double the cost."""

    def __init__(self, size: int = WRITTEN_MEMORY) -> None:
        self._size = size
        self._versions: OrderedDict[str, str] = OrderedDict()

    def remember(self, ticket_id: str, version: str) -> None:
        self._versions[ticket_id] = version
        self._versions.move_to_end(ticket_id)
        if len(self._versions) > self._size:
            self._versions.popitem(last=False)

    def is_echo(self, ticket_id: str, version: object) -> bool:
        """The ticket is as our last write left it: nothing changed since."""
        return self._versions.get(ticket_id) == version
