"""A stateful fake of the Zendesk Support API: one account, on a clock the caller gives.

It answers the endpoints the adapter uses (docs/zendesk.md) with the shapes, errors and limits
of the real service, because the adapter's hard parts are exactly the real service's rules:
`safe_update` conflicts, a customer's reply reopening a ticket, the incremental export leaving
out the last minute, 429s, and a write whose response is lost. Tests play the agent and the
customer through plain methods; the adapter sees only HTTP (`handle`), through `responses` in
tests and over loopback from `server.SandboxServer` (`python -m worker sandbox`). The account
lives in SQLite (`state.Store`), in memory unless a file is given; `faults.Chaos` adds the
faults asked for at start or through the admin endpoints.
"""

from __future__ import annotations

import functools
import json
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs, urlsplit

from worker.sandbox import catalog
from worker.sandbox.api import (
    JSON_HEADERS,
    ApiError,
    Request,
    bad_request,
    cursor_page,
    decode_cursor,
    encode_cursor,
    invalid,
    not_found,
    offset_page,
    page_url,
    paged,
)
from worker.sandbox.faults import Chaos, Faults
from worker.sandbox.limits import Limiter, RateLimits
from worker.sandbox.search import Searcher
from worker.sandbox.state import (
    CATEGORIES,
    STATUSES,
    SYSTEM_FIELD_TYPES,
    Comment,
    Email,
    Membership,
    Organization,
    Store,
    Ticket,
    TicketField,
    User,
    html_from_text,
    normalise_tags,
    utc,
)
from worker.sandbox.updates import apply_update, plan_update, tag_edits_refused
from worker.sandbox.webhooks import Emitter

R = TypeVar("R")
P = ParamSpec("P")
Reply = tuple[int, dict[str, Any]]
Handler = Callable[[Request], Reply]

EXPORT_HORIZON = timedelta(seconds=60)  # the incremental export leaves out the last minute


class LostResponse(Exception):
    """Raised by `handle` after applying a write whose response must never reach the client:
    the binding turns it into a connection error, a server would drop the connection."""

    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


def _atomic(method: Callable[P, R]) -> Callable[P, R]:
    """A seeding or people's method: under the account's lock, written all or nothing."""

    @functools.wraps(method)
    def atomic(*args: P.args, **kwargs: P.kwargs) -> R:
        fake = args[0]
        assert isinstance(fake, FakeZendesk)
        with fake.store.transaction():
            return method(*args, **kwargs)

    return atomic


