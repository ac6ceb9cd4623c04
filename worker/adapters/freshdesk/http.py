"""Freshdesk on the shared transport (`worker.adapters.http`): its API key, errors, limit headers
and `link`-header paging. GETs and PUTs (which set values, so sending one twice changes nothing)
are retried on timeouts, resets, 5xx and 429; a POST (a reply, a note: sending one twice is a
second e-mail) only when it surely did not arrive (a 429, a refused connection). When a POST's
fate is unknown the caller's journal finds out from the ticket itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.adapters.http import (
    Answer,
    ApiError,
    Endpoint,
    Json,
    JsonClient,
    Params,
    Vendor,
    as_object,
    bare_session,
    is_base_url,
)
from worker.adapters.pacing import RequestStats, Window, endpoint_of
from worker.logs import redact
from worker.ports import TicketGone


class FreshdeskError(ApiError):
    pass


class CredentialsMissing(FreshdeskError):
    """The environment does not say which account or how to log in."""


class Unauthorized(FreshdeskError):
    """401/403: the key is wrong, or its agent may not do this (an admin-only endpoint)."""


class NotFound(FreshdeskError):
    pass


class TicketMissing(NotFound, TicketGone):
    """A ticket gone for the worker: its own 404 (deleted for good, or never there), or shown
    with `deleted` (in the trash) or `spam` set, where no step of the procedure belongs."""


class Invalid(FreshdeskError):
    """400: Freshdesk refused the request's content (an unknown field, a wrong value)."""


class Conflict(FreshdeskError):
    """409: "Inconsistent/Conflicting State" (e.g. a duplicate unique value)."""


class RateLimited(FreshdeskError):
    """Freshdesk asked to wait longer than the configured bound; the next poll resumes."""


class Unreachable(FreshdeskError):
    """Timeouts, refused connections or 5xx after every attempt allowed."""


@dataclass(frozen=True)
class Credentials(Endpoint):
    api_key: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        url = env.get("FRESHDESK_URL", "").strip().rstrip("/")
        domain = env.get("FRESHDESK_DOMAIN", "").strip().removeprefix("https://").rstrip("/")
        if not url:
            if not domain:
                raise CredentialsMissing(
                    "set FRESHDESK_DOMAIN (the 'acme' of acme.freshdesk.com), or FRESHDESK_URL"
                )
            host = domain if "." in domain else f"{domain}.freshdesk.com"
            url = f"https://{host}"
        if not is_base_url(url):
            raise CredentialsMissing(
                f"FRESHDESK_URL must look like https://host[:port], not {url!r}"
            )
        key = env.get("FRESHDESK_API_KEY", "").strip()
        if not key:
            raise CredentialsMissing(
                "set FRESHDESK_API_KEY (the worker agent's key: Profile settings > View API key)"
            )
        return cls(url, key)

    def __repr__(self) -> str:  # never print the key, even by accident
        return f"Credentials(base_url={redact(self.base_url)!r}, api_key=<hidden>)"


def new_session(credentials: Credentials) -> requests.Session:
    """HTTP Basic with the key as user name and any password ("X" in Freshdesk's examples)."""
    session = bare_session(credentials.base_url)
    session.auth = (credentials.api_key, "X")
    return session


# Endpoint families with a cap of their own (before the share), by the configuration key.
_CAPPED = {
    "GET /tickets": "tickets_list_per_minute",
    "PUT /tickets/{id}": "ticket_updates_per_minute",
    "GET /contacts": "contacts_list_per_minute",
}


@dataclass(frozen=True)
class Page:
    items: list[Json]
    next_url: str | None  # from the `link` header; absent on the last page


