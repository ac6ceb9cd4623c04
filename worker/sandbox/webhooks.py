"""The account's webhooks, fired as Zendesk fires them: after a ticket changes, every active
trigger whose conditions hold and whose action is `notification_webhook` sends its body to the
webhook's endpoint, signed (base64 HMAC-SHA256 of timestamp + body with the webhook's signing
secret), with an invocation id; on one thread, in order, after the change is answered.

Only the conditions the worker's own trigger uses are understood (`current_tags`,
`comment_includes_word`, `current_via_id`); a trigger with any other condition never fires
here, so a test cannot pass on a condition this fake does not evaluate. Placeholders other than
`{{ticket.id}}` and `{{ticket.updated_at_with_timestamp}}` are left empty. A delivery that
fails is dropped and counted (Zendesk would retry a few times; the worker's poll must cope
with a lost one anyway). `down` drops every delivery: a webhook outage.
"""

from __future__ import annotations

import itertools
import queue
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from worker.webhooks import zendesk_signature

Post = Callable[[str, dict[str, str], bytes], None]
VIA_IDS = {"web": 0, "email": 4, "api": 5}  # Zendesk's via ids of the channels used here
_PLACEHOLDERS = ("{{ticket.id}}", "{{ticket.updated_at_with_timestamp}}")


def post_over_http(url: str, headers: dict[str, str], body: bytes) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


class Emitter:
    def __init__(
        self, post: Post = post_over_http, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.post = post
        self.clock = clock
        self.down = False
        self.sent = 0
        self.failed = 0
        self._invocations = itertools.count(8_350_000_001)
        self._queue: queue.Queue[tuple[str, str, bytes]] = queue.Queue()
        self._marker = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def ticket_changed(
        self,
        webhooks: list[dict[str, Any]],
        triggers: list[dict[str, Any]],
        ticket: dict[str, Any],
        channel: str,
        comment: str,
    ) -> None:
        """Called with the ticket as it was left (its JSON), the channel of the change and the
        text of the comment it added ("" when none)."""
        for trigger in triggers:
            if not trigger.get("active") or not fires(trigger, ticket, channel, comment):
                continue
            for action in trigger.get("actions", []):
                if action.get("field") != "notification_webhook":
                    continue
                hook_id, template = action["value"]
                hook = next((w for w in webhooks if w["id"] == hook_id), None)
                if hook is None or hook.get("status") != "active" or self.down:
                    continue
                body = _render(template, ticket)
                self._queue.put((hook["endpoint"], hook["_secret"], body.encode()))

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every delivery queued so far was attempted (tests)."""
        done = threading.Event()
        self._queue.put(("", "", b""))  # a marker: everything before it was sent
        self._marker = done
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            url, secret, body = self._queue.get()
            if not url:
                self._marker.set()
                continue
            stamp = self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            headers = {
                "Content-Type": "application/json",
                "X-Zendesk-Webhook-Id": "sandbox",
                "X-Zendesk-Webhook-Invocation-Id": str(next(self._invocations)),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
            }
            try:
                self.post(url, headers, body)
                self.sent += 1
            except Exception:
                self.failed += 1


def fires(trigger: dict[str, Any], ticket: dict[str, Any], channel: str, comment: str) -> bool:
    conditions = trigger.get("conditions") or {}
    every, some = conditions.get("all") or [], conditions.get("any") or []
    holds = [_holds(c, ticket, channel, comment) for c in [*every, *some]]
    if None in holds:
        return False  # a condition this fake cannot evaluate
    return all(holds[: len(every)]) and (not some or any(holds[len(every) :]))


def _holds(
    condition: dict[str, Any], ticket: dict[str, Any], channel: str, comment: str
) -> bool | None:
    field, value = condition.get("field"), condition.get("value")
    operator = str(condition.get("operator"))
    if field == "current_tags" and operator in ("includes", "not_includes"):
        found = bool(set(str(value).split()) & set(ticket.get("tags") or []))
        return found == (operator == "includes")
    if field == "comment_includes_word" and operator in ("includes", "not_includes"):
        words = set(comment.casefold().split())
        found = bool({w.casefold() for w in str(value).split()} & words)
        return found == (operator == "includes")
    if field == "current_via_id" and operator in ("is", "is_not"):
        same = str(VIA_IDS.get(channel, -1)) == str(value)
        return same == (operator == "is")
    return None


def _render(template: str, ticket: dict[str, Any]) -> str:
    body = template.replace(_PLACEHOLDERS[0], str(ticket["id"]))
    body = body.replace(_PLACEHOLDERS[1], str(ticket.get("updated_at", "")))
    while "{{" in body and "}}" in body.split("{{", 1)[1]:
        head, rest = body.split("{{", 1)
        body = head + rest.split("}}", 1)[1]
    return body
