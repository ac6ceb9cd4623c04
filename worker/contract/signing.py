"""How a request to the contract system is signed, for the worker and the sandbox's stand-in.

The same shape as Zendesk's webhooks (docs/zendesk.md): base64 of HMAC-SHA256 over the
timestamp followed by the raw body, so a receiver verifies before parsing, and an old request
replayed with its signature is refused by the time window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TIMESTAMP_HEADER = "X-Cancelamento-Timestamp"  # Unix seconds, as text
SIGNATURE_HEADER = "X-Cancelamento-Signature"  # base64(HMAC-SHA256(secret, timestamp + body))
KEY_HEADER = "Idempotency-Key"
WINDOW_SECONDS = 300  # a receiver refuses timestamps further than this from its clock


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verified(secret: str, timestamp: str, body: bytes, given: str, now: float) -> bool:
    """Constant-time, and only within the window (so a captured request cannot be replayed)."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now - moment) > WINDOW_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)
