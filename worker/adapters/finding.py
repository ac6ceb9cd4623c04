"""How both adapters pick tickets out of what a helpdesk lists: the cancellation candidates on a
page of changed tickets (a worker tag, or keywords: PROCEDURE §1), so only they cost a read; a
requester's other tickets; a due ticket's deadline day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from worker.adapters.http import Json
from worker.config import Config, detection_settings
from worker.core.detection import detect
from worker.core.model import Channel, RelatedTicket


class Candidates:
    """A ticket the worker tagged is always one; any other, when detection finds a request in
    its subject or first message. Each helpdesk says how a listed ticket gives those two."""

    def __init__(
        self,
        config: Config,
        first_message: Callable[[Json], str],
        channel_of: Callable[[Json], Channel],
    ) -> None:
        self.config = config
        self.detection = detection_settings(config.detection)
        self.first_message = first_message
        self.channel_of = channel_of
        self.worker_tags = frozenset(
            {config.tags.cancellation, config.tags.linked, config.tags.review, config.tags.possible}
        )

    def __call__(self, ticket: Json) -> bool:
        tags = frozenset(ticket.get("tags") or ())
        if tags & self.worker_tags:
            return True
        found = detect(
            str(ticket.get("subject") or ""),
            self.first_message(ticket),
            self.channel_of(ticket),
            tags,
            self.config.tags.cancellation,
            self.detection,
        )
        return found is not None


def related_since(
    emails: Iterable[str], since: datetime, search: Callable[[str], Iterable[RelatedTicket]]
) -> tuple[RelatedTicket, ...]:
    """One `search` per person (e-mails compared trimmed and lower-case); the tickets created
    since `since`, each once, oldest first."""
    found: dict[str, RelatedTicket] = {}
    for email in sorted({e.strip().lower() for e in emails if e.strip()}):
        for ticket in search(email):
            if ticket.created_at >= since:
                found.setdefault(ticket.id, ticket)
    return tuple(sorted(found.values(), key=lambda t: (t.created_at, t.id)))


def day_of(text: str | None) -> date | None:
    """A date field's value (ISO, maybe with a time after it); anything else reads as none."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
