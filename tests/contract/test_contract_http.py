"""The contract system's HTTP adapter and the sandbox's stand-in: how a cancellation is signed,
retried and answered, and what the stand-in refuses (so a test never passes on a request a
real system, built as README says, would refuse)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from worker.config import Config, ContractCancellation, ContractHttp
from worker.contract import ContractSecretMissing, contract_system
from worker.contract.http import HttpContractSystem, body_of
from worker.contract.memory import in_memory
from worker.contract.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from worker.core.effects import ContractRequest
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.clock import SandboxClock
from worker.sandbox.contracts import PATH, ContractStandIn
from worker.sandbox.server import SandboxServer

SECRET = "segredo-do-sistema-de-contratos"
SETTINGS = ContractHttp(url="https://contratos.test/cancelar", max_attempts=4)
REQUEST = ContractRequest(
    key="zendesk-48213-7",
    ticket_id="48213",
    document="52998224725",
    account_name="Maria Souza",
    reason="não usa mais",
    why="o cliente confirmou por telefone que quer cancelar",
)


def signed(body: bytes, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        KEY_HEADER: REQUEST.key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


# --- the stand-in: what a receiving system verifies ------------------------------------------


def test_the_stand_in_cancels_a_signed_request_once_per_key() -> None:
    stand_in = ContractStandIn(SECRET)
    body = body_of(REQUEST)
    assert stand_in.handle(signed(body), body) == (200, {"status": "cancelado", "repetido": False})
    assert stand_in.handle(signed(body), body) == (200, {"status": "cancelado", "repetido": True})
    assert list(stand_in.cancelled) == [REQUEST.key]


def test_the_stand_in_refuses_a_request_signed_with_another_secret() -> None:
    stand_in = ContractStandIn(SECRET)
    body = body_of(REQUEST)
    status, _ = stand_in.handle(signed(body, secret="outro-segredo"), body)
    assert status == 401 and stand_in.cancelled == {}


def test_the_stand_in_refuses_a_body_changed_after_signing() -> None:
    stand_in = ContractStandIn(SECRET)
    headers = signed(body_of(REQUEST))
    other = body_of(ContractRequest(**{**REQUEST.__dict__, "document": "11144477735"}))
    assert stand_in.handle(headers, other)[0] == 401


def test_the_stand_in_refuses_a_signature_replayed_after_five_minutes() -> None:
    now = 1_800_000_000.0
    stand_in = ContractStandIn(SECRET, clock=lambda: now)
    body = body_of(REQUEST)
    assert stand_in.handle(signed(body, at=now - 301), body)[0] == 401
    assert stand_in.handle(signed(body, at=now + 301), body)[0] == 401
    assert stand_in.handle(signed(body, at=now - 299), body)[0] == 200


def test_the_stand_in_refuses_a_request_without_an_idempotency_key() -> None:
    stand_in = ContractStandIn(SECRET)
    body = body_of(REQUEST)
    headers = {k: v for k, v in signed(body).items() if k != KEY_HEADER}
    status, answer = stand_in.handle(headers, body)
    assert status == 400 and KEY_HEADER in answer["erro"]


def test_the_stand_in_refuses_the_same_key_for_another_request() -> None:
    stand_in = ContractStandIn(SECRET)
    body = body_of(REQUEST)
    stand_in.handle(signed(body), body)
    other = body_of(ContractRequest(**{**REQUEST.__dict__, "reason": "preço"}))
    status, answer = stand_in.handle(signed(other), other)
    assert status == 422 and "chave já usada" in answer["erro"]


# --- the adapter: signing, retries, answers ----------------------------------------------------


class Recording(BaseAdapter):
    """Answers from a script of statuses (a 0 is a timeout) and keeps what was sent."""

    def __init__(self, statuses: list[int], body: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.statuses = statuses
        self.body = body or {}
        self.sent: list[requests.PreparedRequest] = []

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        status = self.statuses.pop(0)
        if status == 0:
            raise requests.ReadTimeout("slow")
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(self.body).encode()
        response.headers["Location"] = "https://elsewhere.test/"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        """Nothing to release."""


def adapter_over(transport: BaseAdapter, slept: list[float]) -> HttpContractSystem:
    session = requests.Session()
    session.mount(SETTINGS.url, transport)
    return HttpContractSystem(SETTINGS, SECRET, session=session, sleep=slept.append)


def test_every_attempt_is_signed_afresh_with_the_same_key_and_body() -> None:
    now = iter([1_800_000_000.0, 1_800_000_007.0])
    transport = Recording([503, 200])
    session = requests.Session()
    session.mount(SETTINGS.url, transport)
    system = HttpContractSystem(
        SETTINGS, SECRET, session=session, sleep=lambda s: None, clock=lambda: next(now)
    )
    assert system.cancel(REQUEST).cancelled
    first, second = transport.sent
    assert first.body == second.body == body_of(REQUEST)
    assert first.headers[KEY_HEADER] == second.headers[KEY_HEADER] == REQUEST.key
    assert (first.headers[TIMESTAMP_HEADER], second.headers[TIMESTAMP_HEADER]) == (
        "1800000000",
        "1800000007",
    )
    for sent in (first, second):
        stamp = sent.headers[TIMESTAMP_HEADER]
        assert sent.headers[SIGNATURE_HEADER] == signature(SECRET, stamp, body_of(REQUEST))


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 503])
def test_a_transient_status_is_retried(status: int) -> None:
    answer = adapter_over(Recording([status, 200]), []).cancel(REQUEST)
    assert answer.cancelled and answer.attempts == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_refusal_is_final_at_once(status: int) -> None:
    transport = Recording([status], {"erro": "contrato não encontrado"})
    answer = adapter_over(transport, []).cancel(REQUEST)
    assert (answer.cancelled, answer.refused, answer.status, answer.attempts) == (
        False,
        True,
        status,
        1,
    )
    assert answer.detail == "contrato não encontrado"


def test_a_redirect_is_not_followed_the_signed_request_goes_nowhere_else() -> None:
    transport = Recording([302])
    answer = adapter_over(transport, []).cancel(REQUEST)
    assert answer.refused and answer.status == 302
    assert [r.url for r in transport.sent] == [SETTINGS.url]


def test_backoff_grows_between_attempts_and_stops_at_max_attempts() -> None:
    slept: list[float] = []
    answer = adapter_over(Recording([0, 503, 0, 503]), slept).cancel(REQUEST)
    assert (answer.cancelled, answer.refused, answer.attempts) == (False, False, 4)
    assert answer.status == 503
    assert len(slept) == 3 and all(0 < s <= 30 for s in slept)
    assert slept[0] < 2 <= slept[1] < 3 <= slept[2]  # 1, 2, 4 s plus up to 1 s of jitter


def test_personal_data_echoed_by_the_system_is_masked_in_the_answer() -> None:
    transport = Recording([422], {"erro": "CPF 529.982.247-25 sem contrato ativo"})
    answer = adapter_over(transport, []).cancel(REQUEST)
    assert "529.982.247-25" not in answer.detail and "sem contrato ativo" in answer.detail


def test_the_in_memory_system_runs_the_adapter_against_the_stand_in() -> None:
    stand_in = ContractStandIn(SECRET)
    stand_in.drop = 1
    answer = in_memory(SETTINGS, stand_in).cancel(REQUEST)
    assert answer.cancelled and answer.attempts == 2
    assert stand_in.requests == 2 and list(stand_in.cancelled) == [REQUEST.key]


# --- from configuration and environment -------------------------------------------------------


def http_config() -> Config:
    return Config(contract_cancellation=ContractCancellation(mode="http", http=SETTINGS))


def test_manual_mode_needs_no_contract_system() -> None:
    assert contract_system(Config(), {}) is None


def test_http_mode_without_its_secret_in_the_environment_stops_the_worker() -> None:
    with pytest.raises(ContractSecretMissing, match="set CONTRACT_API_SECRET"):
        contract_system(http_config(), {"CONTRACT_API_SECRET": "  "})
    system = contract_system(http_config(), {"CONTRACT_API_SECRET": SECRET})
    assert isinstance(system, HttpContractSystem) and system.secret == SECRET


# --- over real HTTP: the sandbox's stand-in ----------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(
        lambda url: FakeZendesk(
            clock=SandboxClock(datetime(2026, 12, 7, 12, tzinfo=UTC)),
            subdomain_url=url,
            limits=RateLimits.off(),
        ),
        contracts=ContractStandIn(SECRET),
    ).start()
    yield server
    server.close()
    server.fake.close()


def test_the_sandbox_serves_the_stand_in_over_http(sandbox: SandboxServer) -> None:
    settings = ContractHttp(url=sandbox.url + PATH, max_attempts=3, timeout_seconds=5)
    admin = f"{sandbox.url}/_sandbox/contracts"
    assert requests.post(admin, json={"fail": [503], "drop": 1}, timeout=5).status_code == 200
    answer = HttpContractSystem(settings, SECRET, sleep=lambda s: None).cancel(REQUEST)
    assert answer.cancelled and answer.attempts == 3  # a 503, a lost answer, a repeat
    state = requests.get(admin, timeout=5).json()
    assert (state["requests"], state["cancelled"]) == (3, [REQUEST.key])
    forged = HttpContractSystem(settings, "outro-segredo", sleep=lambda s: None).cancel(REQUEST)
    assert (forged.refused, forged.status) == (True, 401)
