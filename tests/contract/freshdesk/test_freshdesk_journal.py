"""Crash injection: a step cut between any two of its calls, then a restart (a new adapter on
the same journal file), leaves exactly one reply and one note, and the ticket updated.

The fake below keeps one ticket's state the way Freshdesk would: replies and notes are
conversations, every write moves `updated_at`. A fault either stops the process before a call
reaches Freshdesk or after Freshdesk applied it but before its answer came back."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from tests.fakes.clock import Sleeps
from tests.fakes.freshdesk_wire import (
    API,
    BASE,
    CUSTOMER_ID,
    WAITING,
    WORKER_ID,
    account_fields,
    conversation,
    step,
    ticket,
)
from worker.adapters.freshdesk.adapter import FreshdeskHelpdesk
from worker.adapters.freshdesk.http import Credentials, FreshdeskClient
from worker.adapters.freshdesk.journal import Journal, Phase
from worker.adapters.freshdesk.settings import Freshdesk as FreshdeskSettings
from worker.config import Config
from worker.core.effects import FieldKey, TargetStatus
from worker.ports import OutgoingEmail, RenderedStep, StaleTicket, TicketGone

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dies: nothing in the worker catches this."""


@dataclass
class FakeFreshdesk:
    now: datetime = START
    ticket: dict[str, Any] = field(default_factory=lambda: ticket(71, requester=False))
    conversations: list[dict[str, Any]] = field(default_factory=list)
    fault: tuple[str, str] | None = None  # (call, "before" | "after")
    failing: tuple[str, int] | None = None  # (call, status): applied, then an error answer
    next_id: int = 500

    def tick(self) -> str:
        self.now += timedelta(seconds=1)
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.ticket["updated_at"] = stamp
        return stamp

    def wall(self) -> float:
        return self.now.timestamp()

    def by(self, private: bool) -> list[dict[str, Any]]:
        return [
            c for c in self.conversations if c["user_id"] == WORKER_ID and c["private"] is private
        ]

    def _fault(self, call: str, moment: str) -> None:
        if self.fault == (call, moment):
            self.fault = None
            raise Crash(f"{call} {moment}")

    def _write(self, call: str, apply: Any) -> tuple[int, dict[str, str], str]:
        self._fault(call, "before")
        answer = apply()
        self._fault(call, "after")
        if self.failing is not None and self.failing[0] == call:
            status, self.failing = self.failing[1], None
            return status, {}, "{}"
        return 200 if call == "put" else 201, {}, json.dumps(answer)

    def post(self, request: Any, *, private: bool) -> tuple[int, dict[str, str], str]:
        def apply() -> dict[str, Any]:
            body = json.loads(request.body)
            self.next_id += 1
            stamp = self.tick()
            made = conversation(
                self.next_id, WORKER_ID, body["body"], private=private, created_at=stamp
            )
            made["cc_emails"] = body.get("cc_emails", [])
            self.conversations.append(made)
            return made

        return self._write("note" if private else "reply", apply)

    def put(self, request: Any) -> tuple[int, dict[str, str], str]:
        def apply() -> dict[str, Any]:
            self.ticket.update(json.loads(request.body))
            self.tick()
            return dict(self.ticket)

        return self._write("put", apply)

    def register(self, mock: responses.RequestsMock) -> None:
        account_fields(mock)
        mock.add_callback(
            responses.GET,
            f"{API}/tickets/71",
            callback=lambda r: (200, {}, json.dumps(self.ticket)),
        )
        mock.add_callback(
            responses.GET,
            f"{API}/tickets/71/conversations",
            callback=lambda r: (200, {}, json.dumps(self.conversations)),
        )
        mock.add_callback(
            responses.POST,
            f"{API}/tickets/71/reply",
            callback=lambda r: self.post(r, private=False),
        )
        mock.add_callback(
            responses.POST, f"{API}/tickets/71/notes", callback=lambda r: self.post(r, private=True)
        )
        mock.add_callback(responses.PUT, f"{API}/tickets/71", callback=self.put)
        mock.add_callback(
            responses.GET,
            re.compile(f"{API}/contacts/{CUSTOMER_ID}"),
            callback=lambda r: (200, {}, json.dumps({"id": CUSTOMER_ID, "email": "c@x.com.br"})),
        )


def adapter(fake: FakeFreshdesk, journal: Path) -> FreshdeskHelpdesk:
    sleeps = Sleeps()
    client = FreshdeskClient(
        Credentials(BASE, "k"),
        FreshdeskSettings(),
        sleep=sleeps,
        clock=sleeps.clock,
        jitter=lambda a, b: 0.0,
    )
    return FreshdeskHelpdesk(client, Config(), journal, monotonic=lambda: 0.0, wall_clock=fake.wall)


