"""The log lines a test reads, as production's processors would give them their context."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

Line = MutableMapping[str, Any]


@contextmanager
def logged() -> Iterator[list[Line]]:
    """Every line logged meanwhile, with what is bound in context merged in (`ticket_id`,
    `job`): structlog's own `capture_logs` drops the context variables."""
    capture = structlog.testing.LogCapture()
    before = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        yield capture.entries
    finally:
        structlog.configure(**before)