def describe(body: Any) -> str:
    """Freshdesk's error in one line: `description`, then each `errors[]` item as
    `field: message (code)`; a bare `{code, message}` (401/403) as `message (code)`."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if body.get("description"):
        parts.append(str(body["description"]))
    if body.get("message"):
        code = f" ({body['code']})" if body.get("code") else ""
        parts.append(f"{body['message']}{code}")
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        field = f"{error['field']}: " if error.get("field") else ""
        code = f" ({error['code']})" if error.get("code") else ""
        parts.append(f"{field}{error.get('message') or ''}{code}")
    return "; ".join(part for part in parts if part)


class FreshdeskClient(JsonClient[Credentials, FreshdeskSettings]):
    vendor = Vendor(
        "Freshdesk",
        error=FreshdeskError,
        unreachable=Unreachable,
        rate_limited=RateLimited,
        refusals={401: Unauthorized, 403: Unauthorized, 404: NotFound, 400: Invalid, 409: Conflict},
        describe=describe,
        endpoint_of=endpoint_of,
    )

    def _new_session(self, credentials: Credentials) -> requests.Session:
        return new_session(credentials)

    def _caps(self, settings: FreshdeskSettings) -> Mapping[str, float]:
        return {family: getattr(settings, key) for family, key in _CAPPED.items()}

    def get(self, path: str, params: Params | None = None) -> Any:
        return self.request("GET", path, params=params).body

    def post(self, path: str, body: Json) -> Json:
        """Not retried unless it surely never arrived: a repeat could be a second e-mail."""
        return as_object(self.request("POST", path, body=body).body)

    def put(self, path: str, body: Json) -> Json:
        """Retried like a read: a PUT sets values, so applying it twice changes nothing."""
        return as_object(self.request("PUT", path, body=body).body)

    def page(self, path: str, params: Params | None = None) -> Page:
        return _page(self.request("GET", path, params=params))

    def pages(self, path: str, params: Params | None = None) -> Iterator[list[Json]]:
        """Every page of a list, following the `link` header until it is absent."""
        for answer in self.answers(path, params):
            yield _page(answer).items

    def each(self, path: str, params: Params | None = None) -> Iterator[Json]:
        for items in self.pages(path, params):
            yield from items

    def request(
        self, method: str, path: str, *, params: Params | None = None, body: Json | None = None
    ) -> Answer:
        return self.send(method, path, params=params, body=body, repeatable=method != "POST")

    def _observe_limits(self, response: requests.Response, family: str) -> None:
        """Embeds cost extra credits (X-RateLimit-Used-CurrentRequest): the account window is
        charged for them. When the remaining budget is spent (by anyone), wait a minute."""
        for header in ("Total", "Remaining", "Used-CurrentRequest"):
            value = response.headers.get(f"X-RateLimit-{header}", "").strip()
            if value.isdigit():
                self.last_limits[header] = int(value)
        used = response.headers.get("X-RateLimit-Used-CurrentRequest", "").strip()
        if used.isdigit():
            self.account_window.sent.extend([self.account_window.clock()] * (int(used) - 1))
        remaining = response.headers.get("X-RateLimit-Remaining", "").strip()
        if remaining.isdigit() and int(remaining) <= 0:
            self.account_window.block_for(60.0)

    def _next_link(self, response: requests.Response, body: Any) -> str | None:
        link = response.links.get("next") if response.headers.get("link") else None
        return str(link["url"]) if link and link.get("url") else None


def _page(answer: Answer) -> Page:
    items = answer.body if isinstance(answer.body, list) else []
    return Page([i for i in items if isinstance(i, dict)], answer.next_url)


def page_of(url: str | None) -> int | None:
    """The `page` a next link points to (Freshdesk pages by number)."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else None


# Every public name, those re-exported from the shared modules included (the adapter, setup
# and the tests import them from here).
__all__ = [
    "Conflict",
    "Credentials",
    "CredentialsMissing",
    "FreshdeskClient",
    "FreshdeskError",
    "Invalid",
    "Json",
    "NotFound",
    "Page",
    "Params",
    "RateLimited",
    "RequestStats",
    "TicketMissing",
    "Unauthorized",
    "Unreachable",
    "Window",
    "describe",
    "endpoint_of",
    "new_session",
    "page_of",
]
