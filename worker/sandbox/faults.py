"""Faults the sandbox injects on purpose, so a rehearsal meets what a real account does on a bad
day: server errors, slow answers, a write applied whose answer never arrives, and 429 storms.

Each request draws from one seeded random generator, so a run with the same faults, seed and
requests fails the same way twice.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

ERROR_STATUSES = (500, 502, 503, 504)


class Faults(BaseModel):
    """Shares are of API requests (the admin endpoints never fail); 0 turns a fault off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1, description="share answered 5xx, not applied")
    error_status: int | None = Field(
        None, ge=500, le=599, description="that status; one of 500/502/503/504 at random if null"
    )
    slow_rate: float = Field(0.0, ge=0, le=1, description="share answered late")
    slow_seconds: float = Field(0.0, ge=0, le=300, description="how late")
    drop_rate: float = Field(
        0.0, ge=0, le=1, description="share of writes applied, then the connection dropped"
    )
    storm_seconds: float = Field(
        0.0, ge=0, le=86_400, description="every request gets 429 for this long from now"
    )
    seed: int = 0


class Chaos:
    """The faults in force and their random draws."""

    def __init__(self, faults: Faults, now: datetime) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.storm_until = now + timedelta(seconds=faults.storm_seconds)
        self.injected: dict[str, int] = {"error": 0, "slow": 0, "drop": 0, "storm": 0}

    def refusal(self, now: datetime) -> tuple[int, int | None] | None:
        """A (status, Retry-After) to answer instead of serving the request, or None."""
        if now < self.storm_until:
            self.injected["storm"] += 1
            return 429, max(1, int((self.storm_until - now).total_seconds() + 0.999))
        if self.faults.error_rate and self.random.random() < self.faults.error_rate:
            self.injected["error"] += 1
            return self.faults.error_status or self.random.choice(ERROR_STATUSES), None
        return None

    def delay(self) -> float:
        if self.faults.slow_rate and self.random.random() < self.faults.slow_rate:
            self.injected["slow"] += 1
            return self.faults.slow_seconds
        return 0.0

    def drops(self, method: str, status: int) -> bool:
        """Whether an applied write loses its response."""
        if method not in ("POST", "PUT", "DELETE") or not 200 <= status < 300:
            return False
        if self.faults.drop_rate and self.random.random() < self.faults.drop_rate:
            self.injected["drop"] += 1
            return True
        return False
