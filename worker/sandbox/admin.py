"""The sandbox's own endpoints, under `/_sandbox/` on the same loopback server: faults, the
clock, a reset to the state the server started with, what the account holds, and the contract
system's stand-in (what it cancelled, the failures it injects next).

No authentication: the server listens on loopback only, and these never reach a real account.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from worker.sandbox.clock import SandboxClock
from worker.sandbox.contracts import ContractStandIn
from worker.sandbox.faults import Faults
from worker.sandbox.limits import Limiter
from worker.sandbox.state import stamp
from worker.sandbox.zendesk import FakeZendesk

PREFIX = "/_sandbox/"
Reply = tuple[int, dict[str, Any]]


class AdminError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


class Admin:
    def __init__(
        self,
        fake: FakeZendesk,
        clock: SandboxClock | None = None,
        contracts: ContractStandIn | None = None,
    ) -> None:
        self.fake = fake
        self.clock = clock
        self.contracts = contracts
        self.baseline = fake.store.snapshot()
        self.routes: dict[tuple[str, str], Callable[[Any], Reply]] = {
            ("GET", "state"): self.state,
            ("GET", "faults"): self.get_faults,
            ("POST", "faults"): self.set_faults,
            ("POST", "clock"): self.set_clock,
            ("POST", "reset"): self.reset,
            ("GET", "outbox"): self.outbox,
            ("GET", "contracts"): self.get_contracts,
            ("POST", "contracts"): self.set_contracts,
            ("GET", "people"): self.people,
            ("POST", "say"): self.say,
        }

    def mark_baseline(self) -> None:
        """What `POST /_sandbox/reset` goes back to (the CLI marks it after seeding)."""
        self.baseline = self.fake.store.snapshot()

    def handle(self, method: str, path: str, body: bytes | None) -> Reply:
        name = path.split("?", 1)[0].removeprefix(PREFIX).strip("/")
        route = self.routes.get((method.upper(), name))
        if route is None:
            known = ", ".join(f"{m} {PREFIX}{n}" for m, n in self.routes)
            return 404, {"error": "InvalidEndpoint", "description": f"known: {known}"}
        try:
            data = json.loads(body) if body else {}
            if not isinstance(data, dict):
                raise AdminError(400, "the body must be a JSON object")
            return route(data)
        except ValueError as problem:  # also pydantic's ValidationError
            return 400, {"error": "InvalidValue", "description": str(problem)}
        except AdminError as problem:
            return problem.status, {"error": "InvalidValue", "description": problem.description}

    # --- endpoints ------------------------------------------------------------------------------

    def state(self, _: dict[str, Any]) -> Reply:
        fake = self.fake
        with fake.store.lock:
            return 200, {
                "url": fake.base_url,
                "now": stamp(fake.now()),
                "database": fake.store.db.path,
                "counts": fake.store.counts(),
                "requests": len(fake.requests),
                "faults": fake.chaos.faults.model_dump(),
                "injected": dict(fake.chaos.injected),
                "limits": {
                    "account_per_minute": fake.limiter.limits.account_per_minute,
                    "per_endpoint_per_minute": fake.limiter.limits.per_endpoint(),
                    "updates_per_ticket_per_10_minutes": (
                        fake.limiter.limits.updates_per_ticket_per_10_minutes
                    ),
                },
            }

    def get_faults(self, _: dict[str, Any]) -> Reply:
        return 200, {"faults": self.fake.chaos.faults.model_dump()}

    def set_faults(self, data: dict[str, Any]) -> Reply:
        """The body replaces the faults in force (`{}` turns every fault off)."""
        try:
            faults = Faults.model_validate(data)
        except ValidationError as problem:
            raise AdminError(400, _validation(problem)) from None
        self.fake.set_faults(faults)
        return 200, {"faults": faults.model_dump()}

    def set_clock(self, data: dict[str, Any]) -> Reply:
        """`{"now": "2026-12-07T09:00:00-03:00"}` or `{"advance_seconds": 86400}`."""
        if self.clock is None:
            raise AdminError(409, "this sandbox runs on a clock the admin endpoint cannot move")
        if "now" in data:
            try:
                self.clock.set(datetime.fromisoformat(str(data["now"])))
            except ValueError as problem:
                raise AdminError(400, f"now: {problem}") from None
        elif isinstance(data.get("advance_seconds"), int | float):
            self.clock.advance(float(data["advance_seconds"]))
        else:
            raise AdminError(400, 'send {"now": ISO-8601 with offset} or {"advance_seconds": n}')
        with self.fake.store.lock:  # windows counted on the old time would misbehave
            self.fake.limiter = Limiter(self.fake.limiter.limits)
        return 200, {"now": stamp(self.fake.now())}

    def reset(self, _: dict[str, Any]) -> Reply:
        """Back to the account as it was when the server started (after seeding); the faults
        and the clock stay as they are."""
        with self.fake.store.lock:
            self.fake.store.restore(self.baseline)
            self.fake.limiter = Limiter(self.fake.limiter.limits)
            self.fake.requests.clear()
        return 200, {"counts": self.fake.store.counts()}

    def outbox(self, _: dict[str, Any]) -> Reply:
        emails = [e._asdict() for e in self.fake.outbox]
        return 200, {"emails": emails, "count": len(emails)}

    def get_contracts(self, _: dict[str, Any]) -> Reply:
        return 200, self._stand_in().state()

    def set_contracts(self, data: dict[str, Any]) -> Reply:
        """`{"fail": [503, 503], "drop": 1, "hang": 0}` replaces the failures to come."""
        self._stand_in().set_faults(data)
        return 200, self._stand_in().state()

    def _stand_in(self) -> ContractStandIn:
        if self.contracts is None:
            raise AdminError(404, "this sandbox serves no contract system")
        return self.contracts

    def people(self, _: dict[str, Any]) -> Reply:
        """Who is in the account, to act as: the ficha's marks and each one's tickets."""
        store = self.fake.store
        with store.lock:
            tickets: dict[int, list[int]] = {}
            for ticket in store.tickets.values():
                tickets.setdefault(ticket.requester_id, []).append(ticket.id)
            people = [
                {
                    "id": user.id,
                    "name": user.name,
                    "email": user.email,
                    "role": user.role,
                    "organizations": [
                        store.organizations[m.organization_id].name
                        for m in store.memberships_of(user.id)
                    ],
                    "marks": sorted(k for k, v in user.user_fields.items() if v is True),
                    "tickets": sorted(tickets.get(user.id, [])),
                }
                for user in sorted(store.users.values(), key=lambda u: u.id)
            ]
        return 200, {"people": people}

    def say(self, data: dict[str, Any]) -> Reply:
        """`{"ticket": 2, "as": "cliente", "text": "..."}`: the requester answers by e-mail (a
        public comment that reopens the ticket, as Zendesk's mail channel does), or the agent
        writes an internal note (where agents type commands)."""
        ticket, who, text = data.get("ticket"), data.get("as"), data.get("text")
        if not isinstance(ticket, int) or not isinstance(text, str) or not text.strip():
            raise AdminError(400, 'send {"ticket": n, "as": "cliente"|"agente", "text": "..."}')
        try:
            if who == "cliente":
                landed = self.fake.customer_replies(ticket, text)
            elif who == "agente":
                self.fake.agent_comments(ticket, text)
                landed = ticket
            else:
                raise AdminError(400, '"as" is "cliente" or "agente"')
        except KeyError:
            raise AdminError(404, f"no ticket {ticket}") from None
        return 200, {"ticket": landed, "as": who}


def _validation(problem: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in problem.errors()
    )
