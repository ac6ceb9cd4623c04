"""The write journal: what makes a Freshdesk step exactly-once across crashes.

Freshdesk writes a step in up to three calls (the reply that e-mails, the private note, the
ticket update) and has no transaction spanning them and no optimistic concurrency. So every
step gets one row here, keyed by (ticket id, step key), whose phase is written *before* each
call (the intent: the call may have arrived) and *after* it (done, with the conversation's id):

    planned -> replying -> replied -> noting -> noted -> done
               (only when the step e-mails)

A restart that finds a row in `replying` or `noting` does not know whether the call arrived,
so it asks the ticket: the worker's own reply created since the intent, not claimed by another
row, is that reply; a private note by the worker carrying the step's marker is that note.
A row in `noted` needs no decision any more: the ticket update is finished from the row alone.

The journal is an optimisation, never the only guard: a step it does not remember (the file
deleted, emptied, restored without its `-wal`) is still settled from the ticket, where the
worker's reply with no note after it is the reply of the step now being written (adapter.py).
A journal that cannot be opened (corrupt, a directory in its place) stops the worker with one
clear error naming the file and what to do, not a traceback at every run.

Rows keep ids, step keys, sha256 hashes of the texts, and the update as status ids, field
values and tag names: never a text, an e-mail address or a name (CONTRACT 12). SQLite in WAL
mode with `synchronous=FULL`: a row written is on disk before the call it announces is made.
"""

from __future__ import annotations

import enum
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.adapters.freshdesk.http import FreshdeskError

KEEP_DONE_SECONDS = 30 * 24 * 3600.0


class Phase(enum.Enum):
    PLANNED = "planned"
    REPLYING = "replying"
    REPLIED = "replied"
    NOTING = "noting"
    NOTED = "noted"
    DONE = "done"


