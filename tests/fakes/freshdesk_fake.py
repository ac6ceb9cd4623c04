"""A strict stateful fake of the Freshdesk API v2: one account, in memory, on the world's clock.

It answers the endpoints the adapter calls (docs/freshdesk.md), with the documented shapes:
the tickets list (`updated_since`, `order_by`, `email`, `include`, the `link` header), a ticket
with `include=requester`, its conversations, a reply (with `cc_emails`), a note, the ticket
update (a PUT sets values; tags replace the list), contacts (`company_id`, `other_companies`,
custom fields), companies, the filter queries, ticket fields with the status choices, the
admin ticket fields API, contact and company fields, roles and the agents. Every change moves
the ticket's `updated_at` strictly forward (stamps are whole seconds; Freshdesk has no other
version). A customer's reply to a ticket whose status stops the SLA timer (pending, resolved,
closed, a custom status marked so) reopens it to Open.

It starts as a fresh account (the four built-in statuses, no custom field) and is set up
through the API, as a new user's would be. It is stricter than Freshdesk, never kinder
(docs/freshdesk.md, "Facts checked", says which rule comes from where):
- every body is checked against the documented attributes of its object (`ATTRIBUTES`): an
  unknown attribute is 400 `invalid_field`, a missing mandatory one 400 `missing_field`, a
  value of the wrong type 400 `datatype_mismatch`, always in Freshdesk's error body
  `{"description": "Validation failed", "errors": [{"field", "message", "code"}]}`;
- a custom field's `name` is derived from its label by the fake, deliberately unlike the
  worker's configured keys (non-ASCII letters dropped, never transliterated, and a `cf_` prefix
  on contact and company fields too): how Freshdesk spells it is not documented, so the worker
  must read it back, never guess it;
- new choices must carry a `position` within the list (1 to count + 1);
- a filter query naming a field the object does not have is refused, not answered empty, and
  so are a range (`:>`, `:<`) on other than numbers and dates, and a query over 512
  characters; 30 results a page, page 10 at most, `total` said; a custom date field in a query
  is taken unless `custom_date_queries` is off (not settled, fact 41), and a date bound on a
  date-time is read the narrower way (up to that day's midnight, fact 42);
- a ticket in the trash or marked as spam (`trash`, `mark_spam`) is still shown by id, with
  `deleted: true` or `spam: true` (both documented attributes), not a 404, so the worker must
  read the flags; the list leaves it out (documented), the filter query keeps it (not
  documented either way: the worker must skip it itself), and any write to it is refused (405,
  as Freshdesk answers deleting it again; for other writes not documented);
- `lose_answer` injects a lost answer: the write is applied, then its answer is dropped (a
  read timeout, a reset connection, or a 5xx), the case the write journal exists for.

People, agents and tickets are seeded through plain methods; the adapter sees only HTTP.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import responses

Json = dict[str, Any]
Reply = tuple[int, Json | list[Json], dict[str, str]]

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5
WORKER_ID, AGENT_ID = 9000, 9001
SEARCH_PAGE, SEARCH_PAGES = 30, 10


class Status(NamedTuple):
    label: str
    stop_sla_timer: bool  # a customer's reply reopens a ticket in such a status


BUILTIN_STATUSES = {
    OPEN: Status("Open", False),
    PENDING: Status("Pending", True),
    RESOLVED: Status("Resolved", True),
    CLOSED: Status("Closed", True),
}


# The documented attributes of each object a body may carry, and the mandatory ones
# (docs/freshdesk.md, facts 26-31). `ATTRIBUTES[kind]` is what the fake accepts; anything else
# is `invalid_field`.
ATTRIBUTES: dict[str, frozenset[str]] = {
    "ticket_field": frozenset(
        {
            "label",
            "label_for_customers",
            "type",
            "customers_can_edit",
            "displayed_to_customers",
            "position",
            "required_for_closure",
            "required_for_agents",
            "required_for_customers",
            "choices",
            "dependent_fields",
            "section_mappings",
        }
    ),
    "status_choice": frozenset(
        {"id", "value", "label_for_customers", "stop_sla_timer", "position", "deleted"}
    ),
    "dropdown_choice": frozenset({"id", "value", "position", "deleted"}),
    "contact_field": frozenset(
        {
            "label",
            "label_for_customers",
            "type",
            "editable_in_signup",
            "position",
            "required_for_agents",
            "customers_can_edit",
            "required_for_customers",
            "displayed_for_customers",
            "choices",
            "agents_can_edit",
            "displayed_for_agents",
            "quick_add_for_agent",
            "unique",
        }
    ),
    "company_field": frozenset(
        {
            "label",
            "type",
            "position",
            "required_for_agents",
            "choices",
            "agents_can_edit",
            "displayed_for_agents",
            "quick_add_for_agent",
            "unique",
        }
    ),
}
MANDATORY: dict[str, frozenset[str]] = {
    "ticket_field": frozenset({"label", "label_for_customers", "type"}),
    "status_choice": frozenset({"value", "label_for_customers", "position"}),
    "dropdown_choice": frozenset({"value", "position"}),
    "contact_field": frozenset({"label", "label_for_customers", "type"}),
    "company_field": frozenset({"label", "type"}),
}
_STRINGS = frozenset({"label", "label_for_customers", "type", "value"})
_INTEGERS = frozenset({"position", "id"})
_LISTS = frozenset({"choices", "dependent_fields", "section_mappings"})
CUSTOM_TYPES: dict[str, frozenset[str]] = {
    "ticket_field": frozenset(
        {
            "custom_text",
            "custom_paragraph",
            "custom_checkbox",
            "custom_number",
            "custom_decimal",
            "custom_dropdown",
            "custom_date",
            "nested_field",
        }
    ),
    "contact_field": frozenset(
        {
            "custom_text",
            "custom_paragraph",
            "custom_checkbox",
            "custom_number",
            "custom_dropdown",
            "custom_phone_number",
            "custom_url",
            "custom_date",
        }
    ),
}
CUSTOM_TYPES["company_field"] = CUSTOM_TYPES["contact_field"]
ROLES = (
    (1, "Account Administrator"),
    (2, "Administrator"),
    (3, "Supervisor"),
    (4, "Agent"),
)


def derived_name(label: str, taken: Iterable[str]) -> str:
    """The fake's own spelling of a custom field's `name`: ASCII letters and digits of the label,
    lower case, other runs as `_`, with a `cf_` prefix; non-ASCII letters are dropped, not
    transliterated ("Sócio-administrador" -> "cf_scio_administrador"). Freshdesk documents
    the ASCII case only; this is deliberately unlike any configured key."""
    plain = "".join(c for c in label.lower() if c.isascii())
    base = "cf_" + (re.sub(r"[^a-z0-9]+", "_", plain).strip("_") or "field")
    name, taken_names, n = base, set(taken), 1
    while name in taken_names:
        n += 1
        name = f"{base}{n}"
    return name


def checked(kind: str, data: object, *, new: bool, where: str = "") -> Json:
    """A body (or a choice) against its object's documented attributes and types."""
    if not isinstance(data, dict):
        raise invalid(where or kind, "It should be a/an key/value pair", "datatype_mismatch")
    for name in data:
        if name not in ATTRIBUTES[kind]:
            raise invalid(where + name, "Unexpected/invalid field in request", "invalid_field")
    if new:
        for name in sorted(MANDATORY[kind] - set(data)):
            message = "It should be a/an String" if name in _STRINGS else "Mandatory attribute"
            raise invalid(where + name, message, "missing_field")
    for name, value in data.items():
        if name in _STRINGS and not (isinstance(value, str) and value.strip()):
            raise invalid(where + name, "It should be a/an String", "datatype_mismatch")
        if name in _INTEGERS and (not isinstance(value, int) or isinstance(value, bool)):
            raise invalid(where + name, "It should be a/an Integer", "datatype_mismatch")
        if name in _LISTS and not isinstance(value, list):
            raise invalid(where + name, "It should be a/an Array", "datatype_mismatch")
        if name not in _STRINGS | _INTEGERS | _LISTS and not isinstance(value, bool):
            raise invalid(where + name, "It should be a/an Boolean", "datatype_mismatch")
    return data


