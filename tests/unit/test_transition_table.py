"""The procedure's transition table (`worker/core/procedure/table.py`): the engine takes only the
steps it declares, its rows agree with each other, and old tickets still read back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.world import World, person
from worker.core.effects import Email, FieldKey, Message, TargetStatus
from worker.core.procedure import table
from worker.core.procedure.table import RULES, TABLE, Change, UndeclaredStep, Where
from worker.core.state import Phase, ProcedureState, StepKey, StepKind, parse_marker

ROOT = Path(__file__).resolve().parents[2]
MARIA = person("Maria Souza", "maria@exemplo.com.br")

# Every kind a worker ever wrote on a ticket, as written: markers, step keys and Zendesk's sent
# tags carry them, so none may change or go.
WRITTEN_ON_TICKETS = {
    "em-andamento", "revisar", "possivel", "inicio", "vinculado", "pedido-nao-confiavel",
    "terceiro", "terceiro-reforco", "terceiro-loop", "tentativa", "email-contato", "revertido",
    "pedido-socios", "identidade", "confirmacao-socio", "socio-resposta-incerta",
    "cancelar-contrato", "contrato-cancelado-sistema", "contrato-falhou", "cancelado",
    "nao-cancelado", "prazo-socios", "cliente-respondeu", "mensagem", "mensagem-nao-confiavel",
    "recusa", "outros-tickets", "mensagem-outro-ticket", "mensagem-apos-encerramento", "manual",
    "retomar", "comando-invalido", "prazo-invalido",
}  # fmt: skip
OLD_MARKER = (
    '[cancelamento-worker] {"passo":"5:email-contato","refs":["c7.0"],"estado":{"phase":'
    '"aguardando_cliente","situation":"titular","attempts":3,"contact_email_sent":true,'
    '"deadline":"2026-12-10T00:00:00-03:00","waiting_since":"2026-12-07T12:00:00+00:00"}}'
)


def test_every_step_kind_keeps_the_name_old_tickets_carry() -> None:
    assert {kind.value for kind in StepKind} == WRITTEN_ON_TICKETS


def test_a_marker_written_by_the_old_worker_reads_back_the_same() -> None:
    marker = parse_marker(f"Contato enviado.\n\n{OLD_MARKER}")
    assert marker is not None
    assert marker.step == StepKey(5, StepKind.CONTACT_EMAIL)
    assert marker.state.phase is Phase.WAITING_CUSTOMER
    assert marker.render() == OLD_MARKER


@pytest.mark.parametrize("kind", list(StepKind))
def test_a_step_key_of_each_kind_reads_back_the_same(kind: StepKind) -> None:
    text = f"12:{kind.value}"
    assert str(StepKey.parse(text)) == text


def test_a_step_key_no_worker_wrote_is_refused() -> None:
    for text in ("5:", "x:inicio", "5:encerrar"):
        with pytest.raises(ValueError):
            StepKey.parse(text)


def test_every_step_kind_has_a_row() -> None:
    assert {row.kind for row in TABLE} == set(StepKind)


def test_rows_for_the_same_step_agree_on_its_status_and_e_mails() -> None:
    """The fold takes the status from whichever row matches: they must say the same."""
    for one, other in itertools.combinations(TABLE, 2):
        if one.kind is not other.kind:
            continue
        for before, after in itertools.product(one.phases & other.phases, Phase):
            if one.leads_to(before, after) and other.leads_to(before, after):
                assert (one.status, one.emails) == (other.status, other.emails), (one, other)


def test_every_e_mail_the_table_sends_is_a_template_with_a_label() -> None:
    named = {template for row in TABLE for template in row.emails}
    shipped = {
        f"emails/{path.name.removesuffix('.txt.j2')}"
        for path in (ROOT / "templates" / "emails").glob("*.txt.j2")
        if not path.name.startswith("_")
    }
    assert named == shipped
    assert named == set(table.EMAIL_LABELS)


def test_a_step_from_a_phase_the_table_does_not_name_is_refused(
    undeclared_steps: list[str],
) -> None:
    with pytest.raises(UndeclaredStep):
        table.transition(Phase.CALLING, StepKind.CANCELLED, Phase.DONE)
    undeclared_steps.clear()


def test_a_step_with_an_e_mail_its_row_does_not_send_is_refused(
    undeclared_steps: list[str],
) -> None:
    attempt = table.transition(Phase.CALLING, StepKind.ATTEMPT, Phase.CALLING)
    with pytest.raises(UndeclaredStep):
        table.check_email(attempt, Email(Message("emails/retained")))
    retained = table.transition(Phase.CALLING, StepKind.RETAINED, Phase.DONE)
    with pytest.raises(UndeclaredStep):
        table.check_email(retained, None)
    undeclared_steps.clear()


def test_the_engine_refuses_a_step_its_table_does_not_declare(
    monkeypatch: pytest.MonkeyPatch, undeclared_steps: list[str]
) -> None:
    """The table has teeth: without its #revertido rows, the agent's #revertido is not carried
    out (the shell tells an agent the ticket could not be decided) and nothing is sent."""
    world = World()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    without = tuple(row for row in TABLE if row.kind is not StepKind.RETAINED)
    monkeypatch.setattr(table, "TABLE", without)
    world.agent_says(ticket, "#revertido motivo: preço")
    assert world.poll().failed == [ticket]
    assert world.history(ticket).state.phase is Phase.CALLING
    assert world.emails(ticket) == []
    assert undeclared_steps and "revertido" in undeclared_steps[0]
    undeclared_steps.clear()


# --- the rules every step follows, one case each ----------------------------------------------

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def where(phase: Phase, **facts: object) -> Where:
    values: dict[str, object] = {
        "deadline_shown": None,
        "shows_waiting": False,
        "under_review": False,
        "ticket_id": "100",
        **facts,
    }
    return Where(after=ProcedureState(phase=phase), **values)  # type: ignore[arg-type]


def test_leaving_a_wait_clears_the_deadline_field() -> None:
    change = table.apply_rules(
        Change(None, (), ()), where(Phase.CALLING, deadline_shown="2026-12-09")
    )
    assert change.fields == ((FieldKey.DEADLINE, None),)


def test_a_step_during_a_wait_puts_the_waiting_status_back() -> None:
    change = table.apply_rules(Change(None, (), ()), where(Phase.WAITING_CUSTOMER))
    assert change.status is TargetStatus.WAITING_CUSTOMER


def test_a_ticket_under_review_is_never_resolved() -> None:
    change = table.apply_rules(
        Change(TargetStatus.SOLVED, (), ()), where(Phase.DONE, under_review=True)
    )
    assert change.status is TargetStatus.IN_PROGRESS


def test_a_recorded_contract_call_follows_its_note() -> None:
    after = ProcedureState(phase=Phase.CANCEL_PENDING, contract_key="zendesk-100-4")
    found = Where(after, None, False, False, "100")
    assert table.apply_rules(Change(None, (), ()), found).follow_ups == ("100",)


def test_every_rule_has_a_name_and_a_section() -> None:
    assert all(rule.name and rule.text and rule.section for rule in RULES)
