"""Serves a FakeZendesk to `requests` through `responses`, so adapter tests run offline.

Every method is registered, so use a mock that does not insist every registration fires:
`responses.RequestsMock(assert_all_requests_are_fired=False)` (the `@responses.activate`
default).
"""

from __future__ import annotations

import json
import re

import requests
import responses

from worker.sandbox.zendesk import FakeZendesk, LostResponse


def install(rsps: responses.RequestsMock, fake: FakeZendesk) -> None:
    pattern = re.compile(re.escape(fake.base_url) + r"(?:[/?#]|$)")

    def callback(
        request: requests.PreparedRequest,
    ) -> tuple[int, dict[str, str], str] | Exception:
        body = request.body
        raw = body.encode() if isinstance(body, str) else body
        try:
            status, headers, payload = fake.handle(
                request.method or "GET", request.url or "", dict(request.headers), raw
            )
        except LostResponse:
            # applied on the server, never answered: the case `safe_update` must make safe
            return requests.exceptions.ConnectionError("connection reset (lost response)")
        return status, headers, json.dumps(payload)

    for method in (responses.GET, responses.POST, responses.PUT, responses.DELETE):
        rsps.add_callback(method, pattern, callback=callback, content_type="application/json")