@dataclass(frozen=True)
class TicketField:
    name: str  # cf_..., the key in `custom_fields`
    label: str
    type: str  # custom_dropdown, custom_number, custom_date, custom_text
    choices: tuple[str, ...] = ()


class Sent(NamedTuple):
    """A reply, as the e-mail Freshdesk sends for it."""

    ticket_id: int
    user_id: int
    to: str
    cc: tuple[str, ...]
    body: str


class Crash(BaseException):
    """The worker's process dies here: nothing in the worker catches this."""


class Refused(Exception):
    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def invalid(field_name: str, message: str, code: str = "invalid_value") -> Refused:
    error = {"field": field_name, "message": message, "code": code}
    return Refused(400, {"description": "Validation failed", "errors": [error]})


def not_found() -> Refused:
    return Refused(404, {})


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def text_to_html(text: str) -> str:
    return "<div>" + "<br>".join(html.escape(line) for line in text.split("\n")) + "</div>"


def html_to_plain(markup: str) -> str:
    """`body_text` as Freshdesk gives it: the text, lines joined with spaces."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return re.sub(r"\s+", " ", text).strip()


# --- the filter query language (`"tag:'x' AND (status:2 OR status:3) AND cf_d:<'2026-12-02'"`)
# What DEV#filter_tickets documents (docs/freshdesk.md, facts 6 and 40-42): `field:value`,
# `AND`, `OR`, parentheses, `:>` (greater than or equal to) and `:<` (less than or equal to) on
# date and numeric fields only, dates as 'YYYY-MM-DD', the whole query in double quotes and at
# most 512 characters. Anything else is refused.

_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<op>AND|OR)\b|(?P<key>\w+):(?P<rel>[<>])?(?P<value>'[^']*'|\w+))"
)
QUERY_LIMIT = 512


class Term(NamedTuple):
    """One token: `("paren", "(")`, `("op", "AND")`, or a condition `(field, value, "<"|">"|"")`."""

    key: str
    value: str
    relation: str = ""


Matcher = Callable[[Json, Term], bool]


def parse_query(query: str) -> list[Term]:
    if len(query) < 2 or not (query.startswith('"') and query.endswith('"')):
        raise invalid("query", "query must be enclosed in double quotes", "invalid_value")
    if len(query) - 2 > QUERY_LIMIT:
        raise invalid("query", f"It should be at most {QUERY_LIMIT} characters", "invalid_value")
    text, tokens, position = query[1:-1], [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid("query", f"cannot read the query at {text[position:]!r}")
        if match["paren"]:
            tokens.append(Term("paren", match["paren"]))
        elif match["op"]:
            tokens.append(Term("op", match["op"]))
        else:
            tokens.append(Term(match["key"], match["value"].strip("'"), match["rel"] or ""))
        position = match.end()
    return tokens


def conditions(tokens: Iterable[Term]) -> Iterator[Term]:
    return (t for t in tokens if t.key not in ("paren", "op"))


def compared(actual: object, term: Term, kind: str) -> bool:
    """One condition on a value of `kind` ("integer", "date", "datetime", "string",
    "boolean"). A range (`:>`, `:<`, both inclusive) is refused on other than numbers and
    dates. A date bound is a day ('YYYY-MM-DD'); on a date-time (`created_at`) whether `:<`
    takes the whole day is not documented, so the fake takes the narrower reading: up to
    that day's midnight (UTC)."""
    if term.relation and kind not in ("integer", "date", "datetime"):
        raise invalid("query", f"'{term.key}' does not take :> or :<")
    if term.value == "null":
        return actual is None
    if actual is None:
        return False
    if kind == "integer":
        try:
            wanted: Any = int(term.value)
        except ValueError:
            raise invalid("query", f"'{term.key}' should be a number") from None
        have: Any = int(str(actual))
    elif kind in ("date", "datetime"):
        try:
            day = date.fromisoformat(term.value)
        except ValueError:
            raise invalid("query", f"'{term.key}' should be a date (YYYY-MM-DD)") from None
        if kind == "date":
            wanted, have = day, date.fromisoformat(str(actual))
        else:
            wanted = datetime(day.year, day.month, day.day, tzinfo=UTC)
            have = parse_stamp(str(actual))
            if not term.relation:  # `created_at:'2026-12-01'`: that day
                return bool(have.date() == day)
    elif kind == "boolean":
        wanted, have = term.value.lower() == "true", bool(actual)
    else:
        return str(actual).lower() == term.value.lower()
    if term.relation == ">":
        return bool(have >= wanted)
    if term.relation == "<":
        return bool(have <= wanted)
    return bool(have == wanted)


