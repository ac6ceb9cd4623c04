"""Situação 2 end to end (PROCEDURE §4): one of several managing partners asks, every partner
must confirm. One company's partners all confirm by e-mail (one replying on the ticket, one
writing a new e-mail) and the contract is cancelled; another's deadline passes without every
confirmation, and it is never cancelled."""

from __future__ import annotations

import pytest

from tests.fakes.sandbox import WAITING, Sandbox
from tests.fakes.world import CNPJ_2

pytestmark = pytest.mark.e2e

QUOTE = (
    "\n\nEm seg., 7 de dez. de 2026 às 11:16, Atendimento <suporte@empresa.com.br> escreveu:\n"
    '> Responda confirmando: "Confirmo o cancelamento".'
)


def test_partners_confirm_by_email_and_a_deadline_without_all_never_cancels(
    sandbox: Sandbox,
) -> None:
    padaria = sandbox.company(
        "Padaria Pão Quente Ltda",
        [
            ("Ana Ribeiro", "ana@padaria.com.br"),
            ("Bruno Ribeiro", "bruno@padaria.com.br"),
            ("Carla Mendes", "carla@padaria.com.br"),
        ],
    )
    oficina = sandbox.company(
        "Oficina Roda Viva Ltda",
        [
            ("Diego Costa", "diego@oficina.com.br"),
            ("Elisa Costa", "elisa@oficina.com.br"),
            ("Fabio Dias", "fabio@oficina.com.br"),
        ],
        document=CNPJ_2,
    )
    confirmed = sandbox.opens(padaria["ana@padaria.com.br"])
    unconfirmed = sandbox.opens(oficina["diego@oficina.com.br"])

    sandbox.run()
    for ticket in (confirmed, unconfirmed):
        assert sandbox.steps(ticket) == ["1:inicio"]
        assert "Situação 2" in sandbox.notes(ticket)[0]
    for partner in ("ana@padaria.com.br", "bruno@padaria.com.br", "carla@padaria.com.br"):
        assert partner in sandbox.notes(confirmed)[0]

    for ticket in (confirmed, unconfirmed):
        sandbox.agent_says(ticket, "#cancelar motivo: Encerramento da empresa")
    sandbox.run()

    for ticket, others in (
        (confirmed, {"bruno@padaria.com.br", "carla@padaria.com.br"}),
        (unconfirmed, {"elisa@oficina.com.br", "fabio@oficina.com.br"}),
    ):
        sandbox.assert_whole(ticket, ["1:inicio", "2:pedido-socios"], ["pedido-socios"])
        [request] = sandbox.emails(ticket)
        assert set(request.cc) == others, "every other partner is asked, copied on the ticket"
        assert sandbox.status(ticket) == WAITING

    sandbox.replies_as(
        confirmed, padaria["bruno@padaria.com.br"], "Confirmo o cancelamento." + QUOTE
    )
    new = sandbox.opens(
        padaria["carla@padaria.com.br"],
        "Re: Cancelamento Padaria",
        "Confirmo o cancelamento do contrato.",
        tags=(),
    )
    sandbox.replies_as(unconfirmed, oficina["elisa@oficina.com.br"], "De acordo." + QUOTE)
    sandbox.run()

    # Both confirmations counted; the new e-mail is linked to the first ticket and resolved.
    steps = sandbox.steps(confirmed)
    assert steps[:2] == ["1:inicio", "2:pedido-socios"]
    assert steps[-1].endswith(":cancelar-contrato")
    assert [s.split(":")[1] for s in steps[2:-1]] == ["confirmacao-socio"] * 2, steps
    assert len(set(steps)) == len(steps)
    assert "cancelamento-executar" in sandbox.tags(confirmed)
    assert len(sandbox.emails(confirmed)) == 1, "nothing sent before the agent cancels"
    assert sandbox.status(new) == "Solved"
    assert "cancelamento-vinculado" in sandbox.tags(new)
    assert f"#{confirmed}" in sandbox.notes(new)[-1]
    assert sandbox.emails(new) == []
    assert len(sandbox.notes(new)) == 1
    # The other company: one confirmation of two missing.
    assert sandbox.steps(unconfirmed)[-1] == "3:confirmacao-socio"
    assert "Fabio Dias" in sandbox.notes(unconfirmed)[-1]
    assert sandbox.state(unconfirmed)["phase"] == "aguardando_socios"

    sandbox.agent_says(confirmed, "#contrato-cancelado")
    sandbox.later(days=3)  # past both deadlines
    sandbox.run()

    sandbox.assert_whole(
        confirmed, [*steps, f"{len(steps) + 1}:cancelado"], ["pedido-socios", "cancelado"]
    )
    confirmation = sandbox.emails(confirmed)[-1]
    assert confirmation.to == "ana@padaria.com.br"
    assert set(confirmation.cc) == {"bruno@padaria.com.br", "carla@padaria.com.br"}
    assert sandbox.status(confirmed) == "Solved"
    assert "cancelamento-cancelado" in sandbox.tags(confirmed)

    sandbox.assert_whole(
        unconfirmed,
        ["1:inicio", "2:pedido-socios", "3:confirmacao-socio", "4:prazo-socios"],
        ["pedido-socios", "prazo-socios"],
    )
    assert "Fabio Dias" in sandbox.emails(unconfirmed)[-1].body
    assert sandbox.status(unconfirmed) == "Solved"
    assert "cancelamento-nao-cancelado" in sandbox.tags(unconfirmed)
    assert "cancelamento-executar" not in sandbox.tags(unconfirmed), "never cancelled"


def test_while_other_partners_are_awaited_the_ticket_stays_waiting(sandbox: Sandbox) -> None:
    padaria = sandbox.company(
        "Padaria Pão Quente Ltda",
        [
            ("Ana Ribeiro", "ana@padaria.com.br"),
            ("Bruno Ribeiro", "bruno@padaria.com.br"),
            ("Carla Mendes", "carla@padaria.com.br"),
        ],
    )
    ticket = sandbox.opens(padaria["ana@padaria.com.br"])
    sandbox.agent_says(ticket, "#cancelar motivo: Encerramento da empresa")
    sandbox.run()
    assert sandbox.steps(ticket) == ["1:inicio", "2:pedido-socios"]
    assert sandbox.status(ticket) == WAITING

    sandbox.replies_as(ticket, padaria["bruno@padaria.com.br"], "Confirmo o cancelamento.")
    sandbox.run()

    assert sandbox.steps(ticket)[-1] == "3:confirmacao-socio"
    assert sandbox.state(ticket)["phase"] == "aguardando_socios", "still waiting for Carla"
    assert sandbox.status(ticket) == WAITING  # fails: "Open"
