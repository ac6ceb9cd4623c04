"""The account's tickets the worker already knows, so that "which tickets did these people open
since then?" (CONTRACT 4 and 16) costs no search when the answer is at hand.

The adapter's one memory of related tickets. Two sources, both read anyway: the sweep's hourly
listing of every open cancellation ticket, and the poll's export pages, which carry every ticket
that changed (a new one included), not only the candidates. So the worker knows (1) every open
cancellation ticket, once a listing has completed, and (2) every ticket created since its export
coverage began (the look-back or the place it resumed from), kept for `RECENT_DAYS`. Both are
current only once the export has caught up (its last page read): while more pages wait, a ticket
on one of them may be missing, and the search answers instead. Either way as fresh as a search,
whose index lags by minutes.

Besides, the last search per person (`searched`): the engine asks about the same people more
than once in a decision (open cancellations over a year, then every ticket since this one was
opened), and a search answers every later question about that person over a shorter period,
until the adapter writes or reads a new page (`forget_searches`): never stale beyond the poll.

Pure bookkeeping, no I/O. Kept per ticket: id, requester, subject, first message, creation,
tags, status and `via` (who really wrote it), for the few days kept: what a related ticket
needs (CONTRACT 16), as a search result would give it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from worker.adapters.http import Json
from worker.adapters.records import timestamp

RECENT_DAYS = 3  # new tickets kept; a question about longer ago is searched
FINAL = ("solved", "closed", "deleted")
# what a related ticket is made of (mapping.related), `via` for who really wrote it (trust)
_KEPT = ("id", "requester_id", "subject", "description", "created_at", "tags", "status", "via")


class KnownTickets:
    def __init__(self, tag: str, recent_days: float = RECENT_DAYS) -> None:
        self.tag = tag
        self.window = timedelta(days=recent_days)
        self.listed = False  # a listing of every open cancellation completed
        self.caught_up = False  # the export's last page was read: nothing changed is pending
        self.covered_since: datetime | None = None  # every ticket created since is in `_recent`
        self._open: dict[str, Json] = {}
        self._recent: dict[str, Json] = {}
        self._searches: dict[str, tuple[datetime, list[Json]]] = {}  # by e-mail

    def cover_from(self, moment: datetime) -> None:
        """The export starts at `moment`: every ticket created since will be on its pages."""
        if self.covered_since is None:
            self.covered_since = moment

    def seen(self, ticket: Json) -> None:
        """A ticket as Zendesk showed it: a listing, an export page, a write's answer."""
        ticket_id = str(ticket["id"])
        status = ticket.get("status")
        kept = {key: ticket.get(key) for key in _KEPT}
        if self.tag in (ticket.get("tags") or ()) and status not in FINAL:
            self._open[ticket_id] = {**kept, "description": ""}  # not needed for linking
        else:
            self._open.pop(ticket_id, None)
        if status == "deleted":
            self._recent.pop(ticket_id, None)
        elif ticket_id in self._recent or self._covers(ticket.get("created_at")):
            self._recent[ticket_id] = kept

    def prune(self, now: datetime) -> None:
        """New tickets older than the window are forgotten, and coverage shrinks with them."""
        horizon = now - self.window
        if self.covered_since is not None and self.covered_since < horizon:
            self.covered_since = horizon
        for ticket_id in [i for i, t in self._recent.items() if not self._covers(t["created_at"])]:
            del self._recent[ticket_id]

    def requested_by(
        self, user_id: str, since: datetime, *, open_cancellations: bool
    ) -> list[Json] | None:
        """The tickets `user_id` opened since `since`, or None when that is not known: every
        ticket, or with `open_cancellations` at least the unresolved cancellation ones."""
        if not self.caught_up:
            return None
        if open_cancellations and self.listed:
            source = self._open
        elif self.covered_since is not None and since >= self.covered_since:
            source = self._recent
        else:
            return None
        return [
            ticket
            for ticket in source.values()
            if str(ticket.get("requester_id")) == user_id
            and timestamp(ticket["created_at"]) >= since
        ]

    def searched(self, email: str, since: datetime, found: list[Json]) -> None:
        """What a search for `email`'s tickets created since `since` answered."""
        self._searches[email] = (since, found)

    def search_answer(self, email: str, since: datetime) -> list[Json] | None:
        """The tickets of `email` created since `since`, when a search since then or earlier
        answered it; None otherwise."""
        earlier = self._searches.get(email)
        if earlier is None or earlier[0] > since:
            return None
        return [ticket for ticket in earlier[1] if timestamp(ticket["created_at"]) >= since]

    def forget_searches(self) -> None:
        """A write or a new page: the next question is searched again."""
        self._searches.clear()

    def __len__(self) -> int:
        return len(self._open) + len(self._recent)

    def _covers(self, created_at: object) -> bool:
        if self.covered_since is None or not created_at:
            return False
        try:
            return timestamp(created_at) >= self.covered_since
        except ValueError:
            return False
