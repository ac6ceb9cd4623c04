"""The fake account's records in SQLite: one table per kind of record.

Each row holds the record as JSON (`data`, written and read by pydantic from the dataclass) plus
the columns that are queried by (a user's e-mail, a membership's user and organization, a
ticket's `updated_at`), indexed. In memory by default; a file keeps the account across restarts.
No ORM: the Store decides when to write (`save`), this module only knows how.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS organizations (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, organization_id INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user_id);
CREATE INDEX IF NOT EXISTS memberships_by_organization ON memberships (organization_id);
CREATE TABLE IF NOT EXISTS custom_statuses (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket_fields (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_by_change ON tickets (updated_at, id);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY, collection TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL, data TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Table:
    """Where one record type lives: its table, and the indexed columns taken from a record."""

    name: str
    columns: tuple[str, ...] = ()


class Database:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        # one connection, used from the server's threads under the Store's lock
        self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)
        self.depth = 0

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nested calls join the outer transaction."""
        if self.depth == 0:
            self.connection.execute("BEGIN")
        self.depth += 1
        try:
            yield
        except BaseException:
            self.depth -= 1
            if self.depth == 0:
                self.connection.execute("ROLLBACK")
            raise
        self.depth -= 1
        if self.depth == 0:
            self.connection.execute("COMMIT")

    # --- rows ---------------------------------------------------------------------------------

    def write(self, table: Table, record_id: int, data: str, **columns: object) -> None:
        names = ("id", *table.columns, "data")
        values = (record_id, *(columns[c] for c in table.columns), data)
        marks = ", ".join("?" for _ in names)
        self.connection.execute(
            f"INSERT OR REPLACE INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values
        )

    def rows(self, table: str, where: str = "", *args: object) -> list[tuple[int, str]]:
        sql = f"SELECT id, data FROM {table} {where} ORDER BY id"
        return [(int(i), str(d)) for i, d in self.connection.execute(sql, args)]

    def ids(self, sql: str, *args: object) -> list[int]:
        return [int(row[0]) for row in self.connection.execute(sql, args)]

    def append(self, table: str, data: str, **columns: object) -> None:
        names = (*columns, "data")
        marks = ", ".join("?" for _ in names)
        self.connection.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", (*columns.values(), data)
        )

    # --- counters and flags -------------------------------------------------------------------

    def get_meta(self, key: str) -> int | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def set_meta(self, key: str, value: int) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
        )

    # --- whole-database copies (the admin endpoint's reset) ---------------------------------------

    def snapshot(self) -> sqlite3.Connection:
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        self.connection.backup(copy)
        return copy

    def restore(self, snapshot: sqlite3.Connection) -> None:
        snapshot.backup(self.connection)


class Codec:
    """A dataclass to and from the JSON in the `data` column."""

    def __init__(self, kind: type[Any]) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def dump(self, record: object) -> str:
        return self.adapter.dump_json(record).decode()

    def load(self, data: str) -> Any:
        return self.adapter.validate_json(data)
