"""The contract system in memory: the real HTTP adapter, its requests served in-process by the
sandbox's stand-in (which verifies every signature and dedupes on the key) instead of a
socket. Tests and the demo use it, so what they exercise is the signing, the retries and the
answers' handling the worker runs in production, not a kinder shortcut."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter

from worker.adapters.http import bare_session
from worker.config import ContractHttp
from worker.contract.http import HttpContractSystem
from worker.sandbox.contracts import ContractStandIn, Lost


class StandInTransport(BaseAdapter):
    """A requests transport that hands each request to the stand-in; a request it leaves
    unanswered (a lost answer, a hang) is the timeout the client would meet."""

    def __init__(self, stand_in: ContractStandIn) -> None:
        super().__init__()
        self.stand_in = stand_in

    def send(  # type: ignore[override]  # requests' untyped signature
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        headers: Mapping[str, str] = request.headers
        try:
            status, payload = self.stand_in.handle(headers, raw)
        except Lost:
            raise requests.ReadTimeout("the contract system did not answer") from None
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def in_memory(
    settings: ContractHttp,
    stand_in: ContractStandIn,
    *,
    sleep: Callable[[float], None] = lambda seconds: None,
) -> HttpContractSystem:
    """The HTTP adapter wired to `stand_in`; backoff does not wait unless `sleep` is given."""
    session = bare_session(settings.url)
    session.mount(settings.url, StandInTransport(stand_in))
    return HttpContractSystem(settings, stand_in.secret, session=session, sleep=sleep)