def evaluate(tokens: list[Term], record: Json, matches: Matcher) -> bool:
    """OR of ANDs, with parentheses: enough for the queries the adapter sends."""
    position = 0

    def disjunction() -> bool:
        nonlocal position
        result = conjunction()
        while position < len(tokens) and tokens[position] == Term("op", "OR"):
            position += 1
            result = conjunction() or result
        return result

    def conjunction() -> bool:
        nonlocal position
        result = term()
        while position < len(tokens) and tokens[position] == Term("op", "AND"):
            position += 1
            result = term() and result
        return result

    def term() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == Term("paren", "("):
            result = disjunction()
            position += 1  # the closing parenthesis
            return result
        return matches(record, token)

    return disjunction()


# --- the account ---------------------------------------------------------------------------------


def _builtin_choices() -> dict[int, Json]:
    return {
        i: {
            "id": i,
            "value": status.label,
            "label_for_customers": "Being Processed" if i == OPEN else status.label,
            "stop_sla_timer": status.stop_sla_timer,
            "position": n,
            "deleted": False,
        }
        for n, (i, status) in enumerate(BUILTIN_STATUSES.items(), 1)
    }


def _default_fields(names: Iterable[tuple[str, str, str]]) -> list[Json]:
    return [
        {"id": n, "name": name, "label": label, "type": kind, "default": True, "position": n}
        for n, (name, label, kind) in enumerate(names, 1)
    ]


class Lost(NamedTuple):
    """A write Freshdesk applies whose answer never comes back."""

    method: str
    path: re.Pattern[str]
    kind: str  # "timeout", "reset" or "5xx"


