"""The one road to Freshdesk: base URL, API key, pacing, retries and errors, in one place.

One retry layer decides (this one, with tenacity): the session has no urllib3 retries, so a
write is never re-sent behind our back. GETs and PUTs (which set values, so sending one twice
changes nothing) are retried on timeouts, resets, 5xx and 429; a POST (a reply, a note: sending
one twice is a second e-mail) only when it surely did not arrive (a 429, a refused connection).
When a POST's fate is unknown the caller's journal finds out from the ticket itself.
Messages never carry the API key; Freshdesk's JSON errors become one readable line.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.adapters.zendesk.http import RequestStats, Window
from worker.ports import HelpdeskError

Json = dict[str, Any]
Params = Mapping[str, str | int]


class FreshdeskError(HelpdeskError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CredentialsMissing(FreshdeskError):
    """The environment does not say which account or how to log in."""


class Unauthorized(FreshdeskError):
    """401/403: the key is wrong, or its agent may not do this (an admin-only endpoint)."""


class NotFound(FreshdeskError):
    pass


class Invalid(FreshdeskError):
    """400: Freshdesk refused the request's content (an unknown field, a wrong value)."""


class Conflict(FreshdeskError):
    """409: "Inconsistent/Conflicting State" (e.g. a duplicate unique value)."""


class RateLimited(FreshdeskError):
    """Freshdesk asked to wait longer than the configured bound; the next poll resumes."""


class Unreachable(FreshdeskError):
    """Timeouts, refused connections or 5xx after every attempt allowed."""


