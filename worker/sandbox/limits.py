"""Zendesk's rate limits, on the fake clock.

The worker must pace itself (CONTRACT: a run handles dozens of tickets after a holiday), and
the incremental export's 10 requests a minute is the limit a careless poll loop hits first; a
fake without limits would let that bug through. Windows slide over the fake clock, so a test
that advances the clock by a minute gets its budget back.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed per window; `None` turns a limit off.

    `endpoints` adds limits per endpoint family (`"GET /search"`, `"PUT /tickets/{id}"`: the
    method and the path without `/api/v2`, `.json` or ids), per minute, beside the built-in ones.
    """

    account_per_minute: int | None = 700
    ticket_updates_per_minute: int | None = 100
    incremental_exports_per_minute: int | None = 10
    updates_per_ticket_per_10_minutes: int | None = 30
    search_exports_per_minute: int | None = 100
    endpoints: tuple[tuple[str, int], ...] = ()

    @classmethod
    def off(cls) -> RateLimits:
        return cls(
            account_per_minute=None,
            ticket_updates_per_minute=None,
            incremental_exports_per_minute=None,
            updates_per_ticket_per_10_minutes=None,
            search_exports_per_minute=None,
        )

    def per_endpoint(self) -> dict[str, int]:
        built_in = {
            "PUT /tickets/{id}": self.ticket_updates_per_minute,
            "GET /incremental/tickets/cursor": self.incremental_exports_per_minute,
            "GET /search/export": self.search_exports_per_minute,
        }
        limits = {family: limit for family, limit in built_in.items() if limit is not None}
        limits.update(self.endpoints)
        return limits


def endpoint_family(method: str, path: str) -> str:
    """`PUT /api/v2/tickets/12.json` -> `PUT /tickets/{id}` (the adapter counts the same way)."""
    parts = [
        "{id}" if part.removesuffix(".json").isdigit() else part.removesuffix(".json")
        for part in path.split("/")
        if part and part not in ("api", "v2")
    ]
    return f"{method.upper()} /" + "/".join(parts)


class Window:
    def __init__(self, limit: int, seconds: int) -> None:
        self.limit = limit
        self.span = timedelta(seconds=seconds)
        self.hits: deque[datetime] = deque()

    def _expire(self, now: datetime) -> None:
        while self.hits and self.hits[0] <= now - self.span:
            self.hits.popleft()

    def wait(self, now: datetime) -> int | None:
        """Seconds until one more request fits, or None if it fits now."""
        self._expire(now)
        if len(self.hits) < self.limit:
            return None
        return max(1, math.ceil((self.hits[0] + self.span - now).total_seconds()))

    def hit(self, now: datetime) -> None:
        self.hits.append(now)

    def remaining(self, now: datetime) -> int:
        self._expire(now)
        return max(0, self.limit - len(self.hits))


class Limiter:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.account = self._window(limits.account_per_minute, 60)
        self.endpoints = {f: Window(n, 60) for f, n in limits.per_endpoint().items()}
        self.per_ticket: dict[int, Window] = {}

    @staticmethod
    def _window(limit: int | None, seconds: int) -> Window | None:
        return Window(limit, seconds) if limit is not None else None

    def _windows(self, method: str, path: str) -> list[Window]:
        family = endpoint_family(method, path)
        windows = [self.account, self.endpoints.get(family)]
        limit = self.limits.updates_per_ticket_per_10_minutes
        if family == "PUT /tickets/{id}" and limit is not None:
            ticket_id = int(path.rsplit("/", 1)[1].removesuffix(".json"))
            windows.append(self.per_ticket.setdefault(ticket_id, Window(limit, 600)))
        return [w for w in windows if w is not None]

    def admit(self, now: datetime, method: str, path: str) -> int | None:
        """Counts the request and returns None, or returns the Retry-After and counts nothing."""
        windows = self._windows(method, path)
        waits = [w for w in (window.wait(now) for window in windows) if w is not None]
        if waits:
            return max(waits)
        for window in windows:
            window.hit(now)
        return None

    def headers(self, now: datetime) -> dict[str, str]:
        if self.account is None:
            return {}
        return {
            "X-Rate-Limit": str(self.account.limit),
            "X-Rate-Limit-Remaining": str(self.account.remaining(now)),
        }