@dataclass
class FakeFreshdesk:
    clock: Callable[[], datetime]
    base_url: str = "https://acme.freshdesk.com"
    contacts: dict[int, Json] = field(default_factory=dict)
    companies: dict[int, Json] = field(default_factory=dict)
    tickets: dict[int, Json] = field(default_factory=dict)
    conversations: dict[int, list[Json]] = field(default_factory=dict)
    outbox: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    status_choices: dict[int, Json] = field(default_factory=_builtin_choices)
    ticket_fields: list[Json] = field(default_factory=list)  # the custom ones, admin shape
    contact_fields: list[Json] = field(
        default_factory=lambda: _default_fields(
            [
                ("name", "Full name", "default_name"),
                ("email", "Email", "default_email"),
                ("company_name", "Company", "default_company_name"),
            ]
        )
    )
    company_fields: list[Json] = field(
        default_factory=lambda: _default_fields(
            [
                ("name", "Company Name", "default_name"),
                ("description", "Description", "default_description"),
                ("domains", "Domains for this company", "default_domains"),
            ]
        )
    )
    agents: dict[int, Json] = field(
        default_factory=lambda: {
            WORKER_ID: {
                "name": "Worker de cancelamento",
                "email": "worker@empresa.com.br",
                "role_ids": [1],
            },
            AGENT_ID: {"name": "Paula", "email": "agente@empresa.com.br", "role_ids": [4]},
        }
    )
    lost: list[Lost] = field(default_factory=list)
    reply_signature: str = ""  # HTML Freshdesk appends to the worker's replies, if any
    # Whether filter queries take a custom date field (DEV's list of custom field types does
    # not name it as quoted in 2020; docs/freshdesk.md, fact 41): off, they are refused (400).
    custom_date_queries: bool = True
    # A Freshdesk that takes a range on a custom date field and answers it wrong (matching
    # nothing): what the sweep's daily check against the full listing is for.
    custom_date_ranges_match_nothing: bool = False
    _ids: dict[str, itertools.count[int]] = field(
        default_factory=lambda: {
            "ticket": itertools.count(1),
            "contact": itertools.count(5001),
            "company": itertools.count(801),
            "conversation": itertools.count(100_001),
            "field": itertools.count(3001),
            "choice": itertools.count(6),
        }
    )

    @property
    def fields(self) -> tuple[TicketField, ...]:
        return tuple(
            TicketField(
                f["name"],
                f["label"],
                f["type"],
                tuple(c["value"] for c in _by_position(f.get("choices") or [])),
            )
            for f in self.ticket_fields
        )

    @property
    def statuses(self) -> dict[int, Status]:
        return {
            i: Status(c["value"], bool(c["stop_sla_timer"]))
            for i, c in self.status_choices.items()
            if not c["deleted"]
        }

    def field_named(self, label: str) -> str:
        """The `name` this account gave the ticket field labelled so."""
        return next(str(f["name"]) for f in self.ticket_fields if f["label"] == label)

    def ficha_name(self, label: str) -> str:
        """The `name` this account gave the contact or company field labelled so."""
        every = self.contact_fields + self.company_fields
        return next(str(f["name"]) for f in every if f["label"] == label and not f["default"])

    def lose_answer(self, method: str, path: str, kind: str = "timeout") -> None:
        """The next `method` on a path matching `path` (a regular expression, after
        `/api/v2`) is applied, and then its answer is lost: `timeout`, `reset`, `5xx`, or
        `crash` (the worker dies: `Crash` goes through everything); `crash-before` dies
        before the call is sent."""
        self.lost.append(Lost(method, re.compile(path), kind))

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # --- seeding: people and companies ------------------------------------------------------

    def add_company(self, name: str, custom_fields: Mapping[str, object]) -> int:
        company_id = self._next_id("company")
        self.companies[company_id] = {
            "id": company_id,
            "name": name,
            "description": None,
            "domains": [],
            "custom_fields": self._ficha_values("company", custom_fields),
            "created_at": stamp(self.now()),
            "updated_at": stamp(self.now()),
        }
        return company_id

    def _ficha_values(self, kind: str, values: Mapping[str, object]) -> dict[str, object]:
        """A contact's or company's custom fields: every one of the account's, by `name`."""
        names = self._custom_names(kind)
        unknown = set(values) - names
        if unknown:
            raise KeyError(f"no {kind} field named {sorted(unknown)} in this account")
        return {**dict.fromkeys(sorted(names)), **values}

    def add_contact(
        self, name: str, email: str, custom_fields: Mapping[str, object] | None = None
    ) -> int:
        if self.contact_by_email(email) is not None:
            raise ValueError(f"a contact with e-mail {email} exists")
        contact_id = self._next_id("contact")
        self.contacts[contact_id] = {
            "id": contact_id,
            "name": name,
            "email": email.strip().lower(),
            "active": True,
            "company_id": None,
            "other_companies": [],
            "custom_fields": self._ficha_values("contact", custom_fields or {}),
            "created_at": stamp(self.now()),
            "updated_at": stamp(self.now()),
        }
        return contact_id

    def contact_by_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        return next((i for i, c in self.contacts.items() if c["email"] == wanted), None)

    def join_company(self, contact_id: int, company_id: int) -> None:
        contact = self.contacts[contact_id]
        if company_id not in self.companies:
            raise KeyError(f"no company {company_id}")
        if contact["company_id"] is None:
            contact["company_id"] = company_id
        elif company_id != contact["company_id"] and company_id not in contact["other_companies"]:
            contact["other_companies"].append(company_id)

    def update_contact(self, contact_id: int, custom_fields: Mapping[str, object]) -> None:
        self._ficha_values("contact", custom_fields)  # every name must be the account's
        self.contacts[contact_id]["custom_fields"].update(custom_fields)

    # --- what people do ---------------------------------------------------------------------

    def create_ticket(
        self,
        requester_id: int,
        subject: str,
        text: str,
        *,
        tags: Iterable[str] = (),
        source: int = 1,
    ) -> int:
        """A ticket as an e-mail (source 1) or an agent's phone log (3) creates it: Open."""
        requester = self.contacts[requester_id]
        ticket_id = self._next_id("ticket")
        now = stamp(self.now())
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "description": text_to_html(text),
            "description_text": html_to_plain(text_to_html(text)),
            "status": OPEN,
            "priority": 1,
            "source": source,
            "type": None,
            "requester_id": requester_id,
            "responder_id": None,
            "group_id": None,
            "company_id": requester["company_id"],
            "cc_emails": [],
            "fwd_emails": [],
            "reply_cc_emails": [],
            "to_emails": None,
            "spam": False,
            "tags": list(dict.fromkeys(tags)),
            "custom_fields": {f.name: None for f in self.fields},
            "created_at": now,
            "updated_at": now,
        }
        self.conversations[ticket_id] = []
        return ticket_id

    def customer_replies(
        self, ticket_id: int, contact_id: int, text: str, *, from_email: str | None = None
    ) -> None:
        """An e-mail into the ticket from a contact (the requester or someone in copy).
        `from_email`: the address it really came from, when it is not the contact's own (the
        conversation is still attributed to the contact, `user_id`)."""
        ticket = self._ticket(ticket_id)
        contact = self.contacts[contact_id]
        if self.statuses[ticket["status"]].stop_sla_timer:
            ticket["status"] = OPEN
        self._converse(ticket, contact_id, text_to_html(text), incoming=True, private=False)
        sender = from_email or contact["email"]
        self.conversations[ticket_id][-1]["from_email"] = sender

    def agent_note(self, ticket_id: int, text: str, *, private: bool = True) -> None:
        """An agent's private note, or (`private=False`) a public reply."""
        ticket = self._ticket(ticket_id)
        self._converse(ticket, AGENT_ID, text_to_html(text), incoming=False, private=private)

    def worker_replies(self, ticket_id: int, html_body: str) -> None:
        """A public reply by the worker's agent, as a cut step of the worker leaves it."""
        self._reply({}, {"body": html_body}, ticket_id)

    def agent_updates(self, ticket_id: int, changes: Json) -> None:
        self._update(self._ticket(ticket_id), changes)

    def trash(self, ticket_id: int) -> None:
        """An agent deletes the ticket: it goes to the trash, from where it can be restored."""
        self._ticket(ticket_id)["deleted"] = True

    def mark_spam(self, ticket_id: int) -> None:
        self._ticket(ticket_id)["spam"] = True

    # --- HTTP -------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> None:
        pattern = re.compile(re.escape(self.base_url) + r"/api/v2/")

        def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            method = request.method or "GET"
            path = urlsplit(request.url or "").path
            if self._lost(method, path, 200, "crash-before"):
                raise Crash(f"the worker died before {method} {path}")
            status, payload, headers = self.handle(method, request.url or "", request.headers, body)
            lost = self._lost(method, path, status)
            if lost == "crash":
                raise Crash(f"the worker died after {method} {path} was applied")
            if lost == "timeout":
                raise requests.ReadTimeout("Read timed out. (read timeout=30)")
            if lost == "reset":
                reset = ConnectionResetError(104, "Connection reset by peer")
                raise requests.ConnectionError(("Connection aborted.", reset))
            if lost == "5xx":
                return 502, {}, "<html>Bad Gateway</html>"
            return status, headers, json.dumps(payload)

        for method in (responses.GET, responses.POST, responses.PUT):
            mock.add_callback(method, pattern, callback=callback, content_type="application/json")

    def _lost(self, method: str, path: str, status: int, only: str | None = None) -> str | None:
        """The kind of loss armed for this call, once, if the call was applied."""
        for n, lost in enumerate(self.lost):
            if only is not None and lost.kind != only:
                continue
            if only is None and lost.kind == "crash-before":
                continue
            if lost.method == method and lost.path.fullmatch(path.removeprefix("/api/v2")):
                if status >= 400:
                    return None  # refused: nothing was applied, the answer says so
                del self.lost[n]
                return lost.kind
        return None

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: str | None) -> Reply:
        parts = urlsplit(url)
        self.requests.append((method, parts.path))
        if not str(headers.get("Authorization", "")).startswith("Basic "):
            message = "You have to be logged in to perform this action."
            return 401, {"code": "invalid_credentials", "message": message}, {}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {"description": "Validation failed", "errors": []}, {}
        for verb, route, handler in self._routes():
            found = re.fullmatch(route, parts.path)
            if found and verb == method:
                try:
                    return handler(query, data, *(int(g) for g in found.groups()))
                except Refused as refusal:
                    return refusal.status, refusal.body, {}
        return 404, {"code": "invalid_path", "message": "This API request is invalid"}, {}

    def _routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        api = "/api/v2"
        return [
            ("GET", f"{api}/agents/me", lambda q, d: (200, self._agent(WORKER_ID), {})),
            ("GET", rf"{api}/agents/(\d+)", lambda q, d, i: (200, self._agent(i), {})),
            ("GET", f"{api}/ticket_fields", lambda q, d: (200, self._ticket_fields(), {})),
            ("POST", f"{api}/admin/ticket_fields", self._create_ticket_field),
            ("GET", rf"{api}/admin/ticket_fields/(\d+)", self._admin_ticket_field),
            ("PUT", rf"{api}/admin/ticket_fields/(\d+)", self._update_ticket_field),
            ("GET", f"{api}/contact_fields", lambda q, d: (200, self._listed("contact"), {})),
            ("POST", f"{api}/contact_fields", lambda q, d: self._create_field("contact", d)),
            ("GET", f"{api}/company_fields", lambda q, d: (200, self._listed("company"), {})),
            ("POST", f"{api}/company_fields", lambda q, d: self._create_field("company", d)),
            ("GET", f"{api}/roles", lambda q, d: (200, self._roles(), {})),
            ("GET", f"{api}/tickets", self._list_tickets),
            ("GET", rf"{api}/tickets/(\d+)", self._show_ticket),
            ("PUT", rf"{api}/tickets/(\d+)", self._put_ticket),
            ("GET", rf"{api}/tickets/(\d+)/conversations", self._list_conversations),
            ("POST", rf"{api}/tickets/(\d+)/reply", self._reply),
            ("POST", rf"{api}/tickets/(\d+)/notes", self._note),
            ("GET", f"{api}/contacts", self._list_contacts),
            ("GET", rf"{api}/contacts/(\d+)", self._show_contact),
            ("GET", rf"{api}/companies/(\d+)", self._show_company),
            ("GET", f"{api}/search/tickets", self._search_tickets),
            ("GET", f"{api}/search/companies", self._search_companies),
        ]

    # --- agents, roles and layout ------------------------------------------------------------

    def _agent(self, agent_id: int) -> Json:
        if agent_id not in self.agents:
            raise not_found()
        agent = self.agents[agent_id]
        return {
            "id": agent_id,
            "available": True,
            "occasional": False,
            "ticket_scope": 1,
            "role_ids": list(agent["role_ids"]),
            "contact": {"name": agent["name"], "email": agent["email"], "active": True},
        }

    def _roles(self) -> list[Json]:
        return [{"id": i, "name": name, "default": True} for i, name in ROLES]

    def _status_field(self) -> Json:
        return {
            "id": 2000,
            "name": "status",
            "label": "Status",
            "label_for_customers": "Status",
            "type": "default_status",
            "default": True,
            "position": 3,
        }

    def _ticket_fields(self) -> list[Json]:
        """The agents' view: the status choices as `{"id": [agent label, customer label]}`,
        a dropdown's as a list of values, both in position order."""
        status = {
            **self._status_field(),
            "choices": {
                str(c["id"]): [c["value"], c["label_for_customers"]]
                for c in _by_position(self.status_choices.values())
                if not c["deleted"]
            },
        }
        custom = [
            {**f, "choices": [c["value"] for c in _by_position(f.get("choices") or [])]}
            for f in self.ticket_fields
        ]
        subject = {"id": 1999, "name": "subject", "label": "Subject", "type": "default_subject"}
        return [subject, status, *custom]

    def _admin_ticket_field(self, query: Mapping[str, str], data: Json, field_id: int) -> Reply:
        if field_id == 2000:
            choices = [dict(c) for c in _by_position(self.status_choices.values())]
            return 200, {**self._status_field(), "choices": choices}, {}
        found = next((f for f in self.ticket_fields if f["id"] == field_id), None)
        if found is None:
            raise not_found()
        return 200, json.loads(json.dumps(found)), {}

    def _create_ticket_field(self, query: Mapping[str, str], data: Json) -> Reply:
        checked("ticket_field", data, new=True)
        if data["type"] not in CUSTOM_TYPES["ticket_field"]:
            raise invalid("type", "It should be one of the custom field types")
        if any(f["label"] == data["label"] for f in self.ticket_fields):
            raise invalid("label", "It should be a unique value", "duplicate_value")
        made: Json = {
            "id": self._next_id("field"),
            "name": derived_name(data["label"], (f["name"] for f in self.ticket_fields)),
            "label": data["label"],
            "label_for_customers": data["label_for_customers"],
            "type": data["type"],
            "default": False,
            "position": len(self.ticket_fields) + 4,
            "choices": [],
        }
        made["choices"] = _merged_choices([], data.get("choices") or [], "dropdown_choice")
        self.ticket_fields.append(made)
        for ticket in self.tickets.values():
            ticket["custom_fields"].setdefault(made["name"], None)
        return 201, json.loads(json.dumps(made)), {}

    def _update_ticket_field(self, query: Mapping[str, str], data: Json, field_id: int) -> Reply:
        """Choices with an `id` change that choice, those without are added (at `position`);
        choices not named are kept."""
        checked("ticket_field", data, new=False)
        if "type" in data:
            raise invalid("type", "The type of a field cannot be changed", "invalid_value")
        if field_id == 2000:
            choices = _merged_choices(
                list(self.status_choices.values()), data.get("choices") or [], "status_choice"
            )
            for choice in choices:
                if "id" not in choice:
                    choice["id"] = self._next_id("choice")
                self.status_choices[choice["id"]] = choice
            return self._admin_ticket_field(query, {}, field_id)
        found = next((f for f in self.ticket_fields if f["id"] == field_id), None)
        if found is None:
            raise not_found()
        found["choices"] = _merged_choices(
            found["choices"], data.get("choices") or [], "dropdown_choice"
        )
        for name in ("label", "label_for_customers"):
            found[name] = data.get(name, found[name])
        return 200, json.loads(json.dumps(found)), {}

    def _fields_of(self, kind: str) -> list[Json]:
        return self.contact_fields if kind == "contact" else self.company_fields

    def _listed(self, kind: str) -> list[Json]:
        return [dict(f) for f in self._fields_of(kind)]

    def _create_field(self, kind: str, data: Json) -> Reply:
        """A contact or company field; Freshdesk (here, the fake) names it."""
        object_kind = f"{kind}_field"
        checked(object_kind, data, new=True)
        if data["type"] not in CUSTOM_TYPES[object_kind]:
            raise invalid("type", "It should be one of the custom field types")
        existing = self._fields_of(kind)
        if any(f["label"] == data["label"] for f in existing):
            raise invalid("label", "It should be a unique value", "duplicate_value")
        position = data.get("position", 1)
        if not 1 <= position <= len(existing) + 1:
            raise invalid("position", f"It should be between 1 and {len(existing) + 1}")
        made = {
            **{k: v for k, v in data.items() if k != "choices"},
            "id": self._next_id("field"),
            "name": derived_name(data["label"], (f["name"] for f in existing)),
            "default": False,
            "position": position,
            "created_at": stamp(self.now()),
            "updated_at": stamp(self.now()),
        }
        existing.append(made)
        return 201, dict(made), {}

    def _custom_names(self, kind: str) -> set[str]:
        return {f["name"] for f in self._fields_of(kind) if not f["default"]}

    # --- tickets ----------------------------------------------------------------------------

    def _ticket(self, ticket_id: int) -> Json:
        if ticket_id not in self.tickets:
            raise not_found()
        return self.tickets[ticket_id]

    def _writable(self, ticket_id: int) -> Json:
        ticket = self._ticket(ticket_id)
        if ticket.get("deleted") or ticket.get("spam"):
            raise Refused(405, {"code": "method_not_allowed", "message": "Method not allowed"})
        return ticket

    def _touch(self, ticket: Json) -> str:
        """Every change moves `updated_at` forward, by a second at least."""
        moment = max(self.now(), parse_stamp(ticket["updated_at"]) + timedelta(seconds=1))
        ticket["updated_at"] = stamp(moment)
        return str(ticket["updated_at"])

    def _render(self, ticket: Json, include: set[str], *, description: bool) -> Json:
        out = {k: v for k, v in ticket.items() if description or not k.startswith("description")}
        out["tags"] = list(ticket["tags"])
        out["custom_fields"] = dict(ticket["custom_fields"])
        if "requester" in include:
            contact = self.contacts[ticket["requester_id"]]
            out["requester"] = {
                "id": contact["id"],
                "name": contact["name"],
                "email": contact["email"],
                "mobile": None,
                "phone": None,
            }
        return out

    def _list_tickets(self, query: Mapping[str, str], data: Json) -> Reply:
        include = _includes(query, {"requester", "description", "stats", "company"})
        # Trashed and spam tickets show only under their own filters (not used by the worker).
        found = [t for t in self.tickets.values() if not t.get("deleted") and not t["spam"]]
        if "updated_since" in query:
            since = _moment(query["updated_since"], "updated_since")
            found = [t for t in found if parse_stamp(t["updated_at"]) >= since]
        else:  # without it, the list covers tickets created in the last 30 days
            month = self.now() - timedelta(days=30)
            found = [t for t in found if parse_stamp(t["created_at"]) >= month]
        if "email" in query:
            wanted = query["email"].strip().lower()
            found = [t for t in found if self.contacts[t["requester_id"]]["email"] == wanted]
        if "requester_id" in query:
            found = [t for t in found if str(t["requester_id"]) == query["requester_id"]]
        order = query.get("order_by", "created_at")
        if order not in ("created_at", "due_by", "updated_at", "status"):
            raise invalid(
                "order_by",
                "It should be one of these values: 'created_at,due_by,updated_at,status'",
            )
        key = "created_at" if order == "due_by" else order
        found.sort(key=lambda t: (t[key], t["id"]), reverse=query.get("order_type") != "asc")
        rendered = [self._render(t, include, description="description" in include) for t in found]
        return self._paged(query, "/api/v2/tickets", rendered)

    def _show_ticket(self, query: Mapping[str, str], data: Json, ticket_id: int) -> Reply:
        include = _includes(query, {"requester", "stats", "company", "conversations"})
        return 200, self._render(self._ticket(ticket_id), include, description=True), {}

    def _put_ticket(self, query: Mapping[str, str], data: Json, ticket_id: int) -> Reply:
        ticket = self._writable(ticket_id)
        self._update(ticket, data)
        return 200, self._render(ticket, set(), description=True), {}

    def _update(self, ticket: Json, data: Json) -> None:
        """Checked as a whole, then applied: a refused update changes nothing."""
        allowed = {"status", "custom_fields", "tags", "priority", "subject", "responder_id"}
        for name in data:
            if name not in allowed:
                raise invalid(name, "Unexpected/invalid field in request", "invalid_field")
        if "status" in data and data["status"] not in self.statuses:
            values = ",".join(str(i) for i in self.statuses)
            raise invalid("status", f"It should be one of these values: '{values}'")
        custom = data.get("custom_fields", {})
        if not isinstance(custom, dict):
            raise invalid("custom_fields", "It should be a/an key/value pair", "datatype_mismatch")
        by_name = {f.name: f for f in self.fields}
        for name, value in custom.items():
            if name not in by_name:
                raise invalid(name, "Unexpected/invalid field in request", "invalid_field")
            _check_value(by_name[name], value)
        tags = data.get("tags", ticket["tags"])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise invalid("tags", "It should be an array of Strings", "datatype_mismatch")
        for name in ("status", "priority", "subject", "responder_id"):
            if name in data:
                ticket[name] = data[name]
        ticket["custom_fields"].update(custom)
        ticket["tags"] = list(dict.fromkeys(tags))
        self._touch(ticket)

    # --- conversations ----------------------------------------------------------------------

    def _converse(
        self, ticket: Json, user_id: int, body: str, *, incoming: bool, private: bool
    ) -> Json:
        created = self._touch(ticket)
        conversation: Json = {
            "id": self._next_id("conversation"),
            "body": body,
            "body_text": html_to_plain(body),
            "incoming": incoming,
            "private": private,
            "user_id": user_id,
            "support_email": None,
            "source": 2 if private else 0,
            "category": 2 if private else 3,
            "ticket_id": ticket["id"],
            "from_email": None,
            "to_emails": [],
            "cc_emails": [],
            "bcc_emails": [],
            "attachments": [],
            "created_at": created,
            "updated_at": created,
        }
        self.conversations[ticket["id"]].append(conversation)
        return conversation

    def _list_conversations(self, query: Mapping[str, str], data: Json, ticket_id: int) -> Reply:
        self._ticket(ticket_id)
        path = f"/api/v2/tickets/{ticket_id}/conversations"
        return self._paged(query, path, [dict(c) for c in self.conversations[ticket_id]])

    def _reply(self, query: Mapping[str, str], data: Json, ticket_id: int) -> Reply:
        """A public reply by the key's agent: Freshdesk e-mails it to the requester and to
        `cc_emails`."""
        ticket = self._writable(ticket_id)
        body = _body(data, {"body", "cc_emails", "bcc_emails", "from_email", "user_id"})
        cc = data.get("cc_emails", [])
        if not isinstance(cc, list) or not all(isinstance(e, str) and "@" in e for e in cc):
            raise invalid("cc_emails", "It should contain elements that are valid email address")
        if len(cc) > 50:
            raise invalid("cc_emails", "It should have at most 50 elements")
        to = self.contacts[ticket["requester_id"]]["email"]
        body = f"<div>{body}{self.reply_signature}</div>"  # Freshdesk's wrapping, a signature
        made = self._converse(ticket, WORKER_ID, body, incoming=False, private=False)
        made.update(to_emails=[to], cc_emails=list(cc), from_email="suporte@acme.com.br")
        self.outbox.append(Sent(ticket_id, WORKER_ID, to, tuple(cc), made["body_text"]))
        return 201, dict(made), {}

    def _note(self, query: Mapping[str, str], data: Json, ticket_id: int) -> Reply:
        ticket = self._writable(ticket_id)
        body = _body(data, {"body", "private", "incoming", "notify_emails", "user_id"})
        private = data.get("private", True)
        if not isinstance(private, bool):
            raise invalid("private", "Value set is of type String.It should be a/an Boolean")
        made = self._converse(
            ticket, WORKER_ID, body, incoming=bool(data.get("incoming")), private=private
        )
        return 201, dict(made), {}

    # --- contacts and companies -------------------------------------------------------------

    def _contact_json(self, contact: Json, *, listed: bool) -> Json:
        """`other_companies`: ids in a list, `{company_id, view_all_tickets}` for one contact
        (docs/freshdesk.md, fact 16)."""
        others = contact["other_companies"]
        return {
            **contact,
            "custom_fields": dict(contact["custom_fields"]),
            "other_companies": list(others)
            if listed
            else [{"company_id": c, "view_all_tickets": False} for c in others],
        }

    def _show_contact(self, query: Mapping[str, str], data: Json, contact_id: int) -> Reply:
        if contact_id not in self.contacts:
            raise not_found()
        return 200, self._contact_json(self.contacts[contact_id], listed=False), {}

    def _list_contacts(self, query: Mapping[str, str], data: Json) -> Reply:
        found = list(self.contacts.values())
        if "company_id" in query:  # the company's contacts, also those in other_companies
            company = int(query["company_id"])
            found = [c for c in found if company in (c["company_id"], *c["other_companies"])]
        if "email" in query:
            found = [c for c in found if c["email"] == query["email"].strip().lower()]
        listed = [self._contact_json(c, listed=True) for c in found]
        return self._paged(query, "/api/v2/contacts", listed)

    def _show_company(self, query: Mapping[str, str], data: Json, company_id: int) -> Reply:
        if company_id not in self.companies:
            raise not_found()
        company = self.companies[company_id]
        return 200, {**company, "custom_fields": dict(company["custom_fields"])}, {}

    # --- filter queries ---------------------------------------------------------------------

    def _search_tickets(self, query: Mapping[str, str], data: Json) -> Reply:
        """Filter tickets: the documented fields, and custom fields by their `name` (`cf_...`)
        of the documented types; any other field is refused, not answered empty."""
        kinds = {
            "status": "integer",
            "priority": "integer",
            "group_id": "integer",
            "agent_id": "integer",
            "tag": "string",
            "type": "string",
            "created_at": "datetime",
            "updated_at": "datetime",
            "due_by": "datetime",
            "fr_due_by": "datetime",
        }
        custom_kinds = {
            "custom_text": "string",
            "custom_dropdown": "string",
            "custom_number": "integer",
            "custom_checkbox": "boolean",
        }
        if self.custom_date_queries:
            custom_kinds["custom_date"] = "date"
        for definition in self.fields:
            if definition.type in custom_kinds:
                kinds.setdefault(definition.name, custom_kinds[definition.type])
        tokens = parse_query(query.get("query", ""))
        for term in conditions(tokens):
            if term.key not in kinds:
                raise invalid("query", f"'{term.key}' is not a ticket field this query takes")
            if term.relation and kinds[term.key] not in ("integer", "date", "datetime"):
                raise invalid("query", f"'{term.key}' does not take :> or :<")

        def matches(ticket: Json, term: Term) -> bool:
            if term.key == "tag":
                return term.value.lower() in (t.lower() for t in ticket["tags"])
            source = "responder_id" if term.key == "agent_id" else term.key
            value = ticket.get(source, ticket["custom_fields"].get(term.key))
            if (
                term.relation
                and term.key.startswith("cf_")
                and self.custom_date_ranges_match_nothing
            ):
                return False
            return compared(value, term, kinds[term.key])

        found = [
            self._render(t, set(), description=False)
            for t in sorted(self.tickets.values(), key=lambda t: t["id"])
            if evaluate(tokens, t, matches)
        ]
        return self._search_page(query, found)

    def _search_companies(self, query: Mapping[str, str], data: Json) -> Reply:
        def matches(company: Json, term: Term) -> bool:
            custom = company["custom_fields"]
            value = company["name"] if term.key == "name" else custom.get(term.key)
            return compared(value or "", term, "string")

        tokens = parse_query(query.get("query", ""))
        known = {"name", "domain", *self._custom_names("company")}
        for term in conditions(tokens):
            if term.key not in known:
                raise invalid("query", f"'{term.key}' is not a company field of this account")
        found = [
            {**c, "custom_fields": dict(c["custom_fields"])}
            for c in sorted(self.companies.values(), key=lambda c: c["id"])
            if evaluate(tokens, c, matches)
        ]
        return self._search_page(query, found)

    def _search_page(self, query: Mapping[str, str], found: list[Json]) -> Reply:
        page = _int(query, "page", 1)
        if not 1 <= page <= SEARCH_PAGES:
            raise invalid("page", f"It should be between 1 and {SEARCH_PAGES}")
        start = (page - 1) * SEARCH_PAGE
        return 200, {"total": len(found), "results": found[start : start + SEARCH_PAGE]}, {}

    def _paged(self, query: Mapping[str, str], path: str, items: list[Json]) -> Reply:
        per_page, page = _int(query, "per_page", 30), _int(query, "page", 1)
        if not 1 <= per_page <= 100:
            raise invalid("per_page", "It should be between 1 and 100")
        start = (page - 1) * per_page
        headers: dict[str, str] = {}
        if start + per_page < len(items):
            following = urlencode({**query, "page": page + 1})
            headers["link"] = f'<{self.base_url}{path}?{following}>; rel="next"'
        return 200, items[start : start + per_page], headers


