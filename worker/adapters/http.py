"""The one road to a helpdesk's JSON API: base URL, pacing, retries and errors, in one place.

Exactly one retry layer decides (this one, with tenacity): the session has no urllib3 retries,
so a write is never re-sent behind our back, and a 429 is waited out here, bounded, instead of
sleeping for as long as the server says. Each helpdesk says which requests may be sent twice
(`repeatable`); any other is retried only when it surely did not arrive (a 429, a refused
connection). Messages never carry credentials. What differs between helpdesks (their errors,
sign-in, endpoint limits, limit headers and next links) is a `Vendor` and the hooks of
`JsonClient`.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from worker.adapters.pacing import RequestStats, Window
from worker.logs import redact
from worker.ports import HelpdeskError

Json = dict[str, Any]
Params = Mapping[str, str | int]


class ApiError(HelpdeskError):
    """A helpdesk's refusal or silence, with the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Vendor:
    """How one helpdesk fails: its name in messages, its error for each refusing status, and
    how its error bodies read."""

    name: str
    error: type[ApiError]  # any other refusal, and a link outside the account
    unreachable: type[ApiError]  # timeouts, resets, 5xx
    rate_limited: type[ApiError]  # a 429 asking to wait longer than the configured bound
    refusals: Mapping[int, Callable[[str, int], Exception]]  # by status
    describe: Callable[[Any], str]  # an error body in one line
    endpoint_of: Callable[[str, str], str]  # (method, path) -> the family paced and counted


class Limits(Protocol):
    """The part of a helpdesk's settings the transport reads."""

    @property
    def requests_per_minute(self) -> int: ...
    @property
    def share(self) -> float: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def max_retry_after_seconds(self) -> int: ...


S = TypeVar("S", bound=Limits)
C = TypeVar("C", bound="Endpoint")


@dataclass(frozen=True)
class Endpoint:
    """Where an account answers; the credentials of each helpdesk extend it."""

    base_url: str

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in ("localhost", "::1") or host.startswith("127.")


def wrong_base_url(base_url: str, variable: str, example: str) -> str:
    """The fix for a 404 on the API's own first read: the base URL is not the account's root.
    Asking to run check again would only repeat it."""
    path = urlsplit(base_url).path.rstrip("/")
    what = f"it has the path {path!r}" if path else "no account answers at that address"
    return (
        f"the helpdesk's base URL must be the account's root, like {example}, with no path"
        f" ({redact(base_url)}: {what}); fix {variable}"
    )


