"""`check` on Freshdesk: credentials, every status and field, and the worker agent's rights,
each gap with the exact way to close it. It reads only.

A credentials or network failure ends the check at once (every later read would fail the same
way and bury the cause); anything else is collected, so one run shows the whole list. It also
prints the name Freshdesk gave each field and status the worker uses ("CPF ou CNPJ ->
cf_cpf_ou_cnpj"), found the way the worker finds them at start: no configuration to edit.
"""

from __future__ import annotations

import sys
from typing import TextIO

from worker.adapters.freshdesk.http import (
    FreshdeskClient,
    FreshdeskError,
    NotFound,
    Unauthorized,
    Unreachable,
)
from worker.adapters.freshdesk.layout import FICHA_FIELDS, status_choices
from worker.adapters.freshdesk.provision import (
    ADMIN_FIX,
    Problem,
    Snapshot,
    plan_from,
    read_account,
)
from worker.adapters.http import wrong_base_url
from worker.adapters.provisioning import SETUP_COMMAND, field_titles
from worker.config import Config

CREDENTIALS_FIX = (
    "check FRESHDESK_API_KEY: it must be the key of the worker's own agent (Profile settings >"
    " View API key), and that agent must be active"
)
REACH_FIX = (
    "check FRESHDESK_DOMAIN (the 'acme' of acme.freshdesk.com) or FRESHDESK_URL, and that this"
    " machine can reach it over HTTPS"
)
# What an OK means, as `check` lists it.
CHECKED = (
    "credentials: the worker's own agent signs in, is an administrator with global scope",
    "the statuses and the ticket, contact and company fields `setup` creates, found by name"
    " or label (listed above)",
)
ADMIN_ROLES = frozenset({"Account Administrator", "Administrator"})
GLOBAL_SCOPE = 1  # ticket_scope: 1 global, 2 group, 3 restricted


def check(client: FreshdeskClient, config: Config, out: TextIO | None = None) -> list[Problem]:
    try:
        snapshot = read_account(client)
    except Unauthorized as exc:
        if exc.status == 403:
            return [Problem(f"Freshdesk refused a read ({exc})", ADMIN_FIX)]
        return [Problem(f"Freshdesk rejected the credentials ({exc})", CREDENTIALS_FIX)]
    except Unreachable as exc:
        return [Problem(f"Freshdesk cannot be reached ({exc})", REACH_FIX)]
    except NotFound as exc:  # the very first read: the URL does not lead to the API
        return [
            Problem(
                f"Freshdesk answered 404 Not Found to its own API ({exc})",
                wrong_base_url(
                    client.base_url,
                    "FRESHDESK_URL (or set only FRESHDESK_DOMAIN)",
                    "https://acme.freshdesk.com",
                ),
            )
        ]
    except FreshdeskError as exc:
        return [
            Problem(f"reading the account failed ({exc})", "run `python -m worker check` again")
        ]
    for line in resolved(snapshot, config):
        print(f"found    {line}", file=out or sys.stdout)
    problems: list[Problem] = []
    me = snapshot.me
    who = (me.get("contact") or {}).get("email") or me.get("id")
    if me.get("ticket_scope") != GLOBAL_SCOPE:
        problems.append(
            Problem(
                f"the worker's agent {who} does not see every ticket (ticket scope"
                f" {me.get('ticket_scope')!r})",
                ADMIN_FIX,
            )
        )
    problems.extend(_role_problems(client, me.get("role_ids") or [], who))
    plan = plan_from(snapshot, config)
    problems.extend(Problem(f"missing in Freshdesk: {c.what}", SETUP_COMMAND) for c in plan.changes)
    problems.extend(plan.problems)
    return problems


def _role_problems(client: FreshdeskClient, role_ids: list[object], who: object) -> list[Problem]:
    """`setup` edits ticket fields, which Freshdesk allows administrators only."""
    try:
        roles = client.get("/api/v2/roles") or []
    except FreshdeskError as exc:
        return [Problem(f"cannot read the agent roles ({exc})", ADMIN_FIX)]
    names = {
        str(role.get("name"))
        for role in roles
        if isinstance(role, dict) and role.get("id") in role_ids
    }
    if names & ADMIN_ROLES:
        return []
    shown = ", ".join(sorted(names)) or "no role"
    return [Problem(f"the worker's agent {who} is {shown}, not an administrator", ADMIN_FIX)]


def resolved(snapshot: Snapshot, config: Config) -> list[str]:
    """What each name the worker uses is called in this account."""
    lines = []
    by_label = {label: i for i, label in status_choices(snapshot.status_field).items()}
    for label in (config.statuses.in_progress, config.statuses.waiting_customer):
        if label in by_label:
            lines.append(f'status "{label}" -> {by_label[label]}')
    for title in field_titles(config).values():
        found = snapshot.ticket_field(title)
        if found is not None:
            lines.append(f'ticket field "{title}" -> {found.get("name")}')
    for spec in FICHA_FIELDS:
        field = spec.find(snapshot.ficha_fields(spec.kind), config)
        if field is not None:
            lines.append(f'{spec.kind} field "{field.get("label")}" -> {field.get("name")}')
    return lines
