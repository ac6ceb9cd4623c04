"""What the Zendesk adapter knows of the account's tickets without a search (issue 17, item 3):
only what it has surely seen, and never while export pages are still waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.adapters.zendesk.known import KnownTickets

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ticket(
    ticket_id: int, created: datetime, *, tags: tuple[str, ...] = (), status: str = "new"
) -> dict[str, object]:
    return {
        "id": ticket_id,
        "requester_id": 7,
        "subject": "Oi",
        "description": "Confirmo o cancelamento.",
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "tags": list(tags),
        "status": status,
    }


def known_from_export() -> KnownTickets:
    known = KnownTickets("cancelamento")
    known.cover_from(START)
    return known


def test_tickets_created_since_the_export_began_are_known_once_it_has_caught_up() -> None:
    known = known_from_export()
    known.seen(ticket(1, START + timedelta(hours=1)))
    assert known.requested_by("7", START, open_cancellations=False) is None  # pages may wait
    known.caught_up = True
    found = known.requested_by("7", START, open_cancellations=False)
    assert [t["id"] for t in found or []] == [1]
    assert found and found[0]["description"] == "Confirmo o cancelamento."
    assert known.requested_by("8", START, open_cancellations=False) == []


def test_a_question_about_before_the_export_began_is_searched() -> None:
    known = known_from_export()
    known.caught_up = True
    assert known.requested_by("7", START - timedelta(days=1), open_cancellations=False) is None


def test_open_cancellations_are_known_after_a_listing_and_leave_when_solved() -> None:
    known = known_from_export()
    known.caught_up = True
    long_ago = START - timedelta(days=200)
    known.seen(ticket(1, long_ago, tags=("cancelamento",), status="open"))
    since = START - timedelta(days=365)
    assert known.requested_by("7", since, open_cancellations=True) is None  # not listed yet
    known.listed = True
    assert [t["id"] for t in known.requested_by("7", since, open_cancellations=True) or []] == [1]
    known.seen(ticket(1, long_ago, tags=("cancelamento",), status="solved"))
    assert known.requested_by("7", since, open_cancellations=True) == []


def test_new_tickets_are_kept_a_few_days_and_coverage_shrinks_with_them() -> None:
    known = known_from_export()
    known.caught_up = True
    known.seen(ticket(1, START + timedelta(minutes=5)))
    known.prune(START + timedelta(days=4))
    assert len(known) == 0
    assert known.requested_by("7", START, open_cancellations=False) is None


def test_who_really_wrote_a_known_ticket_is_kept_as_a_search_would_give_it() -> None:
    known = known_from_export()
    known.caught_up = True
    via = {"channel": "email", "source": {"from": {"address": "outro@fora.com"}}}
    known.seen({**ticket(1, START + timedelta(minutes=5)), "via": via})
    found = known.requested_by("7", START, open_cancellations=False)
    assert found and found[0]["via"] == via  # the trust verdict reads it (mapping.related)


def test_a_search_answers_later_questions_about_that_person_until_it_is_forgotten() -> None:
    """The engine asks about the same people over a year, then since this ticket was opened:
    one search answers both, until the adapter writes or reads a new page."""
    known = KnownTickets("cancelamento")
    found = [ticket(1, START - timedelta(days=200)), ticket(2, START + timedelta(hours=1))]
    known.searched("ana@cliente.com.br", START - timedelta(days=365), found)
    shorter = known.search_answer("ana@cliente.com.br", START)
    assert [t["id"] for t in shorter or []] == [2]
    assert known.search_answer("ana@cliente.com.br", START - timedelta(days=400)) is None
    assert known.search_answer("bia@cliente.com.br", START) is None
    known.forget_searches()
    assert known.search_answer("ana@cliente.com.br", START) is None
