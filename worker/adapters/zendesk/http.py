"""Zendesk on the shared transport (`worker.adapters.http`): its credentials, errors, limit
headers and paging. GETs are sent again after a transient failure, and so are writes guarded by
`safe_update` (a second copy gets a 409); any other write only when it surely did not arrive.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from worker.adapters import pacing
from worker.adapters.http import (
    ApiError,
    Endpoint,
    Json,
    JsonClient,
    Vendor,
    as_object,
    bare_session,
    is_base_url,
)
from worker.adapters.pacing import RequestStats, Window
from worker.config import Zendesk as ZendeskSettings
from worker.logs import redact
from worker.ports import CredentialsRejected, StaleTicket, TicketGone


class ZendeskError(ApiError):
    pass


class CredentialsMissing(ZendeskError):
    """The environment does not say which account or how to log in."""


class Unauthorized(ZendeskError, CredentialsRejected):
    """401/403: the token is wrong, revoked, or its user may not do this."""


class NotFound(ZendeskError):
    pass


class TicketMissing(NotFound, TicketGone):
    """A ticket's own 404: deleted (spam is deleted too), or never there."""


class BadRequest(ZendeskError):
    """400: a parameter Zendesk does not accept (an expired cursor, a malformed query)."""


class Invalid(ZendeskError):
    """422: Zendesk refused the content (an unknown field, status or value)."""


class RateLimited(ZendeskError):
    """Zendesk asked to wait longer than the configured bound; the next poll resumes."""


class Unreachable(ZendeskError):
    """Timeouts, refused connections or 5xx after every attempt."""


@dataclass(frozen=True)
class Credentials(Endpoint):
    email: str | None
    api_token: str | None
    oauth_token: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        url = env.get("ZENDESK_URL", "").strip().rstrip("/")
        subdomain = env.get("ZENDESK_SUBDOMAIN", "").strip()
        if not url:
            if not subdomain:
                raise CredentialsMissing(
                    "set ZENDESK_SUBDOMAIN (the 'acme' of acme.zendesk.com), or ZENDESK_URL"
                )
            url = f"https://{subdomain}.zendesk.com"
        if not is_base_url(url):
            raise CredentialsMissing(f"ZENDESK_URL must look like https://host[:port], not {url!r}")
        oauth = env.get("ZENDESK_OAUTH_TOKEN", "").strip() or None
        token = env.get("ZENDESK_API_TOKEN", "").strip() or None
        email = env.get("ZENDESK_EMAIL", "").strip() or None
        if oauth is None and (token is None or email is None):
            raise CredentialsMissing(
                "set ZENDESK_EMAIL and ZENDESK_API_TOKEN (Admin Center > Apps and integrations > "
                "Zendesk API), or ZENDESK_OAUTH_TOKEN"
            )
        return cls(url, email, token, oauth)

    def __repr__(self) -> str:  # never print a token, even by accident
        return f"Credentials(base_url={redact(self.base_url)!r}, email=<set>, token=<hidden>)"


def new_session(credentials: Credentials) -> requests.Session:
    session = bare_session(credentials.base_url)
    if credentials.oauth_token is not None:
        session.headers["Authorization"] = f"Bearer {credentials.oauth_token}"
    else:
        assert credentials.email is not None and credentials.api_token is not None
        session.auth = (f"{credentials.email}/token", credentials.api_token)
    return session


# Endpoint families with a limit of their own (requests per minute, before the share).
INCREMENTAL_PER_MINUTE = 10
SEARCH_EXPORT_PER_MINUTE = 100


def endpoint_of(method: str, path: str) -> str:
    """A family name for pacing and counting: ids and `.json` are dropped."""
    return pacing.endpoint_of(method, path, ".json")


def _describe(body: Any) -> str:
    """Zendesk's error in one line: `error`, `description` and each field's detail."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    parts: list[str] = []
    if isinstance(error, dict):  # some endpoints nest it: {"error": {"title", "message"}}
        parts.append(str(error.get("title") or error.get("message") or ""))
    elif error:
        parts.append(str(error))
    if body.get("description"):
        parts.append(str(body["description"]))
    details = body.get("details")
    if isinstance(details, dict):
        for name, problems in details.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                text = problem.get("description") if isinstance(problem, dict) else problem
                parts.append(f"{name}: {text}")
    return "; ".join(part for part in parts if part)


def _stale(message: str, status: int) -> StaleTicket:
    """A 409: `safe_update` saw another write since our read; the engine re-reads."""
    return StaleTicket(message)


class ZendeskClient(JsonClient[Credentials, ZendeskSettings]):
    vendor = Vendor(
        "Zendesk",
        error=ZendeskError,
        unreachable=Unreachable,
        rate_limited=RateLimited,
        refusals={
            409: _stale,
            401: Unauthorized,
            403: Unauthorized,
            404: NotFound,
            422: Invalid,
            400: BadRequest,
        },
        describe=_describe,
        endpoint_of=endpoint_of,
    )

    def _new_session(self, credentials: Credentials) -> requests.Session:
        return new_session(credentials)

    def _caps(self, settings: ZendeskSettings) -> Mapping[str, float]:
        return {
            "PUT /tickets/{id}": settings.ticket_updates_per_minute,
            "GET /incremental/tickets/cursor": INCREMENTAL_PER_MINUTE,
            "GET /search/export": SEARCH_EXPORT_PER_MINUTE,
        }

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Json:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Json) -> Json:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Json, *, guarded: bool = False) -> Json:
        """`guarded`: the body carries `safe_update`, so re-sending it after a lost response
        cannot apply it twice (the second gets a 409)."""
        return self.request("PUT", path, body=body, guarded=guarded)

    def pages(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Json]:
        """Every page of a list, following the server's next link (cursor or offset style)."""
        for answer in self.answers(path, params):
            yield as_object(answer.body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Json | None = None,
        guarded: bool = False,
    ) -> Json:
        """A GET or a `guarded` write is sent again after a transient failure."""
        answer = self.send(
            method, path, params=params, body=body, repeatable=method == "GET" or guarded
        )
        return as_object(answer.body)

    def _observe_limits(self, response: requests.Response, family: str) -> None:
        """When the account's remaining budget is spent (by anyone), wait for the reset."""
        remaining = response.headers.get("X-Rate-Limit-Remaining") or response.headers.get(
            "ratelimit-remaining"
        )
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0:
            reset = response.headers.get("ratelimit-reset", "")
            self.account_window.block_for(float(reset) if reset.isdigit() else 60.0)

    def _next_link(self, response: requests.Response, body: Any) -> str | None:
        """Cursor pages say `meta.has_more` and `links.next`; offset pages `next_page`."""
        page = as_object(body)
        links = page.get("links")
        meta = page.get("meta")
        if isinstance(meta, dict) and "has_more" in meta:
            if meta.get("has_more") and isinstance(links, dict) and links.get("next"):
                return str(links["next"])
            return None
        next_page = page.get("next_page")
        return str(next_page) if next_page else None


# Every public name, those re-exported from the shared modules included (the bench, the
# tests and the other adapter modules import them from here).
__all__ = [
    "INCREMENTAL_PER_MINUTE",
    "SEARCH_EXPORT_PER_MINUTE",
    "BadRequest",
    "Credentials",
    "CredentialsMissing",
    "Invalid",
    "Json",
    "NotFound",
    "RateLimited",
    "RequestStats",
    "TicketMissing",
    "Unauthorized",
    "Unreachable",
    "Window",
    "ZendeskClient",
    "ZendeskError",
    "endpoint_of",
    "new_session",
]
