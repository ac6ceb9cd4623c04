"""The company's contract system (`contract_cancellation.mode: http`): one signed, idempotent
POST per contract to cancel (`http.py`), and what the worker needs to build it from the
configuration and the environment."""

from __future__ import annotations

from collections.abc import Mapping

from worker.config import Config
from worker.ports import ContractSystem


class ContractSecretMissing(Exception):
    """HTTP mode without its secret in the environment: the worker must not start."""


def contract_system(config: Config, env: Mapping[str, str]) -> ContractSystem | None:
    """The configured system, or None in manual mode. The secret is read here, once, by the
    name the configuration gives it; its value is never in the file nor in a message."""
    settings = config.contract_cancellation.http
    if config.contract_cancellation.mode != "http" or settings is None:
        return None
    secret = env.get(settings.secret_env, "").strip()
    if not secret:
        raise ContractSecretMissing(
            f"contract_cancellation.mode is http: set {settings.secret_env} in the environment"
            " to the HMAC key shared with the contract system"
        )
    from worker.contract.http import HttpContractSystem

    return HttpContractSystem(settings, secret)
