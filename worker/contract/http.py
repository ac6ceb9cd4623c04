"""One signed, idempotent POST to the company's contract system, retried while it may still
succeed.

Every attempt carries the same body and `Idempotency-Key` (the receiving system is told to
dedupe on it), so a retry after a lost answer, a crash, or a second worker never cancels twice;
each attempt is signed afresh, since the signature covers its timestamp. Timeouts, connection
failures, 408, 409 (the same key still being processed), 425, 429 and 5xx are retried with
exponential backoff, bounded by `max_attempts`; any other answer is final. Redirects are not
followed: a signed cancellation goes to the configured URL or nowhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from worker import logs
from worker.adapters.http import bare_session
from worker.config import ContractHttp
from worker.contract.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from worker.core.effects import ContractAnswer, ContractRequest

RETRIED_STATUSES = frozenset({408, 409, 425, 429})
DETAIL_CHARS = 200  # of an answer's body, in the agent's note


class _Transient(Exception):
    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def body_of(request: ContractRequest) -> bytes:
    """The JSON the system receives (README, "Cancel contracts through your system")."""
    payload = {
        "chave": request.key,
        "ticket": request.ticket_id,
        "documento": request.document,
        "conta": request.account_name,
        "motivo": request.reason,
        "por_que": request.why,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


class HttpContractSystem:
    def __init__(
        self,
        settings: ContractHttp,
        secret: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.secret = secret
        self.session = session or bare_session(settings.url)
        self.sleep = sleep
        self.clock = clock

    def cancel(self, request: ContractRequest) -> ContractAnswer:
        body = body_of(request)
        attempts = 0

        def attempt() -> requests.Response:
            nonlocal attempts
            attempts += 1
            return self._post(request.key, body)

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential_jitter(initial=1, max=30),
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            answer = retrying(attempt)
        except _Transient as failure:
            return ContractAnswer(False, False, failure.status, failure.detail, attempts)
        if 200 <= answer.status_code < 300:
            return ContractAnswer(True, status=answer.status_code, attempts=attempts)
        return ContractAnswer(False, True, answer.status_code, _detail(answer), attempts)

    def _post(self, key: str, body: bytes) -> requests.Response:
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            KEY_HEADER: key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
        }
        try:
            answer = self.session.post(
                self.settings.url,
                data=body,
                headers=headers,
                timeout=self.settings.timeout_seconds,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise _Transient(
                None, f"no answer within {self.settings.timeout_seconds:g} s"
            ) from None
        except requests.RequestException as problem:
            raise _Transient(None, f"connection failed ({type(problem).__name__})") from None
        if answer.status_code in RETRIED_STATUSES or answer.status_code >= 500:
            raise _Transient(answer.status_code, _detail(answer))
        return answer


def _detail(answer: requests.Response) -> str:
    """The answer in one masked line: systems echo what they were sent (the document)."""
    text: Any
    try:
        text = answer.json()
    except ValueError:
        text = answer.text
    if isinstance(text, dict):
        text = next((text[k] for k in ("erro", "error", "mensagem", "message") if k in text), text)
    line = " ".join(str(text).split()) or answer.reason or ""
    return logs.shown(line)[:DETAIL_CHARS]
