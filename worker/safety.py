"""The operator's switches, checked before every write: a pause (configuration or a file in the
state directory), a cap on e-mails per run that trips the pause, and an allow-list for a careful
first roll-out. They sit in the shell, not in the procedure: they decide whether the worker may
act, never what the procedure is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from worker.config import Safety
from worker.core.model import Ticket

log = structlog.get_logger("worker")

PAUSE_FILE = "PAUSE"


class Paused(Exception):
    """No writes now; the message says why and how to resume."""


@dataclass
class Guard:
    settings: Safety
    pause_file: Path | None
    clock: Callable[[], datetime]
    # Whether this worker still holds the state directory's lock (InstanceLock.still_held).
    lock_held: Callable[[], bool] | None = None
    emails_this_run: int = field(default=0, init=False)

    def start_run(self) -> None:
        self.emails_this_run = 0

    def paused_reason(self) -> str | None:
        if self.settings.paused:
            return "safety.paused is true in the configuration"
        if self.pause_file is not None and self.pause_file.is_dir():
            return (
                f"{self.pause_file} is a directory: paused; delete it to resume (a pause is a file)"
            )
        if self.pause_file is not None and self.pause_file.exists():
            try:
                why = self.pause_file.read_text(encoding="utf-8").strip()
            except OSError:
                why = ""
            return f"{self.pause_file} exists" + (f" ({why})" if why else "")
        return None

    def allows(self, ticket: Ticket) -> bool:
        """The roll-out allow-list: with none configured, every ticket."""
        only = self.settings
        if not only.allow_list:
            return True
        return ticket.id in only.only_tickets or bool(ticket.tags & set(only.only_tags))

    def before_write(self, emails: bool) -> None:
        reason = self.paused_reason()
        if reason is not None:
            raise Paused(reason)
        if self.lock_held is not None and not self.lock_held():
            raise Paused(
                "the state directory was deleted or replaced while running, so another worker "
                "may hold it now; restart this one"
            )
        if emails and self.emails_this_run >= self.settings.max_emails_per_run:
            self.trip(
                f"{self.emails_this_run} e-mails in one run reached safety.max_emails_per_run"
            )

    def after_write(self, emails: bool) -> None:
        self.emails_this_run += emails

    def trip(self, why: str) -> None:
        """Pause until an operator looks: the file survives restarts, on purpose."""
        stamp = self.clock().isoformat(timespec="seconds")
        if self.pause_file is not None:
            try:
                self.pause_file.parent.mkdir(parents=True, exist_ok=True)
                self.pause_file.write_text(f"{stamp} {why}\n", encoding="utf-8")
            except OSError as problem:  # the pause holds for this run; the log says why
                log.error(
                    "could not write the PAUSE file", path=str(self.pause_file), error=str(problem)
                )
        log.error(
            "SAFETY PAUSE: the worker stopped writing",
            reason=why,
            resume=f"check the tickets, then delete {self.pause_file}"
            if self.pause_file
            else "restart",
        )
        raise Paused(why)
