"""The `freshdesk:` section lives with the rest of the configuration (`worker.config`)."""

from __future__ import annotations

from worker.config import Freshdesk

__all__ = ["Freshdesk"]