def email_step() -> RenderedStep:
    return step(
        key="5:email-contato",
        note='Contato enviado.\n\n[cancelamento-worker] {"passo":"5:email-contato"}',
        email=OutgoingEmail("texto", "<p>texto</p>", ("socia@cliente.com.br",)),
        status=TargetStatus.WAITING_CUSTOMER,
        fields={FieldKey.DEADLINE: "2026-12-09"},
        add_tags=frozenset({"cancelamento-aguardando"}),
    )


def phase_of(journal: Journal, key: str = "5:email-contato") -> Phase | None:
    entry = journal.find("71", key)
    return entry.phase if entry is not None else None


def noted(desk: FreshdeskHelpdesk, key: str) -> bool:
    """What the engine sees: a worker note with the step's marker means the step is done."""
    snapshot = desk.read_ticket("71")
    return any(f'"passo":"{key}"' in c.body for c in snapshot.comments if not c.public)


def run_to_the_end(fake: FakeFreshdesk, journal: Path, the_step: RenderedStep) -> None:
    """A restart: a new adapter, whose recovery (the shell calls it first) finishes alone what
    needs no decision; the engine decides the same step again unless its note is there."""
    desk = adapter(fake, journal)
    desk.recover()
    if not noted(desk, the_step.key):
        desk.apply_step(desk.read_ticket("71"), the_step)


CUTS = [(call, moment) for call in ("reply", "note", "put") for moment in ("before", "after")]


def crashes_during(fake: FakeFreshdesk, journal: Path, call: str, moment: str) -> None:
    """The contact step is cut at `call` (`moment` it arrives) and the process dies."""
    desk = adapter(fake, journal)
    read = desk.read_ticket("71")
    fake.fault = (call, moment)
    with pytest.raises(Crash):
        desk.apply_step(read, email_step())
    desk.journal.close()


@pytest.mark.parametrize(("call", "moment"), CUTS)
def test_a_cut_anywhere_leaves_one_reply_one_note_and_the_update(
    tmp_path: Path, call: str, moment: str
) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "freshdesk-journal.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        crashes_during(fake, journal, call, moment)
        run_to_the_end(fake, journal, email_step())
    assert len(fake.by(private=False)) == 1
    assert fake.by(private=False)[0]["cc_emails"] == ["socia@cliente.com.br"]
    assert len(fake.by(private=True)) == 1
    assert fake.ticket["status"] == WAITING
    assert fake.ticket["custom_fields"]["cf_prazo_do_retorno"] == "2026-12-09"
    assert "cancelamento-aguardando" in fake.ticket["tags"]
    assert phase_of(Journal(journal)) is Phase.DONE


@pytest.mark.parametrize(("call", "moment"), [c for c in CUTS if c[0] != "reply"])
def test_a_step_without_email_is_cut_and_finished_the_same_way(
    tmp_path: Path, call: str, moment: str
) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        read = desk.read_ticket("71")
        fake.fault = (call, moment)
        with pytest.raises(Crash):
            desk.apply_step(read, step())
        run_to_the_end(fake, journal, step())
    assert len(fake.by(private=True)) == 1 and not fake.by(private=False)
    assert fake.ticket["custom_fields"]["cf_tentativas_de_ligacao"] == 1


def test_a_server_error_after_the_reply_arrived_sends_no_second_email(tmp_path: Path) -> None:
    """A 5xx on a POST is not retried (it may have arrived); the next attempt finds the reply
    among the conversations and goes on with the note."""
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        fake.failing = ("reply", 502)
        with pytest.raises(Exception, match="502"):
            desk.apply_step(desk.read_ticket("71"), email_step())
        assert phase_of(desk.journal) is Phase.REPLYING
        desk.apply_step(desk.read_ticket("71"), email_step())  # the next poll, same process
    assert len(fake.by(private=False)) == 1 and len(fake.by(private=True)) == 1


def test_a_refused_reply_withdraws_its_intent(tmp_path: Path) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        mock.replace(
            responses.POST,
            f"{API}/tickets/71/reply",
            status=400,
            json={
                "description": "Validation failed",
                "errors": [{"field": "cc_emails", "message": "invalid", "code": "invalid_value"}],
            },
        )
        desk = adapter(fake, journal)
        with pytest.raises(Exception, match="cc_emails"):
            desk.apply_step(desk.read_ticket("71"), email_step())
    assert phase_of(desk.journal) is Phase.PLANNED