class _Again(Exception):
    """A transient failure: tenacity tries again, and `final` is raised when it stops."""

    def __init__(self, final: FreshdeskError, *, paced: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.paced = paced


@dataclass(frozen=True)
class Credentials:
    base_url: str
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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CredentialsMissing(
                f"FRESHDESK_URL must look like https://host[:port], not {url!r}"
            )
        key = env.get("FRESHDESK_API_KEY", "").strip()
        if not key:
            raise CredentialsMissing(
                "set FRESHDESK_API_KEY (the worker agent's key: Profile settings > View API key)"
            )
        return cls(url, key)

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in ("localhost", "::1") or host.startswith("127.")

    def __repr__(self) -> str:  # never print the key, even by accident
        return f"Credentials(base_url={self.base_url!r}, api_key=<hidden>)"


def new_session(credentials: Credentials) -> requests.Session:
    """HTTP Basic with the key as user name and any password ("X" in Freshdesk's examples)."""
    session = requests.Session()
    no_retries = HTTPAdapter(max_retries=0)
    session.mount("https://", no_retries)
    session.mount("http://", no_retries)
    session.auth = (credentials.api_key, "X")
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "cancelamento-worker"
    return session


# Endpoint families with a cap of their own (before the share), by the configuration key.
_CAPPED = {
    "GET /tickets": "tickets_list_per_minute",
    "PUT /tickets/{id}": "ticket_updates_per_minute",
    "GET /contacts": "contacts_list_per_minute",
}


def endpoint_of(method: str, path: str) -> str:
    """A family name for pacing and counting: ids are dropped, so all tickets share one."""
    parts = [
        "{id}" if part.isdigit() else part
        for part in path.split("/")
        if part and part not in ("api", "v2")
    ]
    return f"{method} /" + "/".join(parts)


@dataclass(frozen=True)
class Page:
    items: list[Json]
    next_url: str | None  # from the `link` header; absent on the last page


class FreshdeskClient:
    def __init__(
        self,
        credentials: Credentials,
        settings: FreshdeskSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.base_url = credentials.base_url
        self.settings = settings
        self.session = session or new_session(credentials)
        self.sleep = sleep
        self.jitter = jitter
        self.stats = RequestStats()
        share = settings.share
        self.account_window = Window(settings.requests_per_minute * share, clock, sleep)
        self.windows = {
            family: Window(getattr(settings, key) * share, clock, sleep)
            for family, key in _CAPPED.items()
        }
        self.last_limits: dict[str, int] = {}  # the X-RateLimit-* headers last seen

    # --- the verbs -------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None) -> Any:
        return self.request("GET", path, params=params).body

    def post(self, path: str, body: Json) -> Json:
        """Not retried unless it surely never arrived: a repeat could be a second e-mail."""
        return _object(self.request("POST", path, body=body).body)

    def put(self, path: str, body: Json) -> Json:
        """Retried like a read: a PUT sets values, so applying it twice changes nothing."""
        return _object(self.request("PUT", path, body=body).body)

    def page(self, path: str, params: Params | None = None) -> Page:
        answer = self.request("GET", path, params=params)
        items = answer.body if isinstance(answer.body, list) else []
        return Page([i for i in items if isinstance(i, dict)], answer.next_url)

    def pages(self, path: str, params: Params | None = None) -> Iterator[list[Json]]:
        """Every page of a list, following the `link` header until it is absent."""
        page = self.page(path, params)
        while True:
            yield page.items
            if page.next_url is None:
                return
            page = self.page(page.next_url)

    def each(self, path: str, params: Params | None = None) -> Iterator[Json]:
        for items in self.pages(path, params):
            yield from items

    # --- one request, paced and retried -------------------------------------------------------

    def request(
        self, method: str, path: str, *, params: Params | None = None, body: Json | None = None
    ) -> _Answer:
        url = self._url(path)
        family = endpoint_of(method, urlsplit(url).path)
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            retry=retry_if_exception_type(_Again),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, family, params, body)
        except _Again as failure:
            raise failure.final from None

    def _attempt(
        self, method: str, url: str, family: str, params: Params | None, body: Json | None
    ) -> _Answer:
        self._pace(family)
        self.stats.requests += 1
        self.stats.writes += method != "GET"
        self.stats.by_endpoint[family] = self.stats.by_endpoint.get(family, 0) + 1
        timeout = self.settings.timeout_seconds
        repeatable = method != "POST"
        try:
            response = self.session.request(
                method, url, params=params, json=body, timeout=(min(10.0, timeout), timeout)
            )
        except requests.ConnectionError as problem:
            final = Unreachable(f"{family}: cannot reach {self.base_url} ({_kind(problem)})")
            never_sent = isinstance(problem, requests.ConnectTimeout) or not _maybe_sent(problem)
            if repeatable or never_sent:
                raise _Again(final) from None
            raise final from None
        except requests.Timeout as problem:
            final = Unreachable(
                f"{family}: no answer from {self.base_url} in {timeout:.0f} s ({_kind(problem)})"
            )
            if repeatable:
                raise _Again(final) from None
            raise final from None
        self._observe_limits(response)
        status = response.status_code
        if status == 429:  # refused before doing anything: safe to send again, POST included
            self.stats.throttled += 1
            wait = _retry_after(response)
            limited = RateLimited(
                f"{family}: Freshdesk asks to wait {wait:.0f} s (rate limit); the next poll"
                " resumes",
                429,
            )
            if wait > self.settings.max_retry_after_seconds:
                raise limited
            self._block(family, wait)
            raise _Again(limited, paced=True)
        if status >= 500:
            final = Unreachable(f"{family}: Freshdesk answered {status}", status)
            if repeatable:
                raise _Again(final)
            raise final
        return _Answer(_checked(response, family), _next_link(response))

    def _wait(self, state: RetryCallState) -> float:
        """Exponential with full jitter (up to 1 s, 2 s, 4 s ... 30 s); none after a 429,
        whose Retry-After the pacing window already honours."""
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _Again) and failure.paced:
            return 0.0
        return self.jitter(0, min(30.0, 2.0 ** (state.attempt_number - 1)))

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base_url + "/"):
                raise FreshdeskError(
                    f"refusing to follow a link outside {self.base_url}: {urlsplit(path).netloc}"
                )
            return path
        return self.base_url + path

    def _pace(self, family: str) -> None:
        self.account_window.acquire()
        window = self.windows.get(family)
        if window is not None:
            window.acquire()

    def _block(self, family: str, seconds: float) -> None:
        window = self.windows.get(family)
        (window or self.account_window).block_for(seconds)

    def _observe_limits(self, response: requests.Response) -> None:
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


@dataclass(frozen=True)
class _Answer:
    body: Any
    next_url: str | None


def _object(body: Any) -> Json:
    return body if isinstance(body, dict) else {"value": body}


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next") if response.headers.get("link") else None
    return str(link["url"]) if link and link.get("url") else None


def page_of(url: str | None) -> int | None:
    """The `page` a next link points to (Freshdesk pages by number)."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else None


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return 60.0


def _maybe_sent(problem: requests.ConnectionError) -> bool:
    """A connection refused or a DNS failure happened before anything was sent."""
    text = str(problem).lower()
    return not any(
        sign in text
        for sign in ("connection refused", "name or service not known", "failed to resolve")
    )


def _kind(problem: Exception) -> str:
    """The failure's kind without its text: requests' messages can carry the full URL."""
    return type(problem).__name__


def _checked(response: requests.Response, family: str) -> Any:
    status = response.status_code
    try:
        body: Any = response.json() if response.content else {}
    except ValueError:
        body = {}
    if 200 <= status < 300:
        return body
    detail = describe(body)
    message = f"{family}: Freshdesk answered {status}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        raise Unauthorized(message, status)
    if status == 404:
        raise NotFound(message, status)
    if status == 400:
        raise Invalid(message, status)
    if status == 409:
        raise Conflict(message, status)
    raise FreshdeskError(message, status)


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