def _check_value(definition: TicketField, value: object) -> None:
    if value is None:
        return
    kind, name = definition.type, definition.name
    if kind == "custom_dropdown" and value not in definition.choices:
        choices = ",".join(definition.choices)
        raise invalid(name, f"It should be one of these values: '{choices}'")
    if kind == "custom_number" and (not isinstance(value, int) or isinstance(value, bool)):
        raise invalid(name, "It should be a/an Integer", "datatype_mismatch")
    if kind == "custom_date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise invalid(name, "It should be in the 'yyyy-mm-dd' format") from None
    if kind == "custom_text" and not isinstance(value, str):
        raise invalid(name, "It should be a/an String", "datatype_mismatch")


def _body(data: Json, allowed: set[str]) -> str:
    for name in data:
        if name not in allowed:
            raise invalid(name, "Unexpected/invalid field in request", "invalid_field")
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        raise invalid("body", "It should not be blank as this is a mandatory field", "missing")
    return body


def _includes(query: Mapping[str, str], allowed: set[str]) -> set[str]:
    wanted = {i for i in query.get("include", "").split(",") if i}
    if not wanted <= allowed:
        raise invalid("include", f"It should be one of these values: '{','.join(sorted(allowed))}'")
    return wanted


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise invalid(name, "It should be a/an Positive Integer", "datatype_mismatch") from None


