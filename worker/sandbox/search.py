"""The part of Zendesk's search query language the worker relies on.

Terms are space-separated `keyword<op>value` pairs (op is `:`, `<`, `>`, `<=` or `>=`), values
may be quoted, a leading `-` excludes. As on Zendesk, repeated `keyword:` terms with the same
keyword are OR-ed (`requester:a requester:b`), everything else is AND-ed (`created>=X
created<Y` is a range). A keyword this fake does not know matches nothing rather than
everything, so a query the adapter gets wrong shows up as a missing result, never as a
silently wider one. Search here is instant; Zendesk's index lags by a minute or more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any

from worker.sandbox.state import STATUSES, Organization, Store, Ticket, User, parse_stamp

_TERM = re.compile(
    r'(?P<neg>-)?(?:(?P<key>[A-Za-z_][\w.]*)(?P<op><=|>=|:|<|>))?(?P<value>"[^"]*"|\S+)'
)


@dataclass(frozen=True)
class Term:
    key: str | None  # None: free text
    op: str
    value: str
    negated: bool = False


def parse_query(query: str) -> list[Term]:
    terms: list[Term] = []
    for match in _TERM.finditer(query):
        value = match["value"]
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        key = match["key"].lower() if match["key"] else None
        terms.append(Term(key, match["op"] or ":", value, bool(match["neg"])))
    return terms


def requested_types(terms: Iterable[Term]) -> set[str]:
    return {t.value.lower() for t in terms if t.key == "type" and not t.negated}


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == ":":
        return bool(left == right)
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    return bool(left >= right)


def _time_matches(moment: datetime, op: str, value: str) -> bool:
    """`created>=2026-12-01` compares calendar days (UTC); a full timestamp compares instants."""
    if len(value) == 10:
        try:
            return _compare(moment.date(), op, date.fromisoformat(value))
        except ValueError:
            return False
    parsed = parse_stamp(value)
    return parsed is not None and _compare(moment, op, parsed)


class Searcher:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, query: str, kinds: set[str] | None = None) -> list[tuple[str, Any]]:
        """Matching records as (result_type, record), tickets first, each kind by id."""
        terms = parse_query(query)
        wanted = requested_types(terms) or {"ticket", "user", "organization"}
        if kinds is not None:
            wanted &= kinds
        terms = [t for t in terms if t.key != "type"]
        results: list[tuple[str, Any]] = []
        if "ticket" in wanted:
            tickets = sorted(self.store.tickets.values(), key=lambda t: t.id)
            results += [("ticket", t) for t in tickets if self._all(terms, t, self._ticket_term)]
        if "user" in wanted:
            users = sorted(self.store.users.values(), key=lambda u: u.id)
            results += [("user", u) for u in users if self._all(terms, u, self._user_term)]
        if "organization" in wanted:
            orgs = sorted(self.store.organizations.values(), key=lambda o: o.id)
            results += [("organization", o) for o in orgs if self._all(terms, o, self._org_term)]
        return results

    def _all(self, terms: list[Term], record: Any, test: Callable[[Term, Any], bool]) -> bool:
        def group(term: Term) -> tuple[str, str, bool]:
            # same keyword with ':' → one OR group; every other term stands alone
            alone = term.op != ":" or term.key is None or term.negated
            return (term.key or "", term.op, alone)

        ordered = sorted(terms, key=lambda t: (t.key or "", t.op, t.negated))
        for (_key, _op, alone), members in groupby(ordered, key=group):
            items = list(members)
            if alone:
                if not all(test(t, record) != t.negated for t in items):
                    return False
            elif not any(test(t, record) for t in items):
                return False
        return True

    # --- per kind ---------------------------------------------------------------------------

    def _user_matches(self, user_id: int | None, value: str) -> bool:
        if user_id is None:
            return value.lower() == "none"
        user = self.store.users.get(user_id)
        if user is None:
            return False
        return value.casefold() in (str(user.id), user.email.casefold(), user.name.casefold())

    def _ticket_term(self, term: Term, ticket: Ticket) -> bool:
        key, op, value = term.key, term.op, term.value
        if key is None:
            text = " ".join([ticket.subject, *(c.body for c in ticket.comments)]).casefold()
            return value.casefold() in text
        if key in ("tags", "tag"):
            return value.lower() in ticket.tags
        if key == "status":
            if value.lower() not in STATUSES:
                return False
            return _compare(STATUSES.index(ticket.status), op, STATUSES.index(value.lower()))
        if key in ("requester", "submitter", "assignee"):
            return self._user_matches(getattr(ticket, f"{key}_id"), value)
        if key in ("cc", "email_cc"):
            return any(self._user_matches(u, value) for u in ticket.email_cc_ids)
        if key in ("created", "updated"):
            return _time_matches(getattr(ticket, f"{key}_at"), op, value)
        if key == "organization":
            return str(ticket.organization_id) == value
        if key == "custom_status_id":
            return str(ticket.custom_status_id) == value
        if key == "subject":
            return value.casefold() in ticket.subject.casefold()
        if key == "description":
            return value.casefold() in ticket.description.casefold()
        if key.startswith("custom_field_"):
            field_id = key.removeprefix("custom_field_")
            wanted = next((v for f, v in ticket.custom_fields.items() if str(f) == field_id), None)
            if op != ":":
                return self._date_field_matches(field_id, wanted, op, value)
            return wanted is not None and str(wanted).casefold() == value.casefold()
        return False

    def _date_field_matches(self, field_id: str, stored: Any, op: str, value: str) -> bool:
        """`custom_field_<id><2026-12-07`: a range only on a date field and a `YYYY-MM-DD`
        bound; anything else matches nothing (stricter than Zendesk, whose handling of other
        types is not documented), and a ticket without a value is never in a range."""
        known = self.store.ticket_fields.get(int(field_id)) if field_id.isdigit() else None
        if known is None or known.type != "date" or stored is None:
            return False
        try:
            return _compare(date.fromisoformat(str(stored)), op, date.fromisoformat(value))
        except ValueError:
            return False

    def _user_term(self, term: Term, user: User) -> bool:
        key, value = term.key, term.value.casefold()
        if key is None:
            return value in user.name.casefold() or value in user.email.casefold()
        if key == "email":
            return user.email.casefold() == value
        if key == "name":
            return value in user.name.casefold()
        if key == "role":
            return user.role == value
        if key == "organization":
            return value in {str(o) for o in self.store.organization_ids_of(user.id)}
        return _custom_value_matches(user.user_fields.get(key), value)

    def _org_term(self, term: Term, organization: Organization) -> bool:
        key, value = term.key, term.value.casefold()
        if key is None:
            return value in organization.name.casefold()
        if key == "name":
            return organization.name.casefold() == value
        if key == "created":
            return _time_matches(organization.created_at, term.op, term.value)
        if key in organization.organization_fields or any(
            d["key"] == key for d in self.store.organization_fields
        ):
            return _custom_value_matches(organization.organization_fields.get(key), value)
        return False


def _custom_value_matches(stored: Any, value: str) -> bool:
    """Custom field values match exactly, ignoring case (e-mails are stored as typed)."""
    if stored is None:
        return value == "none"
    if isinstance(stored, bool):
        return str(stored).lower() == value
    return str(stored).casefold() == value