def test_a_step_finished_before_is_never_written_again(tmp_path: Path) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        desk.apply_step(desk.read_ticket("71"), email_step())
        again = adapter(fake, journal)
        again.apply_step(again.read_ticket("71"), email_step())
    assert len(fake.by(private=False)) == 1 and len(fake.by(private=True)) == 1


def test_the_first_poll_finishes_cut_updates_before_anything_else(tmp_path: Path) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        fake.fault = ("put", "before")
        with pytest.raises(Crash):
            desk.apply_step(desk.read_ticket("71"), email_step())
        mock.get(f"{API}/tickets", json=[])
        again = adapter(fake, journal)
        again.recover()  # what the shell's poll does first
        assert again.changed_tickets(None, START).ticket_ids == ()
    assert fake.ticket["status"] == WAITING


def test_the_journal_keeps_no_text_nor_address(tmp_path: Path) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        desk.apply_step(desk.read_ticket("71"), email_step())
    dump = "\n".join(sqlite3.connect(journal).iterdump())
    assert "socia@" not in dump and "texto" not in dump and "Contato enviado" not in dump
    assert "5:email-contato" in dump


@pytest.mark.parametrize("flag", ["deleted", "spam"])
@pytest.mark.parametrize(("call", "moment"), [("note", "before"), ("put", "before")])
def test_a_cut_step_of_a_ticket_deleted_or_marked_as_spam_since_is_closed(
    tmp_path: Path, flag: str, call: str, moment: str
) -> None:
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        crashes_during(fake, journal, call, moment)
        fake.ticket[flag] = True  # an agent moved it to the trash, or marked it as spam
        written = len(fake.conversations), dict(fake.ticket)
        mock.get(f"{API}/tickets", json=[])  # the list leaves such tickets out
        again = adapter(fake, journal)
        again.recover()  # the first poll's recovery settles the journal
        assert again.journal.unfinished() == [], "closed, not left waiting forever"
        with pytest.raises(TicketGone):
            again.read_ticket("71")
    assert (len(fake.conversations), fake.ticket) == written, "nothing written to it"


def writes(mock: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method} {c.request.url}" for c in mock.calls if c.request.method != "GET"]


def test_reading_a_ticket_whose_step_was_cut_writes_nothing_and_recovery_finishes_it_once(
    tmp_path: Path,
) -> None:
    """Reads never write (a dry run, explain and report read through them): the update a crash
    cut waits for `recover`, which the shell calls at the start of a run, and is written once."""
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        crashes_during(fake, journal, "put", "before")  # the note is there, the update is not
        mock.get(f"{API}/tickets", json=[])
        desk = adapter(fake, journal)
        before = len(writes(mock))
        desk.read_ticket("71")
        desk.changed_tickets(None, START)
        assert writes(mock)[before:] == [], "a read wrote"
        assert phase_of(desk.journal) is Phase.NOTED
        assert desk.recover() == 1
        assert desk.recover() == 0
        assert writes(mock)[before:] == [f"PUT {API}/tickets/71"]
    assert fake.ticket["status"] == WAITING
    assert phase_of(Journal(journal)) is Phase.DONE


def test_a_reply_whose_note_never_followed_is_named_on_the_read_by_its_journal_row(
    tmp_path: Path,
) -> None:
    """The engine decides on it (`core/unnoted.py`): the read says which step sent it."""
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        crashes_during(fake, journal, "reply", "after")  # the reply arrived, its answer did not
        assert adapter(fake, journal).read_ticket("71").unnoted_email == "5:email-contato"
        for suffix in ("", "-wal", "-shm"):  # the journal lost: only the number is known
            Path(f"{journal}{suffix}").unlink(missing_ok=True)
        assert adapter(fake, journal).read_ticket("71").unnoted_email == "1"


def test_an_earlier_steps_cut_update_is_written_before_a_later_step_which_is_decided_again(
    tmp_path: Path,
) -> None:
    """Within a run (before the next recovery), a later step of the same ticket must never be
    overwritten by an earlier step's update finished after it."""
    fake = FakeFreshdesk()
    journal = tmp_path / "j.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        desk = adapter(fake, journal)
        fake.fault = ("put", "before")  # the step's update is cut; the process goes on
        with pytest.raises(Crash):
            desk.apply_step(desk.read_ticket("71"), email_step())
        assert phase_of(desk.journal) is Phase.NOTED
        with pytest.raises(StaleTicket):
            desk.apply_step(desk.read_ticket("71"), step(key="6:tentativa"))
        assert phase_of(desk.journal) is Phase.DONE
        assert phase_of(desk.journal, "6:tentativa") is None, "decided again, then written"