class FakeZendesk:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        subdomain_url: str = "https://example.zendesk.com",
        limits: RateLimits | None = None,
        database: str | Path = ":memory:",
        faults: Faults | None = None,
        sleep: Callable[[float], None] = time.sleep,
        emitter: Emitter | None = None,
    ) -> None:
        """`database`: a SQLite file keeps the account across restarts (in memory otherwise);
        an existing one is opened as it was left. `sleep` serves the slow-response fault.
        `emitter`: fire the account's webhook triggers on ticket changes (none by default)."""
        self.emitter = emitter
        self.base_url = subdomain_url.rstrip("/")
        self.store = Store(clock, self.base_url, database)
        self.limiter = Limiter(limits or RateLimits())
        self.searcher = Searcher(self.store)
        self.chaos = Chaos(faults or Faults(), self.store.now())
        self.sleep = sleep
        self.requests: list[tuple[str, str]] = []
        self._faults: list[tuple[int, int | None]] = []
        self._lose_next_write = False
        if self.store.is_new:
            with self.store.transaction():
                self._new_account()
        self.worker_id = self.store.get_meta("worker_id") or 0
        self.agent_id = self.store.get_meta("agent_id") or 0
        self.store.worker_id = self.worker_id
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = self._routes()

    def _new_account(self) -> None:
        """What a new Zendesk account has: the worker's admin user, an agent, the default
        statuses and system fields, and the trigger that e-mails public comments."""
        worker_id = self._new_user("Worker de cancelamento", "worker@empresa.example", "admin")
        self.store.set_meta("worker_id", worker_id)
        self.store.worker_id = worker_id
        self.store.set_meta(
            "agent_id", self._new_user("Agente Paula", "paula@empresa.example", "agent")
        )
        for label, category in zip(
            ("New", "Open", "Pending", "On-hold", "Solved"), CATEGORIES, strict=True
        ):
            catalog.create_custom_status(
                self.store, {"agent_label": label, "status_category": category}, default=True
            )
        titles = ("Subject", "Description", "Status", "Ticket status", "Type", "Priority")
        for kind, title in zip(SYSTEM_FIELD_TYPES, (*titles, "Group", "Assignee"), strict=True):
            catalog.add_ticket_field(
                self.store, TicketField(0, kind, title, True, self.store.now())
            )
        catalog.seed_notification_trigger(self.store)

    def close(self) -> None:
        self.store.close()

    @property
    def outbox(self) -> list[Email]:
        """The e-mails sent: the worker's public comments, as the notification trigger sends
        them (to the requester, CC'd to the ticket's CCs)."""
        return self.store.outbox

    def now(self) -> datetime:
        return self.store.now()

    # --- seeding ----------------------------------------------------------------------------

    @_atomic
    def add_organization(self, name: str, fields: Mapping[str, str | None] = {}) -> int:
        now = self.now()
        organization = Organization(next(self.store.organization_ids), name, now, now, dict(fields))
        self.store.save(organization)
        return organization.id

    @_atomic
    def add_user(
        self,
        name: str,
        email: str,
        *,
        role: str = "end-user",
        organization_ids: Sequence[int] = (),
        user_fields: Mapping[str, bool | str | None] = {},
    ) -> int:
        if role not in ("end-user", "agent", "admin"):
            raise ValueError(f"unknown role {role}")
        if self.store.user_by_email(email) is not None:
            raise ValueError(f"a user with e-mail {email} exists")
        unknown = [o for o in organization_ids if o not in self.store.organizations]
        if unknown:
            raise ValueError(f"unknown organizations {unknown}")
        user_id = self._new_user(name, email, role, dict(user_fields))
        for position, organization_id in enumerate(organization_ids):
            self.add_membership(user_id, organization_id, default=position == 0)
        return user_id

    @_atomic
    def add_membership(self, user_id: int, organization_id: int, *, default: bool = False) -> int:
        membership = Membership(
            next(self.store.membership_ids), user_id, organization_id, default, self.now()
        )
        self.store.save(membership)
        return membership.id

    @_atomic
    def add_ticket(
        self,
        requester_id: int,
        subject: str,
        description: str,
        *,
        tags: Sequence[str] = (),
        channel: str = "email",
        status: str = "new",
        custom_fields: Mapping[int, object] = {},
        created_at: datetime | None = None,
    ) -> int:
        requester = self._user(requester_id)
        if status not in STATUSES:
            raise ValueError(f"unknown status {status}")
        ticket = self._open_ticket(requester, subject, description, channel, created_at)
        ticket.tags = normalise_tags(list(tags))
        if custom_fields:
            raw = {"custom_fields": [{"id": k, "value": v} for k, v in custom_fields.items()]}
            try:
                plan = plan_update(self.store, ticket, raw, requester_id)
            except ApiError as error:
                raise ValueError(error.body) from None
            for field_id, value in plan.custom_fields.items():
                ticket.custom_fields[field_id] = value
                options = self.store.ticket_fields[field_id].options
                if value in {o.value for o in options} and value not in ticket.tags:
                    ticket.tags.append(str(value))
        ticket.status = status
        ticket.custom_status_id = self.store.default_status(status).id
        self.store.save(ticket)
        self._emit(ticket, channel, description)
        return ticket.id

    @_atomic
    def add_custom_status(
        self, label: str, category: str, *, default: bool = False, active: bool = True
    ) -> int:
        raw = {"agent_label": label, "status_category": category, "active": active}
        return self._seeded(
            lambda: catalog.create_custom_status(self.store, raw, default=default).id
        )

    @_atomic
    def add_ticket_field(
        self, title: str, type: str, options: Sequence[str | tuple[str, str]] = ()
    ) -> int:
        """`options` are names (their tag value derived) or (name, value) pairs."""
        pairs = [(o, _slug(o)) if isinstance(o, str) else o for o in options]
        raw = {
            "title": title,
            "type": type,
            "custom_field_options": [{"name": n, "value": v} for n, v in pairs],
        }
        return self._seeded(lambda: catalog.create_ticket_field(self.store, raw).id)

    @_atomic
    def add_user_field(self, key: str, type: str = "checkbox", title: str | None = None) -> int:
        raw = {"key": key, "type": type, "title": title or key}
        return self._seeded(lambda: int(catalog.create_custom_field(self.store, "user", raw)["id"]))

    @_atomic
    def add_organization_field(self, key: str, type: str = "text", title: str | None = None) -> int:
        raw = {"key": key, "type": type, "title": title or key}
        return self._seeded(
            lambda: int(catalog.create_custom_field(self.store, "organization", raw)["id"])
        )

    # --- what people do ---------------------------------------------------------------------

    @_atomic
    def customer_replies(
        self,
        ticket_id: int,
        body: str,
        *,
        author_id: int | None = None,
        flags: Sequence[int] = (),
        recovered: bool = False,
        public: bool = True,
    ) -> int:
        """The requester's e-mail (or `author_id`'s, a partner in copy) lands as a public
        comment and returns the ticket to the open category's default status. A reply to a
        closed ticket opens a follow-up ticket instead (closed tickets never reopen); returns
        the id of the ticket it landed on.

        `flags` are the comment flags Zendesk would set (14: possible spoofing, 21: From and
        Reply-to differ, ...), shown as documented: `metadata.flags`, `metadata.flags_options`
        with `trusted: false` per flag, and `metadata.trusted: false`. `recovered`: the e-mail
        was suspended (e.g. it failed SPF/DKIM/DMARC) and an agent recovered it, so its
        channel is `recovered_from_suspended_tickets`. `public=False`: Zendesk adds an unknown
        user's e-mail as a private comment (flag 2, or 17 for an end user's private comment)."""
        ticket = self._ticket(ticket_id)
        requester = self._user(ticket.requester_id if author_id is None else author_id)
        if ticket.status == "closed":
            follow_up = self._open_ticket(requester, f"Re: {ticket.subject}", body, "email")
            follow_up.via["source"] = {
                "from": {"ticket_id": ticket.id, "subject": ticket.subject},
                "to": {},
                "rel": "follow_up",
            }
            self.store.save(follow_up)
            self._emit(follow_up, "email", body)
            return follow_up.id
        raw: dict[str, Any] = {"comment": {"body": body, "public": public}}
        if ticket.status in ("pending", "hold", "solved"):
            raw["status"] = "open"
        marks: dict[str, Any] = {}
        if flags:
            marks = {
                "flags": list(flags),
                "flags_options": {str(code): {"trusted": False} for code in flags},
                "trusted": False,
            }
        channel = "recovered_from_suspended_tickets" if recovered else "email"
        self._update_as(ticket, raw, requester.id, channel, flags=marks)
        return ticket.id

    @_atomic
    def agent_comments(self, ticket_id: int, body: str, *, public: bool = False) -> None:
        raw = {"comment": {"body": body, "public": public}}
        self._update_as(self._ticket(ticket_id), raw, self.agent_id, "web")

    @_atomic
    def agent_updates(self, ticket_id: int, **changes: object) -> None:
        """Any change the API accepts (tags, status, custom_status_id, custom_fields,
        comment, ...), made by the agent; refused changes raise ValueError."""
        self._update_as(self._ticket(ticket_id), dict(changes), self.agent_id, "web")

    # --- reading state without HTTP (assertions) --------------------------------------------

    @_atomic
    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.store.ticket_json(self._ticket(ticket_id))

    @_atomic
    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        return [self.store.comment_json(c) for c in self._ticket(ticket_id).comments]

    def status_id(self, label: str) -> int:
        return next(s.id for s in self.store.custom_statuses.values() if s.agent_label == label)

    # --- fault injection --------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """The next `times` requests get `status` and are not applied (429s carry
        Retry-After, 1 s unless told)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults += [(status, retry_after)] * times

    def lose_next_write_response(self) -> None:
        """The next PUT/POST is applied, then its response is lost on the way back."""
        self._lose_next_write = True

    # --- HTTP -------------------------------------------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        """Faults from now on (a storm starts now); the random draws restart from its seed."""
        with self.store.lock:
            self.chaos = Chaos(faults, self.now())

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], Any]:
        """One request, under the account's lock and in one transaction. A slow answer sleeps
        after the lock is released; a lost one raises LostResponse once the write is kept."""
        with self.store.transaction():
            reply, lost, delay = self._handle(method.upper(), url, headers, body)
        if delay:
            self.sleep(delay)
        if lost:
            raise LostResponse(*reply)
        return reply

    def _handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[tuple[int, dict[str, str], Any], bool, float]:
        parts = urlsplit(url)
        self.requests.append((method, parts.path))
        now = self.now()
        delay = self.chaos.delay()
        if self._faults:
            return self._fault(*self._faults.pop(0)), False, delay
        refusal = self.chaos.refusal(now)
        if refusal is not None:
            return self._fault(*refusal), False, delay
        if not any(k.lower() == "authorization" and v for k, v in headers.items()):
            return self._reply(401, {"error": "Couldn't authenticate you"}), False, delay
        wait = self.limiter.admit(now, method, parts.path)
        if wait is not None:
            body_ = {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            }
            return self._reply(429, body_, {"Retry-After": str(wait)}), False, delay
        try:
            request = Request(method, parts.path, parse_qs(parts.query), _json(body))
            status, payload = self._route(request)
        except ApiError as error:
            status, payload = error.status, error.body
        reply = self._reply(status, payload)
        lost = method in ("PUT", "POST") and self._lose_next_write
        self._lose_next_write = self._lose_next_write and not lost
        return reply, lost or self.chaos.drops(method, status), delay

    def _reply(
        self,
        status: int,
        body: Any,
        extra: Mapping[str, str] = {},
    ) -> tuple[int, dict[str, str], Any]:
        return status, {**JSON_HEADERS, **self.limiter.headers(self.now()), **extra}, body

    def _fault(self, status: int, retry_after: int | None) -> tuple[int, dict[str, str], Any]:
        errors = {
            409: ("DatabaseConflict", "Database collision"),
            429: ("APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
            500: ("InternalError", "Something went wrong"),
            502: ("BadGateway", "Bad gateway"),
            503: ("ServiceUnavailable", "Service temporarily unavailable"),
            504: ("GatewayTimeout", "Gateway timeout"),
        }
        error, description = errors.get(status, ("InjectedFailure", "Injected failure"))
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return self._reply(status, {"error": error, "description": description}, extra)

    def _route(self, request: Request) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                params = match.groupdict()
                bound = Request(request.method, request.path, request.query, request.body, params)
                return handler(bound)
        raise ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"users/me", self._get_me),
            ("GET", r"users/(?P<id>\d+)", self._get_user),
            ("GET", r"users/(?P<id>\d+)/organization_memberships", self._get_memberships),
            ("GET", r"organizations/(?P<id>\d+)", self._get_organization),
            ("GET", r"organizations/(?P<id>\d+)/users", self._get_organization_users),
            ("GET", r"custom_statuses", self._get_custom_statuses),
            ("POST", r"custom_statuses", self._post_custom_status),
            ("GET", r"ticket_fields", self._get_ticket_fields),
            ("POST", r"ticket_fields", self._post_ticket_field),
            ("GET", r"user_fields", self._lister("user_fields", self.store.user_fields)),
            ("POST", r"user_fields", self._post_custom_field("user")),
            (
                "GET",
                r"organization_fields",
                self._lister("organization_fields", self.store.organization_fields),
            ),
            ("POST", r"organization_fields", self._post_custom_field("organization")),
            ("GET", r"macros", self._lister("macros", self.store.macros)),
            ("POST", r"macros", self._post_macro),
            ("GET", r"views", self._lister("views", self.store.views)),
            ("POST", r"views", self._post_view),
            ("GET", r"triggers", self._lister("triggers", self.store.triggers)),
            ("GET", r"triggers/active", self._get_active_triggers),
            ("POST", r"triggers", self._post_trigger),
            ("GET", r"incremental/tickets/cursor", self._get_incremental),
            ("GET", r"search/export", self._get_search_export),
            ("GET", r"search", self._get_search),
            ("POST", r"tickets", self._post_ticket),
            ("GET", r"tickets/(?P<id>\d+)", self._get_ticket),
            ("PUT", r"tickets/(?P<id>\d+)", self._put_ticket),
            ("GET", r"tickets/(?P<id>\d+)/comments", self._get_comments),
        ]
        # The Webhooks API is documented without the .json suffix, and only so.
        bare: list[tuple[str, str, Handler]] = [
            ("GET", r"webhooks", self._get_webhooks),
            ("POST", r"webhooks", self._post_webhook),
            ("GET", r"webhooks/(?P<id>[0-9A-Z]+)", self._get_webhook),
            ("GET", r"webhooks/(?P<id>[0-9A-Z]+)/signing_secret", self._get_signing_secret),
        ]
        return [(m, re.compile(rf"/api/v2/{p}\.json"), h) for m, p, h in table] + [
            (m, re.compile(rf"/api/v2/{p}"), h) for m, p, h in bare
        ]

    # --- users and organizations ------------------------------------------------------------

    def _get_me(self, request: Request) -> Reply:
        return 200, {"user": self.store.user_json(self._user(self.worker_id))}

    def _get_user(self, request: Request) -> Reply:
        user = self._found(self.store.users, request)
        out: dict[str, Any] = {"user": self.store.user_json(user)}
        if request.includes("organizations"):
            out["organizations"] = [
                self.store.organization_json(self.store.organizations[o])
                for o in self.store.organization_ids_of(user.id)
            ]
        return 200, out

    def _get_memberships(self, request: Request) -> Reply:
        user = self._found(self.store.users, request)
        mine = self.store.memberships_of(user.id)
        page, extra = paged(request, self.base_url, mine, lambda m: m.id)
        items = [self.store.membership_json(m) for m in page]
        return 200, {"organization_memberships": items, **extra}

    def _get_organization(self, request: Request) -> Reply:
        organization = self._found(self.store.organizations, request)
        return 200, {"organization": self.store.organization_json(organization)}

    def _get_organization_users(self, request: Request) -> Reply:
        organization = self._found(self.store.organizations, request)
        members = [self.store.users[i] for i in self.store.member_ids(organization.id)]
        page, extra = paged(request, self.base_url, members, lambda u: u.id)
        return 200, {"users": [self.store.user_json(u) for u in page], **extra}

    # --- account configuration --------------------------------------------------------------

    def _get_custom_statuses(self, request: Request) -> Reply:
        statuses = [self.store.custom_status_json(s) for s in self.store.custom_statuses.values()]
        return 200, {"custom_statuses": statuses}

    def _post_custom_status(self, request: Request) -> Reply:
        status = catalog.create_custom_status(self.store, request.object("custom_status"))
        return 201, {"custom_status": self.store.custom_status_json(status)}

    def _get_ticket_fields(self, request: Request) -> Reply:
        fields = [self.store.ticket_field_json(f) for f in self.store.ticket_fields.values()]
        return 200, {
            "ticket_fields": fields,
            "next_page": None,
            "previous_page": None,
            "count": len(fields),
        }

    def _post_ticket_field(self, request: Request) -> Reply:
        ticket_field = catalog.create_ticket_field(self.store, request.object("ticket_field"))
        return 201, {"ticket_field": self.store.ticket_field_json(ticket_field)}

    def _post_custom_field(self, kind: str) -> Handler:
        def handler(request: Request) -> Reply:
            record = catalog.create_custom_field(self.store, kind, request.object(f"{kind}_field"))
            return 201, {f"{kind}_field": record}

        return handler

    def _post_macro(self, request: Request) -> Reply:
        return 201, {"macro": catalog.create_macro(self.store, request.object("macro"))}

    def _post_view(self, request: Request) -> Reply:
        return 201, {"view": catalog.create_view(self.store, request.object("view"))}

    def _get_active_triggers(self, request: Request) -> Reply:
        active = [t for t in self.store.triggers if t.get("active")]
        page, extra = offset_page(request, self.base_url, active)
        return 200, {"triggers": page, **extra}

    def _post_trigger(self, request: Request) -> Reply:
        return 201, {"trigger": catalog.create_trigger(self.store, request.object("trigger"))}

    def _post_webhook(self, request: Request) -> Reply:
        return 201, {"webhook": catalog.create_webhook(self.store, request.object("webhook"))}

    def _get_webhooks(self, request: Request) -> Reply:
        """One page (an account has few): the cursor shape, with no next page."""
        hooks = [catalog.webhook_json(w) for w in self.store.webhooks]
        meta = {"has_more": False, "after_cursor": None, "before_cursor": None}
        return 200, {"webhooks": hooks, "meta": meta, "links": {"next": None, "prev": None}}

    def _webhook(self, request: Request) -> dict[str, Any]:
        found = next((w for w in self.store.webhooks if w["id"] == request.params["id"]), None)
        if found is None:
            raise not_found()
        return found

    def _get_webhook(self, request: Request) -> Reply:
        return 200, {"webhook": catalog.webhook_json(self._webhook(request))}

    def _get_signing_secret(self, request: Request) -> Reply:
        secret = self._webhook(request)["_secret"]
        return 200, {"signing_secret": {"algorithm": "SHA256", "secret": secret}}

    def _lister(self, name: str, records: list[dict[str, Any]]) -> Handler:
        def handler(request: Request) -> Reply:
            page, extra = paged(request, self.base_url, records, lambda r: int(r["id"]))
            return 200, {name: page, **extra}

        return handler

    # --- tickets ----------------------------------------------------------------------------

    def _get_ticket(self, request: Request) -> Reply:
        return 200, {"ticket": self.store.ticket_json(self._found(self.store.tickets, request))}

    def _get_comments(self, request: Request) -> Reply:
        ticket = self._found(self.store.tickets, request)
        page, extra = paged(request, self.base_url, ticket.comments, lambda c: c.id)
        out: dict[str, Any] = {"comments": [self.store.comment_json(c) for c in page]}
        if request.includes("users"):
            authors = dict.fromkeys(c.author_id for c in page)
            out["users"] = [self._user_summary(self.store.users[a]) for a in authors]
        return 200, {**out, **extra}

    def _user_summary(self, user: User) -> dict[str, Any]:
        full = self.store.user_json(user)
        keep = ("id", "url", "name", "email", "role", "organization_id", "user_fields", "active")
        return {k: full[k] for k in keep}

    def _post_ticket(self, request: Request) -> Reply:
        """Create Ticket (docs/zendesk.md, fact 14): the first comment is the description, the
        requester an existing user's id or `{"name", "email"}` (a new address becomes an
        end-user). Stricter than Zendesk, which defaults the requester to the caller and can take
        a ticket with no comment in some set-ups: both are required here."""
        raw = request.object("ticket")
        comment = raw.get("comment")
        text = comment.get("body") if isinstance(comment, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise invalid("Description: cannot be blank", "description")
        tags = raw.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise invalid("Tags: must be a list of strings", "tags")
        subject = raw.get("subject")
        if subject is not None and not isinstance(subject, str):
            raise invalid("Subject: must be a string", "subject")
        requester = self._requester_of(raw)  # last: it may create the user
        ticket = self._open_ticket(requester, subject or "", text, "api")
        ticket.tags = normalise_tags(tags)
        self.store.save(ticket)
        return 201, {"ticket": self.store.ticket_json(ticket)}

    def _requester_of(self, raw: dict[str, Any]) -> User:
        if "requester_id" in raw:
            found = self.store.users.get(raw["requester_id"])
            if not isinstance(raw["requester_id"], int) or found is None:
                raise invalid("Requester: not found", "requester_id")
            return found
        wanted = raw.get("requester")
        email = wanted.get("email") if isinstance(wanted, dict) else None
        if not isinstance(email, str) or "@" not in email:
            raise invalid("Requester: give requester_id or requester with an email", "requester")
        known = self.store.user_by_email(email)
        if known is not None:
            return known
        name = wanted.get("name") if isinstance(wanted, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise invalid("Requester: a new requester needs a name", "requester")
        return self._user(self._new_user(name, email, "end-user"))

    def _put_ticket(self, request: Request) -> Reply:
        ticket = self._found(self.store.tickets, request)
        raw = request.object("ticket")
        tag_edits_refused(raw)
        plan = plan_update(self.store, ticket, raw, self.worker_id)
        audit = apply_update(self.store, ticket, plan, self.worker_id, "api")
        self._emit(ticket, "api", plan.comment.body if plan.comment is not None else "")
        return 200, {"ticket": self.store.ticket_json(ticket), "audit": audit}

    def _get_incremental(self, request: Request) -> Reply:
        """Tickets by (updated_at, id) after a position, leaving out the last minute: Zendesk
        does, so a client must not assume it sees a change the moment it happens."""
        now = self.now()
        horizon = now - EXPORT_HORIZON
        cursor, start = request.arg("cursor"), request.arg("start_time")
        if cursor:
            updated, after_id = decode_cursor(cursor, 2)
        elif start is not None:
            try:
                updated, after_id = int(start), 0
            except ValueError:
                raise bad_request("start_time must be a unix timestamp") from None
            if updated > horizon.timestamp():
                raise ApiError(
                    422,
                    {
                        "error": "InvalidValue",
                        "description": "Too recent start_time. Use a start_time older "
                        "than 1 minute",
                    },
                )
        else:
            raise bad_request("start_time or cursor is required")
        per_page = request.int_arg("per_page", 1000, 1000)
        position = (updated, after_id)
        eligible = self.store.tickets_changed(position, horizon, per_page + 1)
        page = eligible[:per_page]
        after = (
            encode_cursor(_unix(page[-1].updated_at), page[-1].id)
            if page
            else encode_cursor(*position)
        )
        before = encode_cursor(*position)
        sized = [("per_page", str(per_page))] if request.arg("per_page") else []
        path = request.path
        return 200, {
            "tickets": [self.store.ticket_json(t) for t in page],
            "after_cursor": after,
            "after_url": page_url(self.base_url, path, [("cursor", after), *sized]),
            "before_cursor": before,
            "before_url": page_url(self.base_url, path, [("cursor", before), *sized]),
            "end_of_stream": len(eligible) <= per_page,
        }

    # --- search -----------------------------------------------------------------------------

    def _result_json(self, kind: str, record: Any) -> dict[str, Any]:
        render: dict[str, Callable[[Any], dict[str, Any]]] = {
            "ticket": self.store.ticket_json,
            "user": self.store.user_json,
            "organization": self.store.organization_json,
        }
        return {**render[kind](record), "result_type": kind}

    def _get_search(self, request: Request) -> Reply:
        query = request.arg("query")
        if not query:
            raise bad_request("query is required", error="InvalidSearch")
        results = self.searcher.run(query)
        sort_by = request.arg("sort_by")
        if sort_by in ("created_at", "updated_at"):
            results.sort(
                key=lambda r: getattr(r[1], sort_by, datetime.min),
                reverse=request.arg("sort_order", "desc") == "desc",
            )
        page, extra = offset_page(request, self.base_url, results, limit=1000)
        return 200, {
            "results": [self._result_json(k, r) for k, r in page],
            "facets": None,
            **extra,
        }

    def _get_search_export(self, request: Request) -> Reply:
        query, kind = request.arg("query"), request.arg("filter[type]")
        if not query:
            raise bad_request("query is required", error="InvalidSearch")
        if kind not in ("ticket", "user", "organization", "group"):
            raise bad_request("filter[type] is required", error="InvalidSearch")
        results = self.searcher.run(query, {kind})
        page, extra = cursor_page(
            request, self.base_url, results, lambda r: int(r[1].id), max_size=1000
        )
        return 200, {
            "results": [self._result_json(k, r) for k, r in page],
            "facets": None,
            **extra,
        }

    # --- helpers ----------------------------------------------------------------------------

    def _new_user(
        self, name: str, email: str, role: str, user_fields: dict[str, Any] | None = None
    ) -> int:
        now = self.now()
        user = User(next(self.store.user_ids), name, email, role, now, now, user_fields or {})
        self.store.save(user)
        return user.id

    def _open_ticket(
        self,
        requester: User,
        subject: str,
        description: str,
        channel: str,
        created: datetime | None = None,
    ) -> Ticket:
        at = self.now() if created is None else utc(created)
        source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
        if channel == "email":
            source["from"] = {"address": requester.email, "name": requester.name}
            host = urlsplit(self.base_url).hostname or "example.zendesk.com"
            source["to"] = {"address": f"support@{host}", "name": "Suporte"}
        via = {"channel": channel, "source": source}
        new = self.store.default_status("new")
        ticket = Ticket(
            next(self.store.ticket_ids),
            subject,
            requester.id,
            requester.id,
            self.store.default_organization_id(requester.id),
            "new",
            new.id,
            via,
            at,
            at,
        )
        comment = Comment(
            next(self.store.comment_ids),
            requester.id,
            description,
            html_from_text(description),
            True,
            at,
            dict(via),
        )
        ticket.comments.append(comment)
        self.store.save(ticket)
        return ticket

    def _update_as(
        self,
        ticket: Ticket,
        raw: dict[str, Any],
        author_id: int,
        channel: str,
        *,
        flags: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(raw.get("comment"), dict):
            raw["comment"] = {**raw["comment"], "author_id": author_id}
        try:
            plan = plan_update(self.store, ticket, raw, author_id)
        except ApiError as error:
            raise ValueError(error.body) from None
        apply_update(self.store, ticket, plan, author_id, channel, flags=flags)
        self._emit(ticket, channel, plan.comment.body if plan.comment is not None else "")

    def _emit(self, ticket: Ticket, channel: str, comment: str) -> None:
        if self.emitter is not None:
            self.emitter.ticket_changed(
                self.store.webhooks,
                self.store.triggers,
                self.store.ticket_json(ticket),
                channel,
                comment,
            )

    def _seeded(self, create: Callable[[], int]) -> int:
        try:
            return create()
        except ApiError as error:
            raise ValueError(error.body) from None

    def _ticket(self, ticket_id: int) -> Ticket:
        if ticket_id not in self.store.tickets:
            raise KeyError(f"no ticket {ticket_id}")
        return self.store.tickets[ticket_id]

    def _user(self, user_id: int) -> User:
        if user_id not in self.store.users:
            raise KeyError(f"no user {user_id}")
        return self.store.users[user_id]

    @staticmethod
    def _found(records: Mapping[int, R], request: Request) -> R:
        record = records.get(int(request.params["id"]))
        if record is None:
            raise not_found()
        return record


def _json(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise bad_request("Request body is not valid JSON", error="InvalidJSON") from None


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _slug(name: str) -> str:
    """A dropdown option's tag from its name, as Zendesk's admin UI proposes it."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")
