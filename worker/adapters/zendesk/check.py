"""`check`: everything the worker needs from the account, each gap with the exact way to close it.

It reads only. A credentials or network failure ends the check at once (every later read would
fail the same way and bury the cause); anything else is collected, so that one run shows the
operator the whole list.
"""

from __future__ import annotations

from typing import TextIO

from worker.adapters.http import wrong_base_url
from worker.adapters.zendesk import push
from worker.adapters.zendesk.http import (
    Json,
    NotFound,
    Unauthorized,
    Unreachable,
    ZendeskClient,
    ZendeskError,
)
from worker.adapters.zendesk.provision import (
    ADMIN_FIX,
    CUSTOM_STATUSES_FIX,
    SETUP_COMMAND,
    CustomStatusesOff,
    Problem,
    plan_from,
    print_problem,
    read_account,
)
from worker.config import Config

CREDENTIALS_FIX = (
    "check ZENDESK_EMAIL and ZENDESK_API_TOKEN (or ZENDESK_OAUTH_TOKEN): the token must be"
    " active in Admin Center > Apps and integrations > APIs > Zendesk API, with token access"
    " enabled there, and ZENDESK_EMAIL must be the e-mail of the worker's own user"
)
REACH_FIX = (
    "check ZENDESK_SUBDOMAIN (the 'acme' of acme.zendesk.com) or ZENDESK_URL, and that this"
    " machine can reach it over HTTPS"
)
TRIGGER_FIX = (
    'in Admin Center > Objects and rules > Business rules > Triggers, activate "Notify'
    ' requester and CCs of comment update", or add a trigger with the conditions Ticket >'
    " Ticket is Updated and Ticket > Comment is Public, and the action Notify by > User email >"
    " (requester and CCs)"
)

# What an OK means, as `check` lists it.
CHECKED = (
    "credentials: the worker's own user signs in and is an admin",
    "custom ticket statuses are on; the statuses, ticket, user and organization fields, macros"
    " and views that `setup` creates are there, with the right types",
    "the notification trigger that turns the worker's public comments into e-mails",
)

# Who an e-mail trigger must write to for the customer (and the partners in CC) to get it.
_RECIPIENTS = frozenset({"requester_and_ccs", "requester_id"})
_API_VIA = "5"  # Zendesk's via id for the API ("Web service"), how the worker's comments arrive


def check(client: ZendeskClient, config: Config) -> list[Problem]:
    try:
        snapshot = read_account(client)
    except CustomStatusesOff as exc:
        return [Problem(str(exc), CUSTOM_STATUSES_FIX)]
    except Unauthorized as exc:
        if exc.status == 403:  # signed in, but this user may not read the account's setup
            return [Problem(f"Zendesk refused a read ({exc})", ADMIN_FIX)]
        return [Problem(f"Zendesk rejected the credentials ({exc})", CREDENTIALS_FIX)]
    except Unreachable as exc:
        return [Problem(f"Zendesk cannot be reached ({exc})", REACH_FIX)]
    except NotFound as exc:  # the very first read: the URL does not lead to the API
        return [
            Problem(
                f"Zendesk answered 404 Not Found to its own API ({exc})",
                wrong_base_url(
                    client.base_url,
                    "ZENDESK_URL (or set only ZENDESK_SUBDOMAIN)",
                    "https://acme.zendesk.com",
                ),
            )
        ]
    except ZendeskError as exc:  # a 429 past the bound, an unexpected answer
        return [
            Problem(f"reading the account failed ({exc})", "run `python -m worker check` again")
        ]
    me = snapshot.me
    if me.get("id") is None:  # an anonymous session: Zendesk did not take the credentials
        return [Problem("Zendesk did not sign the worker in (anonymous user)", CREDENTIALS_FIX)]
    problems: list[Problem] = []
    if me.get("role") != "admin":
        problems.append(
            Problem(
                f"the worker's user {me.get('email') or me.get('id')} is {me.get('role')!r},"
                " not an admin",
                ADMIN_FIX,
            )
        )
    plan = plan_from(snapshot, config)
    problems.extend(Problem(f"missing in Zendesk: {c.what}", SETUP_COMMAND) for c in plan.changes)
    problems.extend(plan.problems)
    problems.extend(_tag_problems(config))
    problems.extend(_trigger_problems(client))
    try:
        problems.extend(push.check(client, config))
    except ZendeskError as exc:
        problems.append(Problem(f"cannot read the account's webhooks ({exc})", ADMIN_FIX))
    return problems


def _tag_problems(config: Config) -> list[Problem]:
    """Zendesk stores tags lower-cased, so a configured tag with capitals would never match
    the tickets' own (believed from how Zendesk shows tags; not confirmed from the API docs)."""
    return [
        Problem(
            f"tags.{name} is {tag!r}; Zendesk stores tags in lower case",
            f"write it as {tag.lower()!r} in the configuration file (tags: {name}:)",
        )
        for name, tag in config.tags
        if tag != tag.lower()
    ]


def _trigger_problems(client: ZendeskClient) -> list[Problem]:
    try:
        triggers = [
            trigger
            for page in client.pages("/api/v2/triggers/active.json")
            for trigger in page.get("triggers") or []
        ]
    except ZendeskError as exc:
        return [Problem(f"cannot read the account's triggers ({exc})", ADMIN_FIX)]
    if any(notifies_on_public_comment(trigger) for trigger in triggers):
        return []
    return [
        Problem(
            "no active trigger e-mails the requester when a public comment is added, so the"
            " worker's e-mails to customers would never leave Zendesk",
            TRIGGER_FIX,
        )
    ]


def notifies_on_public_comment(trigger: Json) -> bool:
    """Whether this trigger e-mails the requester (and CCs) of an update that adds a public
    comment through the API. Only what would stop it counts against it: a condition limiting it
    to new tickets, to private comments, or to another channel than the API."""
    if trigger.get("active") is False:
        return False
    if not any(_emails_requester(action) for action in trigger.get("actions") or []):
        return False
    conditions = trigger.get("conditions") or {}
    return not any(_excludes_us(condition) for condition in conditions.get("all") or [])


def _emails_requester(action: Json) -> bool:
    value = action.get("value")
    first = value[0] if isinstance(value, list) and value else value
    return action.get("field") == "notification_user" and str(first) in _RECIPIENTS


def _excludes_us(condition: Json) -> bool:
    name, operator = condition.get("field"), condition.get("operator")
    value = str(condition.get("value")).lower()
    if name == "update_type":
        return (operator == "is") == (value == "create")
    if name == "comment_is_public":
        private = value == "false"
        return (operator == "is" and private) or (operator == "is_not" and not private)
    if name == "current_via_id":
        return (operator == "is" and value != _API_VIA) or (
            operator == "is_not" and value == _API_VIA
        )
    return False


def print_problems(problems: list[Problem], out: TextIO) -> None:
    """One problem and its fix per entry, or a line saying all is well."""
    if not problems:
        print("check: everything the worker needs is in place.", file=out)
        return
    print(f"check found {len(problems)} problem(s):", file=out)
    for problem in problems:
        print_problem(problem, out)
