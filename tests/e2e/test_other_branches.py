"""The other branches end to end: Situação 3 (PROCEDURE §5), missing data (§2, CONTRACT 2),
keyword detection (§1), and an agent's `#manual` / `#retomar` (CONTRACT 3, 17)."""

from __future__ import annotations

import pytest

from tests.fakes.sandbox import IN_PROGRESS, WAITING, Sandbox
from tests.fakes.world import CPF_2

pytestmark = pytest.mark.e2e


def test_third_party_missing_data_detection_and_manual_then_retomar(sandbox: Sandbox) -> None:
    people = sandbox.company(
        "TechNova Ltda",
        [("Carlos Nunes", "carlos@technova.com.br")],
        others=[("Fernanda Alves", "fernanda@technova.com.br")],
    )
    third = sandbox.opens(people["fernanda@technova.com.br"])
    missing = sandbox.opens(sandbox.nobody("Luiz Dantas", "luiz@exemplo.com.br"))
    detected = sandbox.opens(
        sandbox.holder("Vera Luz", "vera@exemplo.com.br"),
        "Quero cancelar meu contrato",
        "Por favor, me liguem.",
        tags=(),
    )
    boleto = sandbox.opens(
        sandbox.holder("Ivo Sá", "ivo@exemplo.com.br", document=CPF_2),
        "Cancelar boleto de dezembro",
        "Paguei em dobro.",
        tags=(),
    )
    manual = sandbox.opens(sandbox.holder("Mara Rios", "mara@exemplo.com.br"))

    sandbox.run()

    # Situação 3: told only the holder or a partner may ask, by phone or chat; resolved.
    sandbox.assert_whole(third, ["1:terceiro"], ["terceiro"])
    assert "telefone" in sandbox.emails(third)[0].body
    assert sandbox.status(third) == "Solved"
    assert "cancelamento-terceiro" in sandbox.tags(third)
    # Missing data: one note, review, "Em atendimento", no e-mail.
    sandbox.assert_whole(missing, ["1:revisar"], [])
    assert "não pertence a nenhuma conta" in sandbox.notes(missing)[0]
    assert "cancelamento-revisar" in sandbox.tags(missing)
    assert sandbox.status(missing) == IN_PROGRESS
    # Detected by keyword: tagged, and the first note says how.
    sandbox.assert_whole(detected, ["1:inicio"], [])
    assert "cancelamento" in sandbox.tags(detected)
    assert 'palavras "cancelar meu contrato" no assunto' in sandbox.notes(detected)[0]
    # Not a cancellation request: left alone.
    assert sandbox.comments(boleto)[1:] == []
    assert "cancelamento" not in sandbox.tags(boleto)

    sandbox.customer_replies(third, "Eu sou a titular! Confirmo o cancelamento, cancelem.")
    sandbox.agent_changes(
        missing,
        custom_fields=[
            {
                "id": sandbox.field_ids["Situação do cancelamento"],
                "value": "cancelamento_situacao_titular",
            }
        ],
    )
    sandbox.agent_says(manual, "#tentativa\n#tentativa\n#tentativa")
    sandbox.run()

    # The third party writes back: the reinforcement, resolved again, never a cancellation.
    sandbox.assert_whole(
        third, ["1:terceiro", "2:terceiro-reforco"], ["terceiro", "terceiro-reforco"]
    )
    assert sandbox.status(third) == "Solved"
    assert "cancelamento-executar" not in sandbox.tags(third)
    # The agent set the situation by hand: the worker follows.
    assert len(sandbox.steps(missing)) == 2
    assert sandbox.state(missing)["phase"] == "ligando"
    assert "cancelamento-revisar" not in sandbox.tags(missing)
    assert sandbox.emails(missing) == []
    # The contact e-mail went out on the ticket about to be taken over.
    assert sandbox.email_steps(manual) == ["email-contato"]
    assert sandbox.status(manual) == WAITING

    sandbox.agent_says(manual, "#manual")
    sandbox.run()

    assert sandbox.steps(manual)[-1] == "6:manual"
    assert sandbox.field(manual, "Prazo do retorno") is None
    notes = len(sandbox.notes(manual))

    sandbox.agent_says(manual, "#tentativa")
    sandbox.later(days=5)  # Saturday: well past the deadline the contact e-mail had set
    quiet = sandbox.run()

    assert len(sandbox.notes(manual)) == notes, "nothing at all until #retomar"
    assert len(sandbox.emails(manual)) == 1
    assert quiet.finished()["steps"] == 0

    sandbox.agent_says(manual, "#retomar")
    sandbox.run()

    assert len(sandbox.notes(manual)) == notes + 1
    resumed = sandbox.state(manual)
    assert resumed["phase"] == "aguardando_cliente"
    assert resumed["deadline"] > sandbox.clock.now.isoformat(), "the wait starts again"
    assert sandbox.email_steps(manual) == ["email-contato"], "nothing repeated"

    sandbox.later(days=4)  # Saturday's #retomar + 2 business days: due at the end of Tuesday
    sandbox.run()

    assert sandbox.steps(manual)[-1] == "8:cancelar-contrato"
    assert "cancelamento-executar" in sandbox.tags(manual)
    for ticket in (third, missing, detected, manual):
        steps = sandbox.steps(ticket)
        assert len(set(steps)) == len(steps), steps
    assert len(sandbox.emails(manual)) == 1
