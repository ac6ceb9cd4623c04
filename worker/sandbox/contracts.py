"""A stand-in for the company's contract system, for the sandbox, the demo and the tests: what
README promises a real one does ("Cancel contracts through your system").

It verifies the signature and its time window before reading the body, dedupes on the
`Idempotency-Key` (the same key and body answer success again and cancel nothing more; the same
key with another body is refused), and fails on demand: statuses to answer instead of serving
(not applied), answers lost after the cancellation was applied, and requests that time out
(not applied). Stricter than a lenient real system, never kinder: a request without a key or
with a field missing is refused.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.contract.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verified

PATH = "/_contratos/cancelar"  # where the sandbox serves it
FIELDS = ("chave", "ticket", "documento", "conta", "motivo", "por_que")
Reply = tuple[int, dict[str, Any]]


class Lost(Exception):
    """No answer: the connection is closed (after applying, for a lost answer)."""


@dataclass
class ContractStandIn:
    secret: str
    clock: Callable[[], float] = time.time
    fail: list[int] = field(default_factory=list)  # statuses to answer next, one per request
    drop: int = 0  # next successful cancellations whose answer is lost
    hang: int = 0  # next requests never answered, not applied (a timeout)
    cancelled: dict[str, bytes] = field(default_factory=dict)  # key -> the body it cancelled
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Raises Lost when the request gets no answer."""
        with self.lock:
            self.requests += 1
            given = {name.lower(): value for name, value in headers.items()}
            timestamp = given.get(TIMESTAMP_HEADER.lower(), "")
            sent = given.get(SIGNATURE_HEADER.lower(), "")
            if not verified(self.secret, timestamp, body, sent, self.clock()):
                return 401, {"erro": "assinatura inválida ou fora da janela de 5 minutos"}
            if self.hang:
                self.hang -= 1
                raise Lost
            if self.fail:
                status = self.fail.pop(0)
                return status, {"erro": f"falha simulada ({status})"}
            key = given.get(KEY_HEADER.lower(), "")
            if not key:  # 400 and 422 as the IETF Idempotency-Key draft has them
                return 400, {"erro": f"cabeçalho {KEY_HEADER} ausente"}
            problem = _invalid(key, body)
            if problem:
                return 422, {"erro": problem}
            if key in self.cancelled:
                if self.cancelled[key] != body:
                    return 422, {"erro": "chave já usada com outro pedido"}
                return 200, {"status": "cancelado", "repetido": True}
            self.cancelled[key] = body
            if self.drop:
                self.drop -= 1
                raise Lost
            return 200, {"status": "cancelado", "repetido": False}

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "cancelled": sorted(self.cancelled),
                "fail": list(self.fail),
                "drop": self.drop,
                "hang": self.hang,
            }

    def set_faults(self, data: Mapping[str, Any]) -> None:
        with self.lock:
            self.fail = [int(status) for status in data.get("fail", ())]
            self.drop = int(data.get("drop", 0))
            self.hang = int(data.get("hang", 0))


def _invalid(key: str, body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return "corpo não é JSON"
    if not isinstance(payload, dict):
        return "corpo não é um objeto JSON"
    missing = [name for name in FIELDS if name not in payload]
    if missing:
        return f"campos ausentes: {', '.join(missing)}"
    if payload["chave"] != key:
        return f"a chave do corpo difere do cabeçalho {KEY_HEADER}"
    if not payload["documento"]:
        return "documento vazio"
    return ""
