"""Situação 1 end to end (PROCEDURE §3): the holder asks. Five tickets, one per branch, go
through the same runs of the real worker: retained; cancel, then `#contrato-cancelado`; no
answer from the registered e-mail; no answer from another address; the customer answers."""

from __future__ import annotations

import pytest

from tests.fakes.sandbox import IN_PROGRESS, THIRD_CALL_STEPS, WAITING, Sandbox

pytestmark = pytest.mark.e2e

CALLS = "#tentativa\n#tentativa\n#tentativa"


def test_every_branch_of_situation_1(sandbox: Sandbox) -> None:
    retained = sandbox.opens(sandbox.holder("Rita Alves", "rita@exemplo.com.br"))
    cancels = sandbox.opens(sandbox.holder("Caio Prado", "caio@exemplo.com.br"))
    silent = sandbox.opens(sandbox.holder("Sara Lima", "sara@exemplo.com.br"))
    elsewhere = sandbox.opens(
        sandbox.holder("Otto Reis", "otto.pessoal@exemplo.com.br", registered="otto@exemplo.com.br")
    )
    answers = sandbox.opens(sandbox.holder("Ana Melo", "ana@exemplo.com.br"))
    tickets = (retained, cancels, silent, elsewhere, answers)

    first = sandbox.run()  # Monday 09:02
    assert first.finished()["steps"] == 5
    for ticket in tickets:
        assert sandbox.steps(ticket) == ["1:inicio"]
        assert sandbox.status(ticket) == IN_PROGRESS
        assert sandbox.emails(ticket) == []
        assert sandbox.field(ticket, "Situação do cancelamento") == "cancelamento_situacao_titular"
    assert "Situação 1" in sandbox.notes(retained)[0]

    sandbox.agent_says(retained, "#revertido motivo: Preço - desconto de 10%")
    sandbox.agent_says(cancels, "#cancelar motivo: não usa mais")
    for ticket in (silent, elsewhere, answers):
        sandbox.agent_says(ticket, CALLS)
    sandbox.run()

    # Retained: e-mail, note, tag, resolved.
    sandbox.assert_whole(retained, ["1:inicio", "2:revertido"], ["revertido"])
    assert sandbox.status(retained) == "Solved"
    assert "cancelamento-revertido" in sandbox.tags(retained)
    assert "Preço - desconto de 10%" in sandbox.notes(retained)[-1]
    # Cancel, manual mode: tagged for an agent, nothing sent yet.
    assert "cancelamento-executar" in sandbox.tags(cancels)
    assert sandbox.emails(cancels) == []
    # Three failed calls: one note each, then the contact e-mail and its note.
    for ticket in (silent, elsewhere, answers):
        sandbox.assert_whole(ticket, THIRD_CALL_STEPS, ["email-contato"])
        assert sandbox.status(ticket) == WAITING
        assert sandbox.field(ticket, "Prazo do retorno") == "2026-12-09"
        assert "tentativa 3 de 3" in sandbox.notes(ticket)[-2]

    sandbox.agent_says(cancels, "#contrato-cancelado")
    sandbox.customer_replies(answers, "Podem me ligar amanhã às 10h?")
    sandbox.run()

    sandbox.assert_whole(cancels, ["1:inicio", "2:cancelar-contrato", "3:cancelado"], ["cancelado"])
    assert sandbox.status(cancels) == "Solved"
    assert "cancelamento-cancelado" in sandbox.tags(cancels)
    assert "cancelamento-executar" not in sandbox.tags(cancels)
    assert sandbox.steps(answers)[-1] == "6:cliente-respondeu"
    assert sandbox.status(answers) == IN_PROGRESS
    assert sandbox.field(answers, "Prazo do retorno") is None
    assert "Podem me ligar" in sandbox.notes(answers)[-1]

    sandbox.later(days=3)  # Thursday: Wednesday's deadline is over
    sandbox.run()

    # No answer, asked from the registered e-mail: cancel (an agent cancels the contract).
    assert sandbox.steps(silent)[-1] == "6:cancelar-contrato"
    assert "cancelamento-executar" in sandbox.tags(silent)
    assert "e-mail de cadastro" in sandbox.notes(silent)[-1]
    # No answer, asked from another address: not cancelled, told why, resolved.
    sandbox.assert_whole(
        elsewhere, [*THIRD_CALL_STEPS, "6:nao-cancelado"], ["email-contato", "nao-cancelado"]
    )
    assert sandbox.status(elsewhere) == "Solved"
    assert "cancelamento-nao-cancelado" in sandbox.tags(elsewhere)
    assert "cancelamento-executar" not in sandbox.tags(elsewhere)
    # The customer answered: no deadline runs any more.
    sandbox.assert_whole(answers, [*THIRD_CALL_STEPS, "6:cliente-respondeu"], ["email-contato"])

    sandbox.agent_says(silent, "#contrato-cancelado")
    last = sandbox.run()

    sandbox.assert_whole(
        silent,
        [*THIRD_CALL_STEPS, "6:cancelar-contrato", "7:cancelado"],
        ["email-contato", "cancelado"],
    )
    assert sandbox.status(silent) == "Solved"
    assert last.finished()["steps"] == 1, "nothing else changed: nothing else decided"


def test_an_auto_reply_leaves_the_ticket_waiting(sandbox: Sandbox) -> None:
    ticket = sandbox.opens(sandbox.holder("Sara Lima", "sara@exemplo.com.br"))
    sandbox.agent_says(ticket, CALLS)
    sandbox.run()
    assert sandbox.steps(ticket)[-1] == "5:email-contato"
    assert sandbox.status(ticket) == WAITING

    sandbox.customer_replies(ticket, "Resposta automática: estou fora do escritório.")
    sandbox.run()

    assert sandbox.steps(ticket)[-1] == "6:mensagem"
    assert sandbox.state(ticket)["phase"] == "aguardando_cliente", "not an answer: still waiting"
    assert sandbox.status(ticket) == WAITING  # fails: "Open"