def is_base_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def bare_session(base_url: str) -> requests.Session:
    """A session without urllib3 retries (this module decides them); the caller adds auth.

    The environment (proxies, `no_proxy`, a CA bundle) is read once, here, for the one host the
    session talks to: with `trust_env` on, requests looks it all up again on every request,
    about a fifth of the worker's CPU over HTTP. A proxy changed later needs a restart."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    no_retries = HTTPAdapter(max_retries=0)
    session.mount("https://", no_retries)
    session.mount("http://", no_retries)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = "cancelamento-worker"
    return session


@dataclass(frozen=True)
class Answer:
    body: Any  # the JSON as sent: an object, a list, or {} when empty
    next_url: str | None  # the next page by the helpdesk's rule; None on the last


class _Again(Exception):
    """A transient failure: tenacity tries again, and `final` is raised when it stops."""

    def __init__(self, final: ApiError, *, paced: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.paced = paced


class JsonClient(Generic[C, S]):
    """Paced, retried JSON requests to one account. A helpdesk's client sets `vendor`, says how
    it signs in (`_new_session`) and may add endpoint limits (`_caps`), read its rate-limit
    headers (`_observe_limits`) and follow its paging (`_next_link`)."""

    vendor: ClassVar[Vendor]

    def __init__(
        self,
        credentials: C,
        settings: S,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.base_url = credentials.base_url
        self.settings = settings
        self.session = session or self._new_session(credentials)
        self.sleep = sleep
        self.jitter = jitter
        self.stats = RequestStats()
        self._counting = threading.Lock()  # reads made ahead count from other threads
        share = settings.share
        self.account_window = Window(settings.requests_per_minute * share, clock, sleep)
        self.windows = {
            family: Window(per_minute * share, clock, sleep)
            for family, per_minute in self._caps(settings).items()
        }
        self.last_limits: dict[str, int] = {}  # rate-limit headers last seen, if kept (Freshdesk)

    def _new_session(self, credentials: C) -> requests.Session:
        """A session that signs in with `credentials` (from `bare_session`)."""
        raise NotImplementedError

    def _caps(self, settings: S) -> Mapping[str, float]:
        """Endpoint families with a per-minute limit of their own, before the share."""
        return {}

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Json | None = None,
        repeatable: bool,
    ) -> Answer:
        """Transient failures (timeouts, resets, 5xx, 429) are retried by tenacity, bounded by
        `max_attempts`; a request not `repeatable` only when it surely never arrived."""
        url = self._url(path)
        family = self.vendor.endpoint_of(method, urlsplit(url).path)
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            retry=retry_if_exception_type(_Again),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, family, params, body, repeatable)
        except _Again as failure:
            raise failure.final from None

    def answers(self, path: str, params: Params | None = None) -> Iterator[Answer]:
        """Every page of a list, following the next link until there is none."""
        answer = self.send("GET", path, params=params, repeatable=True)
        while True:
            yield answer
            if answer.next_url is None:
                return
            answer = self.send("GET", answer.next_url, repeatable=True)

    def _attempt(
        self,
        method: str,
        url: str,
        family: str,
        params: Params | None,
        body: Json | None,
        repeatable: bool,
    ) -> Answer:
        self._pace(family)
        with self._counting:
            self.stats.requests += 1
            self.stats.writes += method != "GET"
            self.stats.by_endpoint[family] = self.stats.by_endpoint.get(family, 0) + 1
        vendor, timeout = self.vendor, self.settings.timeout_seconds
        try:
            response = self.session.request(
                method, url, params=params, json=body, timeout=(min(10.0, timeout), timeout)
            )
        except requests.ConnectionError as problem:
            # A refused connection never reached the helpdesk; a reset after sending may have.
            final = vendor.unreachable(f"{family}: cannot reach {self.base_url} ({_kind(problem)})")
            never_sent = isinstance(problem, requests.ConnectTimeout) or not _maybe_sent(problem)
            if repeatable or never_sent:
                raise _Again(final) from None
            raise final from None
        except requests.Timeout as problem:
            final = vendor.unreachable(
                f"{family}: no answer from {self.base_url} in {timeout:.0f} s ({_kind(problem)})"
            )
            if repeatable:
                raise _Again(final) from None
            raise final from None
        self._observe_limits(response, family)
        status = response.status_code
        if status == 429:  # refused before doing anything: safe to send again, writes included
            with self._counting:
                self.stats.throttled += 1
            wait = _retry_after(response)
            limited = vendor.rate_limited(
                f"{family}: {vendor.name} asks to wait {wait:.0f} s (rate limit); the next poll"
                " resumes",
                429,
            )
            if wait > self.settings.max_retry_after_seconds:
                raise limited
            self._block(family, wait)  # the next attempt's pacing waits it out
            raise _Again(limited, paced=True)
        if status >= 500:
            final = vendor.unreachable(f"{family}: {vendor.name} answered {status}", status)
            if repeatable:
                raise _Again(final)
            raise final
        body = self._checked(response, family)
        return Answer(body, self._next_link(response, body))

    def _checked(self, response: requests.Response, family: str) -> Any:
        status = response.status_code
        try:
            body: Any = response.json() if response.content else {}
        except ValueError:
            body = {}
        if 200 <= status < 300:
            return body
        vendor = self.vendor
        detail = vendor.describe(body)
        message = f"{family}: {vendor.name} answered {status}" + (f": {detail}" if detail else "")
        refusal = vendor.refusals.get(status)
        raise refusal(message, status) if refusal else vendor.error(message, status)

    def _observe_limits(self, response: requests.Response, family: str) -> None:
        """The helpdesk's rate-limit headers, read after every answer."""

    def _next_link(self, response: requests.Response, body: Any) -> str | None:
        """Where a list goes on; None when it does not (or the answer is no list)."""
        return None

    def _wait(self, state: RetryCallState) -> float:
        """Exponential with full jitter (up to 1 s, 2 s, 4 s ... 30 s); none after a 429,
        whose Retry-After the pacing window already honours."""
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _Again) and failure.paced:
            return 0.0
        return self.jitter(0, min(30.0, 2.0 ** (state.attempt_number - 1)))

    def _count_retry(self, state: RetryCallState) -> None:
        with self._counting:
            self.stats.retries += 1

    def _url(self, path: str) -> str:
        """A next link is followed only inside the account: it is the server's to choose."""
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base_url + "/"):
                raise self.vendor.error(
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


def as_object(body: Any) -> Json:
    """A JSON object as is; anything else wrapped as `{"value": ...}`."""
    return body if isinstance(body, dict) else {"value": body}


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
