"""The state directory: what the worker keeps between runs that is not in the helpdesk.

Only the poll's place lives here today (the cursor, and the tickets that failed and must be
tried again though the cursor moved past them) (the lock and the journal join it later). Losing the
directory costs one look-back poll, never a wrong action: the procedure's state is in the
tickets. Files hold ids and opaque cursors, never personal data (CONTRACT 12).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PollPlace:
    cursor: str | None = None
    retry: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PollPlaceFile:
    """One helpdesk's poll place, written atomically so a crash never leaves half a file."""

    path: Path

    @classmethod
    def in_dir(cls, state_dir: Path, helpdesk: str) -> PollPlaceFile:
        return cls(state_dir / f"{helpdesk}-poll.json")

    def load(self) -> PollPlace:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return PollPlace()  # missing or unreadable: the look-back rebuilds it
        if not isinstance(data, dict):
            return PollPlace()
        cursor = data.get("cursor")
        retry = data.get("retry")
        return PollPlace(
            cursor if isinstance(cursor, str) and cursor else None,
            frozenset(str(i) for i in retry) if isinstance(retry, list) else frozenset(),
        )

    def save(self, place: PollPlace) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".cursor-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"cursor": place.cursor, "retry": sorted(place.retry)}, out)
                out.flush()
                os.fsync(out.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
