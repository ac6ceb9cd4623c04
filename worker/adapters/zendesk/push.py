"""`setup` and `check` for push: the webhook that wakes the worker and the trigger that calls it.

Only when `webhooks.public_url` is configured. Like the rest of `setup`, both are found by their
name, created once, never changed: a webhook of ours that is inactive or points elsewhere is a
problem for the operator (another worker, an old URL), not something to overwrite. The signing
secret is read back right after the webhook is created and printed once, for the environment
(ZENDESK_WEBHOOK_SECRET); a later `setup` writes nothing and prints no secret.

The trigger sends only ids (`{{ticket.id}}` and the ticket's update time): the worker reads the
ticket afresh, so the body carries no personal data and nothing in it is acted on. It leaves out
changes made through the API (`current_via_id` 5, the worker's own writes: waking the worker
for them would only re-read a ticket it just wrote); the poll reconciles anything it misses.
Facts and sources: docs/zendesk.md, "Push".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from worker.adapters.provisioning import SETUP_COMMAND, Change, Plan, Problem
from worker.adapters.zendesk.http import Json, ZendeskClient
from worker.config import Config
from worker.webhooks import ZENDESK_SECRET_ENV

WEBHOOK_NAME = "Cancelamento worker"
TRIGGER_TITLE = "Cancelamento: avisar o worker"
WEBHOOKS = "/api/v2/webhooks"
TRIGGERS = "/api/v2/triggers.json"
_API_VIA = "5"  # changes made through the API: the worker's own
# Words a detected ticket's text contains; the engine's patterns decide, this only wakes it.
DETECTION_WORDS = "cancelar cancelamento rescindir rescisão distrato"
PAYLOAD = json.dumps(
    {"ticket_id": "{{ticket.id}}", "updated_at": "{{ticket.updated_at_with_timestamp}}"}
)
WEBHOOK_FIX = (
    "in Admin Center > Apps and integrations > Webhooks, activate the webhook"
    f' "{WEBHOOK_NAME}" and set its endpoint to webhooks.public_url (or delete it and run'
    " `python -m worker setup`, then put the new signing secret in ZENDESK_WEBHOOK_SECRET)"
)


def webhook_body(config: Config) -> Json:
    return {
        "webhook": {
            "name": WEBHOOK_NAME,
            "description": "Acorda o worker de cancelamento quando um ticket muda.",
            "endpoint": config.webhooks.public_url,
            "http_method": "POST",
            "request_format": "json",
            "status": "active",
            "subscriptions": ["conditional_ticket_events"],
        }
    }


def trigger_body(config: Config, webhook_id: str) -> Json:
    detected = [
        {"field": "current_tags", "operator": "includes", "value": config.tags.cancellation}
    ]
    if config.detection.keywords_enabled:
        detected.append(
            {"field": "comment_includes_word", "operator": "includes", "value": DETECTION_WORDS}
        )
    return {
        "trigger": {
            "title": TRIGGER_TITLE,
            "description": "Avisa o worker de cancelamento (webhook) de mudanças nos tickets.",
            "active": True,
            "conditions": {
                "all": [{"field": "current_via_id", "operator": "is_not", "value": _API_VIA}],
                "any": detected,
            },
            "actions": [{"field": "notification_webhook", "value": [webhook_id, PAYLOAD]}],
        }
    }


def _ours(client: ZendeskClient) -> tuple[Json | None, Json | None]:
    webhooks = [
        hook
        for page in client.pages(WEBHOOKS)
        for hook in page.get("webhooks") or []
        if hook.get("name") == WEBHOOK_NAME
    ]
    triggers = [
        trigger
        for page in client.pages(TRIGGERS)
        for trigger in page.get("triggers") or []
        if trigger.get("title") == TRIGGER_TITLE
    ]
    active = [hook for hook in webhooks if hook.get("status") == "active"]
    return (active or webhooks or [None])[0], (triggers or [None])[0]


def _webhook_problems(config: Config, webhook: Json) -> list[Problem]:
    problems = []
    if webhook.get("status") != "active":
        problems.append(Problem(f'the webhook "{WEBHOOK_NAME}" is inactive', WEBHOOK_FIX))
    if webhook.get("endpoint") != config.webhooks.public_url:
        problems.append(
            Problem(
                f'the webhook "{WEBHOOK_NAME}" calls {webhook.get("endpoint")!r}, not'
                f" webhooks.public_url {config.webhooks.public_url!r}",
                WEBHOOK_FIX,
            )
        )
    return problems


def check(client: ZendeskClient, config: Config) -> list[Problem]:
    """The webhook exists, is active and calls the configured public URL; the trigger exists
    and is active. Nothing when push is not configured."""
    if not config.webhooks.public_url:
        return []
    webhook, trigger = _ours(client)
    if webhook is None:
        return [Problem(f'missing in Zendesk: webhook "{WEBHOOK_NAME}"', SETUP_COMMAND)]
    problems = _webhook_problems(config, webhook)
    if trigger is None:
        problems.append(Problem(f'missing in Zendesk: trigger "{TRIGGER_TITLE}"', SETUP_COMMAND))
    elif trigger.get("active") is False:
        problems.append(
            Problem(
                f'the trigger "{TRIGGER_TITLE}" is inactive',
                "activate it in Admin Center > Objects and rules > Business rules > Triggers",
            )
        )
    return problems


def setup(
    client: ZendeskClient,
    config: Config,
    result: Plan,
    *,
    write: Callable[[Change], Json] | None,
    out: TextIO,
) -> None:
    """Adds to `result` what push needs: planned (`write` None: a dry run) or written with
    `write` (which prints each change)."""
    if not config.webhooks.public_url:
        return
    webhook, trigger = _ours(client)
    if webhook is not None:
        result.kept.append(f'webhook "{WEBHOOK_NAME}"')
        result.problems.extend(_webhook_problems(config, webhook))
    create_hook = Change(f'webhook "{WEBHOOK_NAME}"', "POST", WEBHOOKS, webhook_body(config))
    if trigger is not None:
        result.kept.append(f'trigger "{TRIGGER_TITLE}"')
    if write is None:
        if webhook is None:
            result.changes.append(create_hook)
        if trigger is None:
            hook_id = "<id of the new webhook>" if webhook is None else str(webhook["id"])
            result.changes.append(_trigger_change(config, hook_id))
        return
    if webhook is None:
        created = write(create_hook)
        webhook = created.get("webhook") or {}
        result.changes.append(create_hook)
        _print_secret(client, str(webhook.get("id")), out)
    if trigger is None:
        change = _trigger_change(config, str(webhook.get("id")))
        write(change)
        result.changes.append(change)


def _trigger_change(config: Config, webhook_id: str) -> Change:
    return Change(
        f'trigger "{TRIGGER_TITLE}" (calls the webhook)',
        "POST",
        TRIGGERS,
        trigger_body(config, webhook_id),
    )


def _print_secret(client: ZendeskClient, webhook_id: str, out: TextIO) -> None:
    """Once, at creation: the operator copies it into the worker's environment."""
    answer = client.request("GET", f"{WEBHOOKS}/{webhook_id}/signing_secret")
    secret = (answer.get("signing_secret") or {}).get("secret")
    print(
        "\nThe webhook's signing secret, shown only now: put it in the worker's environment"
        f" (never in the configuration file):\n\n  {ZENDESK_SECRET_ENV}={secret}\n",
        file=out,
    )