def _moment(text: str, name: str) -> datetime:
    try:
        return parse_stamp(text)
    except ValueError:
        raise invalid(name, "It should be in the 'valid date time' format") from None


@contextmanager
def fresh_account() -> Iterator[FakeFreshdesk]:
    """A new account, served over HTTP for as long as the block lasts."""
    fake = FakeFreshdesk(lambda: datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake


def _by_position(choices: Iterable[Json]) -> list[Json]:
    return sorted(choices, key=lambda c: (c.get("position", 0), c.get("id", 0)))


def _merged_choices(existing: list[Json], wanted: list[object], kind: str) -> list[Json]:
    """Choices as an update leaves them: one with `id` changes that choice; one without is
    new and needs its `value` and a `position` between 1 and the count after it."""
    merged = [dict(c) for c in existing]
    for n, choice in enumerate(wanted):
        where = f"choices[{n}]."
        if isinstance(choice, dict) and "id" in choice:
            checked(kind, choice, new=False, where=where)
            found = next((c for c in merged if c.get("id") == choice["id"]), None)
            if found is None:
                raise invalid(where + "id", "There is no choice with this id")
            found.update(choice)
            continue
        made = checked(kind, choice, new=True, where=where)
        live = [c for c in merged if not c.get("deleted")]
        if any(c["value"] == made["value"] for c in live):
            raise invalid(where + "value", "It should be a unique value", "duplicate_value")
        if not 1 <= made["position"] <= len(live) + 1:
            raise invalid(where + "position", f"It should be between 1 and {len(live) + 1}")
        for other in live:
            if other.get("position", 0) >= made["position"]:
                other["position"] = other.get("position", 0) + 1
        if kind == "status_choice":
            made = {"stop_sla_timer": False, **made}
        merged.append({"deleted": False, **made})
        if kind == "dropdown_choice":
            merged[-1]["id"] = 10_000 + len(merged)
    return merged
