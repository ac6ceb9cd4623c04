"""The one road to Zendesk: base URL, credentials, pacing, retries and errors, in one place.

Exactly one retry layer decides (this one, with tenacity): the session has no urllib3 retries,
so a write is never re-sent behind our back, and a 429 is waited out here, bounded, instead of
sleeping for as long as the server says. Writes not guarded by `safe_update` are retried only
when the request surely did not arrive (429, a refused connection). Messages never carry
credentials.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from worker.config import Zendesk as ZendeskSettings
from worker.ports import CredentialsRejected, HelpdeskError, StaleTicket

Json = dict[str, Any]


class ZendeskError(HelpdeskError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Again(Exception):
    """A transient failure: tenacity tries again, and `final` is raised when it stops."""

    def __init__(self, final: ZendeskError, *, paced: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.paced = paced


class CredentialsMissing(ZendeskError):
    """The environment does not say which account or how to log in."""


class Unauthorized(ZendeskError, CredentialsRejected):
    """401/403: the token is wrong, revoked, or its user may not do this."""


class NotFound(ZendeskError):
    pass


class BadRequest(ZendeskError):
    """400: a parameter Zendesk does not accept (an expired cursor, a malformed query)."""


class Invalid(ZendeskError):
    """422: Zendesk refused the content (an unknown field, status or value)."""


class RateLimited(ZendeskError):
    """Zendesk asked to wait longer than the configured bound; the next poll resumes."""


class Unreachable(ZendeskError):
    """Timeouts, refused connections or 5xx after every attempt."""


@dataclass(frozen=True)
class Credentials:
    base_url: str
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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
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

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in ("localhost", "::1") or host.startswith("127.")

    def __repr__(self) -> str:  # never print a token, even by accident
        return f"Credentials(base_url={self.base_url!r}, email=<set>, token=<hidden>)"


def new_session(credentials: Credentials) -> requests.Session:
    session = requests.Session()
    no_retries = HTTPAdapter(max_retries=0)
    session.mount("https://", no_retries)
    session.mount("http://", no_retries)
    if credentials.oauth_token is not None:
        session.headers["Authorization"] = f"Bearer {credentials.oauth_token}"
    else:
        assert credentials.email is not None and credentials.api_token is not None
        session.auth = (f"{credentials.email}/token", credentials.api_token)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "cancelamento-worker"
    return session


class Window:
    """At most `per_minute` requests in any 60 s: sleeps before a request rather than after a
    429, so the worker stays a polite share of the account's limit."""

    def __init__(
        self, per_minute: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.per_minute = max(1, int(per_minute))
        self.clock = clock
        self.sleep = sleep
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0

    def acquire(self) -> None:
        while True:
            now = self.clock()
            while self.sent and now - self.sent[0] >= 60.0:
                self.sent.popleft()
            wait = self.blocked_until - now
            if len(self.sent) >= self.per_minute:
                wait = max(wait, 60.0 - (now - self.sent[0]))
            if wait <= 0:
                self.sent.append(now)
                return
            self.sleep(wait)

    def block_for(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)


@dataclass
class RequestStats:
    """What the worker cost the account, for logs, metrics and benchmarks."""

    requests: int = 0
    writes: int = 0
    throttled: int = 0  # 429s received
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


# Endpoint families with a limit of their own (requests per minute, before the share).
INCREMENTAL_PER_MINUTE = 10
SEARCH_EXPORT_PER_MINUTE = 100


def endpoint_of(method: str, path: str) -> str:
    """A family name for pacing and counting: ids are dropped, so all tickets share one."""
    parts = [
        "{id}" if part.removesuffix(".json").isdigit() else part.removesuffix(".json")
        for part in path.split("/")
        if part and part not in ("api", "v2")
    ]
    return f"{method} /" + "/".join(parts)


class ZendeskClient:
    def __init__(
        self,
        credentials: Credentials,
        settings: ZendeskSettings,
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
            "PUT /tickets/{id}": Window(settings.ticket_updates_per_minute * share, clock, sleep),
            "GET /incremental/tickets/cursor": Window(INCREMENTAL_PER_MINUTE * share, clock, sleep),
            "GET /search/export": Window(SEARCH_EXPORT_PER_MINUTE * share, clock, sleep),
        }

    # --- the verbs -------------------------------------------------------------------------

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
        page = self.get(path, params)
        while True:
            yield page
            following = _next_link(page)
            if following is None:
                return
            page = self.get(following)

    # --- one request, paced and retried -------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Json | None = None,
        guarded: bool = False,
    ) -> Json:
        """Transient failures (timeouts, resets, 5xx, 429) are retried by tenacity, bounded by
        `max_attempts`; a write not guarded by `safe_update` only when it surely never arrived."""
        url = self._url(path)
        family = endpoint_of(method, urlsplit(url).path)
        idempotent = method == "GET" or guarded
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            retry=retry_if_exception_type(_Again),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, family, params, body, idempotent)
        except _Again as failure:
            raise failure.final from None

    def _attempt(
        self,
        method: str,
        url: str,
        family: str,
        params: Mapping[str, str | int] | None,
        body: Json | None,
        idempotent: bool,
    ) -> Json:
        self._pace(family)
        self.stats.requests += 1
        self.stats.writes += method != "GET"
        self.stats.by_endpoint[family] = self.stats.by_endpoint.get(family, 0) + 1
        timeout = self.settings.timeout_seconds
        try:
            response = self.session.request(
                method, url, params=params, json=body, timeout=(min(10.0, timeout), timeout)
            )
        except requests.ConnectionError as problem:
            # A refused connection never reached Zendesk; a reset after sending may have.
            arrived = not isinstance(problem, requests.ConnectTimeout) and _maybe_sent(problem)
            final = Unreachable(f"{family}: cannot reach {self.base_url} ({_kind(problem)})")
            if arrived and not idempotent:
                raise final from None
            raise _Again(final) from None
        except requests.Timeout as problem:
            final = Unreachable(
                f"{family}: no answer from {self.base_url} in {timeout:.0f} s ({_kind(problem)})"
            )
            if not idempotent:
                raise final from None
            raise _Again(final) from None
        self._observe_limits(response, family)
        status = response.status_code
        if status == 429:
            self.stats.throttled += 1
            wait = _retry_after(response)
            limited = RateLimited(
                f"{family}: Zendesk asks to wait {wait:.0f} s (rate limit); the next poll resumes",
                429,
            )
            if wait > self.settings.max_retry_after_seconds:
                raise limited
            self._block(family, wait)  # the next attempt's pacing waits it out
            raise _Again(limited, paced=True)
        if status >= 500:
            final = Unreachable(f"{family}: Zendesk answered {status}", status)
            if not idempotent:
                raise final
            raise _Again(final)
        return _checked(response, family)

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
                raise ZendeskError(
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

    def _observe_limits(self, response: requests.Response, family: str) -> None:
        """When the account's remaining budget is spent (by anyone), wait for the reset."""
        remaining = response.headers.get("X-Rate-Limit-Remaining") or response.headers.get(
            "ratelimit-remaining"
        )
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0:
            reset = response.headers.get("ratelimit-reset", "")
            self.account_window.block_for(float(reset) if reset.isdigit() else 60.0)


def _next_link(page: Json) -> str | None:
    links = page.get("links")
    meta = page.get("meta")
    if isinstance(meta, dict) and "has_more" in meta:
        if meta.get("has_more") and isinstance(links, dict) and links.get("next"):
            return str(links["next"])
        return None
    next_page = page.get("next_page")
    return str(next_page) if next_page else None


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
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


def _checked(response: requests.Response, family: str) -> Json:
    status = response.status_code
    try:
        body: Any = response.json() if response.content else {}
    except ValueError:
        body = {}
    if 200 <= status < 300:
        return body if isinstance(body, dict) else {"value": body}
    detail = _describe(body)
    message = f"{family}: Zendesk answered {status}" + (f": {detail}" if detail else "")
    if status == 409:
        raise StaleTicket(message)
    if status in (401, 403):
        raise Unauthorized(message, status)
    if status == 404:
        raise NotFound(message, status)
    if status == 422:
        raise Invalid(message, status)
    if status == 400:
        raise BadRequest(message, status)
    raise ZendeskError(message, status)


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
