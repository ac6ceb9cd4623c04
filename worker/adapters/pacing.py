"""How fast the worker may call a helpdesk, and what it has cost: both helpdesks meter an account
per minute (and a few endpoints apart), so both clients pace themselves with the same window
and count the same way."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


class Window:
    """At most `per_minute` requests in any 60 s: sleeps before a request rather than after a
    429, so the worker stays a polite share of the account's limit. Several threads may ask
    (reads made ahead): they take their turn, the one waiting holding the others behind it."""

    def __init__(
        self, per_minute: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.per_minute = max(1, int(per_minute))
        self.clock = clock
        self.sleep = sleep
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0
        self._turn = threading.Lock()

    def acquire(self) -> None:
        with self._turn:
            self._acquire()

    def _acquire(self) -> None:
        while True:
            now = self.clock()
            while self.sent and now - self.sent[0] >= 60.0:
                self.sent.popleft()
            wait = self.blocked_until - now
            if len(self.sent) >= self.per_minute:
                wait = max(wait, 60.0 - (now - self.sent[0]))
            if wait <= 0:
                self.sent.append(now)
                return
            self.sleep(wait)

    def block_for(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)


@dataclass
class RequestStats:
    """What the worker cost the account, for logs, metrics and benchmarks."""

    requests: int = 0
    writes: int = 0
    throttled: int = 0  # 429s received
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


def endpoint_of(method: str, path: str, suffix: str = "") -> str:
    """A family name for pacing and counting: ids are dropped, so all tickets share one.
    `suffix` is a format ending the helpdesk puts on its paths (Zendesk's `.json`)."""
    parts = [
        "{id}" if part.removesuffix(suffix).isdigit() else part.removesuffix(suffix)
        for part in path.split("/")
        if part and part not in ("api", "v2")
    ]
    return f"{method} /" + "/".join(parts)
