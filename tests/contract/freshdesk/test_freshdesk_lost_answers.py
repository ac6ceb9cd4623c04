"""Exactly once on Freshdesk, whatever is lost: a write applied whose answer never came back
(timeout, reset, 5xx), the worker dying before or after any call of a step, and the journal
lost with it (deleted, emptied, restored without its -wal). Each case ends with one contact
e-mail and one note for its step, on the strict fake, through the real worker.

The step is the third failed call's: the contact e-mail (reply), its note, then the update
(waiting status, deadline, tags)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.freshdesk import FreshdeskWorld
from tests.fakes.freshdesk_fake import Crash
from tests.fakes.world import person
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
from worker.adapters.freshdesk.http import FreshdeskClient
from worker.adapters.freshdesk.journal import JournalUnusable
from worker.config import Config

MARIA = person("Maria Souza", "maria@exemplo.com.br")
REPLY, NOTE, UPDATE = (
    ("POST", r"/tickets/\d+/reply"),
    ("POST", r"/tickets/\d+/notes"),
    (
        "PUT",
        r"/tickets/\d+",
    ),
)
CALLS = {"reply": REPLY, "note": NOTE, "update": UPDATE}


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "state" / "freshdesk-journal.sqlite3"


@pytest.fixture
def world(journal: Path) -> Iterator[FreshdeskWorld]:
    world = FreshdeskWorld(journal=journal)
    yield world
    world.close()


def two_failed_calls(world: FreshdeskWorld) -> str:
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    for _ in range(2):
        world.agent_says(ticket, "#tentativa")
        world.later(hours=1)
        world.poll()
    world.agent_says(ticket, "#tentativa")  # the third: the contact e-mail is owed
    world.later(hours=1)
    return ticket


def poll_through_a_crash(world: FreshdeskWorld) -> None:
    with pytest.raises(Crash):
        world.poll()


def assert_exactly_once(world: FreshdeskWorld, ticket: str) -> None:
    for _ in range(2):  # and nothing more on the polls after
        world.later(minutes=5)
        world.poll()
    assert world.email_templates(ticket) == ["email-contato"]
    steps = [c.body for c in world.ticket(ticket).comments if '"passo":"5:email-contato"' in c.body]
    assert len(steps) == 1, steps
    assert len(world.notes(ticket)) == 5  # inicio, three calls, the contact e-mail's
    assert world.status(ticket) == "Aguardando retorno do cliente"
    assert world.ticket(ticket).fields["deadline"] == "2026-12-09"
    assert world.config.tags.review not in world.ticket(ticket).tags


@pytest.mark.parametrize("kind", ["timeout", "reset", "5xx"])
@pytest.mark.parametrize("call", ["reply", "note", "update"])
def test_a_lost_answer_on_any_call_of_a_step_sends_one_email_and_one_note(
    world: FreshdeskWorld, call: str, kind: str
) -> None:
    ticket = two_failed_calls(world)
    world.fake.lose_answer(*CALLS[call], kind)
    world.poll()
    assert_exactly_once(world, ticket)


@pytest.mark.parametrize("kind", ["crash-before", "crash"])
@pytest.mark.parametrize("call", ["reply", "note", "update"])
def test_the_worker_dying_before_or_after_any_call_sends_one_email_and_one_note(
    world: FreshdeskWorld, call: str, kind: str
) -> None:
    ticket = two_failed_calls(world)
    world.fake.lose_answer(*CALLS[call], kind)
    poll_through_a_crash(world)
    world.restart()
    assert_exactly_once(world, ticket)


def lose(journal: Path, how: str) -> None:
    """What a careless operator or backup does to the journal while the worker is down."""
    if how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{journal}{suffix}").unlink(missing_ok=True)
    elif how == "emptied":
        journal.write_bytes(b"")
        for suffix in ("-wal", "-shm"):
            Path(f"{journal}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_the_journal_lost_between_the_reply_and_its_note_sends_no_second_email(
    world: FreshdeskWorld, journal: Path, how: str
) -> None:
    ticket = two_failed_calls(world)
    world.fake.lose_answer(*REPLY, "crash")
    poll_through_a_crash(world)
    world.die()
    lose(journal, how)
    world.restart()
    assert_exactly_once(world, ticket)


def test_a_reply_freshdesk_wrapped_and_signed_is_still_recognised_as_the_steps(
    world: FreshdeskWorld, journal: Path
) -> None:
    world.fake.reply_signature = "<div><br>--<br>Equipe de Suporte</div>"
    ticket = two_failed_calls(world)
    world.fake.lose_answer(*REPLY, "crash")
    poll_through_a_crash(world)
    world.die()
    lose(journal, "deleted")
    world.restart()
    assert_exactly_once(world, ticket)
    assert world.config.tags.review not in world.ticket(ticket).tags


def test_the_journal_restored_without_its_wal_sends_no_second_email(
    world: FreshdeskWorld, journal: Path, tmp_path: Path
) -> None:
    """A naive backup copies the main file only: the rows still in the -wal are lost."""
    ticket = two_failed_calls(world)
    backup = tmp_path / "backup.sqlite3"
    shutil.copyfile(journal, backup)  # the journal as the last checkpoint left it
    world.fake.lose_answer(*REPLY, "crash")
    poll_through_a_crash(world)
    world.journal = backup
    world.restart()
    assert_exactly_once(world, ticket)


@pytest.mark.parametrize("broken", ["corrupt", "directory"])
def test_a_broken_journal_is_one_clear_error_naming_the_file_and_what_to_do(
    tmp_path: Path, broken: str
) -> None:
    path = tmp_path / "freshdesk-journal.sqlite3"
    if broken == "corrupt":
        path.write_bytes(b"this is not a database, it was overwritten by something else" * 100)
    else:
        path.mkdir()
    client = FreshdeskClient.__new__(FreshdeskClient)  # never used: the journal opens first
    with pytest.raises(JournalUnusable) as failure:
        FreshdeskHelpdesk(client, Config(), path)
    message = str(failure.value)
    assert str(path) in message and "move it aside" in message
    assert "Traceback" not in message


def test_an_email_whose_step_was_decided_differently_since_is_flagged_not_resent(
    world: FreshdeskWorld,
) -> None:
    """The journal lost, a reply of the worker with no note after it, and the step written
    now is another one: nothing is sent again, and an agent is asked to look."""
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    world.fake.worker_replies(int(ticket), "<p>Um e-mail cujo passo não chegou a ser anotado.</p>")
    world.agent_says(ticket, "#tentativa")
    world.poll()
    assert world.config.tags.review in world.ticket(ticket).tags
    assert len(world.fake.outbox) == 1  # only the reply put there above


def test_a_dry_run_leaves_a_cut_update_as_it_is_and_the_next_run_finishes_it_once(
    world: FreshdeskWorld,
) -> None:
    """Reads never write: the dry run reads the ticket whose update a crash cut and writes
    nothing; the next run that writes recovers it first thing, with one update."""
    ticket = two_failed_calls(world)
    world.fake.lose_answer(*UPDATE, "crash-before")
    poll_through_a_crash(world)
    world.restart()
    world.worker.dry_run = True
    before = len(world.fake.requests)
    world.poll()
    assert [r for r in world.fake.requests[before:] if r[0] != "GET"] == []
    world.worker.dry_run = False
    world.poll()
    written = [r for r in world.fake.requests[before:] if r[0] != "GET"]
    # the third call's update first, then the contact e-mail's step: reply, note, update
    assert written == [
        ("PUT", f"/api/v2/tickets/{ticket}"),
        ("POST", f"/api/v2/tickets/{ticket}/reply"),
        ("POST", f"/api/v2/tickets/{ticket}/notes"),
        ("PUT", f"/api/v2/tickets/{ticket}"),
    ]
    assert_exactly_once(world, ticket)
