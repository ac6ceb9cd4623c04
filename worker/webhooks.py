"""Webhooks as a wake-up: a delivery says "look at ticket N now", nothing more.

The helpdesk calls `POST /webhooks/zendesk` or `POST /webhooks/freshdesk` on the metrics port
when a ticket changes. A delivery is authenticated (Zendesk: the signature over timestamp +
body, within a 5-minute window; Freshdesk, which signs nothing: a secret token in a header,
compared in constant time), deduplicated, answered at once, and its ticket id queued. The
runner handles queued tickets one at a time under the poll's own lock, reading each afresh:
the body is never acted on, so a forged or stale body can at worst wake a ticket early. The
poll keeps running as the reconciler for lost, late or refused deliveries, so nothing here
must be perfect: a full queue drops the wake-up and the next poll finds the ticket.

Nothing here logs personal data: ticket ids and outcomes only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

log = structlog.get_logger("worker")

ZENDESK_SECRET_ENV = "ZENDESK_WEBHOOK_SECRET"
FRESHDESK_TOKEN_ENV = "FRESHDESK_WEBHOOK_TOKEN"
SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
TOKEN_HEADER = "x-cancelamento-token"  # Freshdesk: sent by the automation rule's action
PATHS = {"/webhooks/zendesk": "zendesk", "/webhooks/freshdesk": "freshdesk"}
REPLAY_WINDOW = timedelta(minutes=5)
MAX_BODY = 64 * 1024  # our trigger's body is a few dozen bytes
REMEMBERED = 10_000  # deliveries remembered for dedupe (a few hours of a busy account)


def secret_env(helpdesk: str) -> str:
    return ZENDESK_SECRET_ENV if helpdesk == "zendesk" else FRESHDESK_TOKEN_ENV


def setup_problems(helpdesk: str, public_url: str, env: Mapping[str, str]) -> list[str]:
    """What `check` says about push: the helpdesk is told to call a URL the worker would answer
    404 (no secret in the environment, or the other helpdesk's path)."""
    if not public_url:
        return []
    problems = []
    if not env.get(secret_env(helpdesk), "").strip():
        problems.append(
            f"webhooks.public_url is set but {secret_env(helpdesk)} is not in the environment:"
            " every delivery would be refused (README, Push (webhooks))"
        )
    if not public_url.rstrip("/").endswith(f"/webhooks/{helpdesk}"):
        problems.append(
            f"webhooks.public_url must end with /webhooks/{helpdesk} (the helpdesk is {helpdesk})"
        )
    return problems


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk signs (docs/zendesk.md)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class WakeQueue:
    """Ticket ids waiting for a handle, oldest first, at most `size`. A ticket already waiting
    is not queued twice (a burst of deliveries for one ticket is one handle); one being handled
    right now may be queued again, since the change may have come after its read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._waiting: OrderedDict[str, None] = OrderedDict()
        self._ready = threading.Condition()

    def put(self, ticket_id: str) -> str:
        """ "queued", "coalesced" (already waiting) or "full" (dropped: the poll will see it)."""
        with self._ready:
            if ticket_id in self._waiting:
                return "coalesced"
            if len(self._waiting) >= self.size:
                return "full"
            self._waiting[ticket_id] = None
            self._ready.notify()
            return "queued"

    def get(self, timeout: float) -> str | None:
        """The oldest waiting ticket, or None after `timeout` seconds with none."""
        with self._ready:
            if not self._waiting and not self._ready.wait_for(lambda: bool(self._waiting), timeout):
                return None
            ticket_id, _ = self._waiting.popitem(last=False)
            return ticket_id

    def __len__(self) -> int:
        with self._ready:
            return len(self._waiting)


class Seen:
    """The last `size` keys seen; older ones are forgotten (a redelivery that late is a
    harmless second handle: deciding a ticket again decides nothing new)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def add(self, key: Hashable) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: str  # also the metric's label: queued, coalesced, duplicate, full, refused ...

    def body(self) -> bytes:
        return json.dumps({"outcome": self.outcome}).encode()


class Receiver:
    """Authenticates, deduplicates and queues deliveries. Thread-safe: the HTTP server calls
    it from one thread per request. `secrets` maps a helpdesk ("zendesk", "freshdesk") to its
    secret; a helpdesk without one answers 404, as if the path did not exist."""

    def __init__(
        self,
        queue: WakeQueue,
        secrets: Mapping[str, str],
        clock: Callable[[], datetime],
        *,
        on_outcome: Callable[[str, str], None] = lambda helpdesk, outcome: None,
    ) -> None:
        self.queue = queue
        self.secrets = {name: value for name, value in secrets.items() if value}
        self.clock = clock
        self.on_outcome = on_outcome
        self._lock = threading.Lock()
        self._seen = Seen()
        self._last_good: datetime | None = None

    def receive(self, helpdesk: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """`headers` with lower-case names. Refusals say no more than their kind."""
        answer = self._receive(helpdesk, {k.lower(): v for k, v in headers.items()}, body)
        self.on_outcome(helpdesk, answer.outcome)
        if answer.status >= 400:
            log.warning("webhook refused", helpdesk=helpdesk, outcome=answer.outcome)
        return answer

    def healthy(self, within: timedelta) -> bool:
        """An authentic delivery arrived within `within`: the poll may slow down."""
        with self._lock:
            last = self._last_good
        return last is not None and self.clock() - last <= within

    def _receive(self, helpdesk: str, headers: Mapping[str, str], body: bytes) -> Answer:
        secret = self.secrets.get(helpdesk)
        if secret is None:
            return Answer(404, "not-configured")
        if helpdesk == "zendesk":
            refused = self._zendesk_refusal(secret, headers, body)
        else:
            refused = self._freshdesk_refusal(secret, headers)
        if refused is not None:
            return refused
        try:
            ticket_id, updated_at = _ticket_of(body)
        except ValueError:
            return Answer(400, "unreadable")
        event = headers.get(INVOCATION_HEADER)
        keys: list[Hashable] = [(helpdesk, "event", event)] if event else []
        if updated_at:
            keys.append((helpdesk, "ticket", ticket_id, updated_at))
        with self._lock:
            self._last_good = self.clock()
            if any(key in self._seen for key in keys):
                return Answer(200, "duplicate")
            for key in keys:
                self._seen.add(key)
        outcome = self.queue.put(ticket_id)
        if outcome == "full":
            log.warning("webhook queue full; the poll will catch up", ticket_id=ticket_id)
        return Answer(202, outcome)

    def _zendesk_refusal(
        self, secret: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        signature = headers.get(SIGNATURE_HEADER, "")
        stamp = headers.get(TIMESTAMP_HEADER, "")
        expected = zendesk_signature(secret, stamp, body)
        if not stamp or not hmac.compare_digest(expected.encode(), signature.encode()):
            return Answer(401, "bad-signature")
        try:
            sent = datetime.fromisoformat(stamp)
        except ValueError:
            return Answer(401, "bad-timestamp")
        if sent.tzinfo is None or abs(self.clock() - sent) > REPLAY_WINDOW:
            return Answer(401, "outside-window")
        return None

    @staticmethod
    def _freshdesk_refusal(token: str, headers: Mapping[str, str]) -> Answer | None:
        given = headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), given.encode()):
            return Answer(401, "bad-token")
        return None


def _ticket_of(body: bytes) -> tuple[str, str]:
    """The ticket id (digits only) and, when sent, the `updated_at` the change left: all a
    delivery is read for. Raises ValueError on anything else."""
    data: Any = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    ticket_id = str(data.get("ticket_id", "")).strip()
    if not ticket_id.isdigit() or not ticket_id.isascii():
        raise ValueError("no ticket id")
    updated_at = data.get("updated_at")
    return ticket_id, str(updated_at).strip() if updated_at else ""
