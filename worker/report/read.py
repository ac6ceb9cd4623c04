"""The period's cancellation tickets, read through the port like a poll that writes nothing.

`changed_tickets` from the period's start lists every candidate changed since, which includes
every ticket created since (a ticket is changed when it is created); those created after the
period are dropped once read. It reuses the adapters' paced, retrying reads, so a report never
costs the account more than its rate limit allows and needs no new helpdesk permission.
"""

from __future__ import annotations

from datetime import datetime

from worker.core.model import Ticket
from worker.ports import Helpdesk, TicketGone


def tickets_created(helpdesk: Helpdesk, since: datetime, until: datetime) -> list[Ticket]:
    """Candidates created in [since, until); each read once, in the order the helpdesk lists."""
    seen: set[str] = set()
    found: list[Ticket] = []
    cursor: str | None = None
    while True:
        page = helpdesk.changed_tickets(cursor, since)
        for ticket_id in page.ticket_ids:
            if ticket_id in seen:
                continue
            seen.add(ticket_id)
            try:
                ticket = helpdesk.read_ticket(ticket_id, page.headers.get(ticket_id))
            except TicketGone:
                continue
            if since <= ticket.created_at < until:
                found.append(ticket)
        if not page.more or page.cursor == cursor:
            return found
        cursor = page.cursor
