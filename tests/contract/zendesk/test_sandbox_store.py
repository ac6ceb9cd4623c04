"""The sandbox's state in SQLite: a file keeps the account across restarts, a failed call leaves
nothing behind, a snapshot brings the account back; and seeding from a fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import Clock
from worker.sandbox import FakeZendesk, RateLimits
from worker.sandbox.seed import Fixture, FixtureError, load_fixture, seed

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "tests" / "fixtures" / "sandbox-demo.yaml"
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def open_fake(clock: Clock, database: Path | str = ":memory:") -> FakeZendesk:
    return FakeZendesk(clock=clock, limits=RateLimits.off(), database=database)


def busy_account(fake: FakeZendesk) -> tuple[int, int]:
    account = fake.add_organization("Ana Souza", {"documento": "529.982.247-25"})
    ana = fake.add_user("Ana Souza", "ana@exemplo.com.br", organization_ids=[account])
    waiting = fake.add_custom_status("Aguardando retorno do cliente", "pending")
    ticket = fake.add_ticket(ana, "Cancelamento", "Quero cancelar.", tags=["cancelamento"])
    fake.agent_updates(
        ticket,
        comment={"body": "Enviamos o e-mail.", "public": True, "author_id": fake.worker_id},
        custom_status_id=waiting,
    )
    return ticket, ana


def test_a_file_database_restores_the_whole_account_after_a_restart(tmp_path: Path) -> None:
    clock = Clock(START)
    path = tmp_path / "sandbox.db"
    first = open_fake(clock, path)
    ticket, ana = busy_account(first)
    before = (first.ticket(ticket), first.comments(ticket), list(first.outbox))
    ids = (first.worker_id, first.agent_id, first.status_id("Aguardando retorno do cliente"))
    first.close()

    clock.now += timedelta(hours=1)
    again = open_fake(clock, path)
    assert (again.ticket(ticket), again.comments(ticket), list(again.outbox)) == before
    assert (again.worker_id, again.agent_id) == ids[:2]
    assert again.status_id("Aguardando retorno do cliente") == ids[2]
    assert again.store.user_by_email("ANA@exemplo.com.br") is not None
    assert again.store.organization_ids_of(ana) == list(again.store.organizations)
    # ids go on from where they were: nothing is reused
    newer = again.add_ticket(ana, "Outro", "Mais uma coisa")
    assert newer == ticket + 1
    again.customer_replies(ticket, "Pode cancelar.")
    assert again.ticket(ticket)["status"] == "open"
    assert again.comments(ticket)[-1]["id"] > before[1][-1]["id"]
    again.close()
    assert len(open_fake(clock, path).comments(ticket)) == 3


def test_the_default_database_is_in_memory_and_private_to_each_fake() -> None:
    clock = Clock(START)
    one, two = open_fake(clock), open_fake(clock)
    busy_account(one)
    assert one.store.db.path == ":memory:"
    assert two.store.tickets == {} and len(one.store.tickets) == 1


def test_a_refused_call_leaves_nothing_in_the_database(tmp_path: Path) -> None:
    clock = Clock(START)
    path = tmp_path / "sandbox.db"
    fake = open_fake(clock, path)
    ticket, _ = busy_account(fake)
    before = fake.ticket(ticket)
    with pytest.raises(ValueError):
        fake.agent_updates(ticket, tags=["x"], custom_status_id=999)
    with pytest.raises(FixtureError):  # the second user's organization is unknown: nothing kept
        seed(
            fake,
            Fixture.model_validate(
                {
                    "users": [
                        {"name": "B", "email": "b@exemplo.com.br"},
                        {"name": "C", "email": "c@exemplo.com.br", "organizations": ["Nenhuma"]},
                    ]
                }
            ),
        )
    assert fake.store.user_by_email("b@exemplo.com.br") is None
    fake.close()
    again = open_fake(clock, path)
    assert again.ticket(ticket) == before
    assert again.store.user_by_email("b@exemplo.com.br") is None


def test_a_snapshot_brings_the_account_back(tmp_path: Path) -> None:
    fake = open_fake(Clock(START), tmp_path / "sandbox.db")
    ticket, _ = busy_account(fake)
    snapshot = fake.store.snapshot()
    fake.customer_replies(ticket, "Desisti, não cancelem.")
    fake.add_ticket(fake.agent_id, "Interno", "Teste")
    fake.store.restore(snapshot)
    assert len(fake.comments(ticket)) == 2 and list(fake.store.tickets) == [ticket]
    assert fake.add_ticket(fake.agent_id, "Interno", "Teste") == ticket + 1


def test_the_demo_fixture_seeds_a_pf_a_pj_with_two_partners_and_a_third_party() -> None:
    fixture = load_fixture(DEMO)
    fake = open_fake(Clock(START))
    seeded = seed(fake, fixture)
    assert fixture.now == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    pf, pj = (fake.store.organizations[i] for i in seeded.organizations.values())
    assert pf.organization_fields["documento"] == "529.982.247-25"
    assert pj.organization_fields["documento"] == "11.222.333/0001-81"
    partners = [
        fake.store.users[u].name
        for u in fake.store.member_ids(pj.id)
        if fake.store.users[u].user_fields.get("socio_administrador")
    ]
    assert partners == ["Bruno Lima", "Carla Mendes"]
    # an e-mail from an address no user has becomes a new end-user, as on Zendesk
    company = fake.store.user_by_email("contato@paodourado.exemplo.com.br")
    assert company is not None and company.role == "end-user"
    tickets = [fake.ticket(t) for t in seeded.tickets]
    assert [t["requester_id"] for t in tickets][1] == company.id
    assert tickets[0]["created_at"] == "2026-12-07T11:30:00Z"
    assert tickets[0]["tags"] == ["cancelamento"]
    # fields the fixture uses are defined, so the API lists them like Zendesk does
    assert {d["key"]: d["type"] for d in fake.store.user_fields} == {
        "titular": "checkbox",
        "socio_administrador": "checkbox",
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("users: [{name: A}]", "users.0.email: Field required"),
        ("tickets: [{requester: a@b.c, subject: s, description: d, status: gone}]", "status"),
        ("organizations: [{name: A, colour: blue}]", "colour: Extra inputs"),
        ("faults: {error_rate: 2}", "faults.error_rate"),
        ("users: [", "while parsing"),
    ],
)
def test_a_bad_fixture_says_where(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "fixture.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FixtureError, match=problem):
        load_fixture(path)


def test_a_json_fixture_works_too(tmp_path: Path) -> None:
    path = tmp_path / "fixture.json"
    path.write_text('{"organizations": [{"name": "X", "fields": {"documento": "1"}}]}')
    fake = open_fake(Clock(START))
    assert list(seed(fake, load_fixture(path)).organizations) == ["X"]