@dataclass(frozen=True)
class Entry:
    ticket_id: str
    step_key: str
    phase: Phase
    email_hash: str | None
    note_hash: str
    plan: dict[str, Any]  # the ticket update: status id, field values, tags to add and remove
    reply_id: str | None
    note_id: str | None
    started_at: float  # wall clock (epoch seconds) when the intent was first recorded


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    ticket_id TEXT NOT NULL,
    step_key TEXT NOT NULL,
    phase TEXT NOT NULL,
    email_hash TEXT,
    note_hash TEXT NOT NULL,
    plan TEXT NOT NULL,
    reply_id TEXT,
    note_id TEXT,
    started_at REAL NOT NULL,
    changed_at REAL NOT NULL,
    PRIMARY KEY (ticket_id, step_key)
)
"""
# When something the adapter checks now and then was last found right (e.g. the sweep's range on
# the deadline field, checked against the full listing once a day): kept here, not in memory, so
# `run --once` under cron does not check at every run. Losing it costs one check, nothing more.
_MARKS = "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, at REAL NOT NULL)"
_COLUMNS = "ticket_id, step_key, phase, email_hash, note_hash, plan, reply_id, note_id, started_at"


class JournalUnusable(FreshdeskError):
    """The journal file cannot be opened or read; what to do is in the message."""

    def __init__(self, path: Path, problem: Exception) -> None:
        super().__init__(
            f"the Freshdesk write journal {path} cannot be used ({type(problem).__name__}:"
            f" {problem}). Stop the worker, move it aside (mv '{path}' '{path}.broken', with"
            " its -wal and -shm files if any) and start again: a new journal is made, and"
            " the tickets' conversations keep any e-mail from being sent twice"
        )


class Journal:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute(_SCHEMA)
            self.db.execute(_MARKS)
            self.db.execute(f"SELECT {_COLUMNS} FROM steps LIMIT 1").fetchall()
        except (sqlite3.DatabaseError, OSError) as problem:
            raise JournalUnusable(path, problem) from None

    def close(self) -> None:
        self.db.close()

    def find(self, ticket_id: str, step_key: str) -> Entry | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM steps WHERE ticket_id = ? AND step_key = ?",
            (ticket_id, step_key),
        ).fetchone()
        return _entry(row) if row else None

    def begin(
        self,
        ticket_id: str,
        step_key: str,
        *,
        email_hash: str | None,
        note_hash: str,
        plan: dict[str, Any],
    ) -> Entry:
        now = self.clock()
        self.db.execute(
            "INSERT INTO steps (ticket_id, step_key, phase, email_hash, note_hash, plan,"
            " started_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket_id,
                step_key,
                Phase.PLANNED.value,
                email_hash,
                note_hash,
                json.dumps(plan, sort_keys=True),
                now,
                now,
            ),
        )
        found = self.find(ticket_id, step_key)
        assert found is not None
        return found

    def advance(
        self,
        entry: Entry,
        phase: Phase,
        *,
        reply_id: str | None = None,
        note_id: str | None = None,
        plan: dict[str, Any] | None = None,
    ) -> Entry:
        self.db.execute(
            "UPDATE steps SET phase = ?, reply_id = COALESCE(?, reply_id),"
            " note_id = COALESCE(?, note_id), plan = ?, changed_at = ?"
            " WHERE ticket_id = ? AND step_key = ?",
            (
                phase.value,
                reply_id,
                note_id,
                json.dumps(entry.plan if plan is None else plan, sort_keys=True),
                self.clock(),
                entry.ticket_id,
                entry.step_key,
            ),
        )
        found = self.find(entry.ticket_id, entry.step_key)
        assert found is not None
        return found

    def forget(self, entry: Entry) -> None:
        """A step that wrote nothing (refused before its first call) leaves no row."""
        self.db.execute(
            "DELETE FROM steps WHERE ticket_id = ? AND step_key = ? AND phase = ?",
            (entry.ticket_id, entry.step_key, Phase.PLANNED.value),
        )

    def close_ticket(self, ticket_id: str) -> int:
        """A ticket gone (deleted, in the trash, spam) will never finish its cut steps: their
        rows go, rather than wait forever. Removed, not marked done: should the ticket be
        restored, a row marked done would keep its step from ever being written, whereas without
        a row the step is settled from the ticket's conversations, as with a lost journal."""
        cursor = self.db.execute(
            "DELETE FROM steps WHERE ticket_id = ? AND phase != ?", (ticket_id, Phase.DONE.value)
        )
        return cursor.rowcount

    def unfinished(self, ticket_id: str | None = None) -> list[Entry]:
        query = f"SELECT {_COLUMNS} FROM steps WHERE phase != ?"
        args: tuple[str, ...] = (Phase.DONE.value,)
        if ticket_id is not None:
            query += " AND ticket_id = ?"
            args += (ticket_id,)
        return [_entry(row) for row in self.db.execute(query + " ORDER BY started_at", args)]

    def claimed_replies(self, ticket_id: str, *, other_than: str | None = None) -> set[str]:
        """The replies rows say are theirs (but `other_than`'s own)."""
        rows = self.db.execute(
            "SELECT reply_id FROM steps WHERE ticket_id = ? AND reply_id IS NOT NULL"
            " AND step_key IS NOT ?",
            (ticket_id, other_than),
        )
        return {str(row[0]) for row in rows}

    def marked_at(self, name: str) -> float | None:
        row = self.db.execute("SELECT at FROM marks WHERE name = ?", (name,)).fetchone()
        return float(row[0]) if row else None

    def mark(self, name: str) -> None:
        self.db.execute(
            "INSERT INTO marks (name, at) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET at = ?",
            (name, self.clock(), self.clock()),
        )

    def prune(self, older_than: float = KEEP_DONE_SECONDS) -> int:
        """Finished rows older than a month go: by then no retry can be about them."""
        cursor = self.db.execute(
            "DELETE FROM steps WHERE phase = ? AND changed_at < ?",
            (Phase.DONE.value, self.clock() - older_than),
        )
        return cursor.rowcount


def _entry(row: tuple[Any, ...]) -> Entry:
    ticket_id, step_key, phase, email_hash, note_hash, plan, reply_id, note_id, started = row
    return Entry(
        str(ticket_id),
        str(step_key),
        Phase(phase),
        email_hash,
        str(note_hash),
        json.loads(plan),
        reply_id,
        note_id,
        float(started),
    )
