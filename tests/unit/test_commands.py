"""Agents record what happened on the phone by typing commands in an internal note (§6)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from worker.core.commands import (
    VALID_COMMANDS,
    Command,
    CommandKind,
    InvalidCommand,
    parse_commands,
)
from worker.core.text import normalize


def only(body: str) -> Command | InvalidCommand:
    [parsed] = parse_commands(body)
    return parsed


@pytest.mark.parametrize(
    ("line", "kind", "argument"),
    [
        ("#tentativa", CommandKind.ATTEMPT, None),
        (
            "#revertido motivo: ofereci desconto de 20%",
            CommandKind.RETAINED,
            "ofereci desconto de 20%",
        ),
        (
            "#cancelar motivo: empresa encerrou as atividades",
            CommandKind.CANCEL,
            "empresa encerrou as atividades",
        ),
        ("#identidade-confirmada", CommandKind.IDENTITY_CONFIRMED, None),
        ("#socio-confirmou joao@acme.com.br", CommandKind.PARTNER_CONFIRMED, "joao@acme.com.br"),
        ("#contrato-cancelado", CommandKind.CONTRACT_CANCELLED, None),
        ("#manual", CommandKind.MANUAL, None),
        ("#retomar", CommandKind.RESUME, None),
    ],
)
def test_every_command_of_the_procedure(line: str, kind: CommandKind, argument: str | None) -> None:
    assert only(line) == Command(kind, 0, line, argument)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("#Tentativa", CommandKind.ATTEMPT),
        ("#TENTATIVA", CommandKind.ATTEMPT),
        ("   #tentativa   ", CommandKind.ATTEMPT),
        ("#sócio-confirmou ana@acme.com.br", CommandKind.PARTNER_CONFIRMED),
        ("#Sócio-Confirmou ana@acme.com.br", CommandKind.PARTNER_CONFIRMED),
        ("#IDENTIDADE-CONFIRMADA", CommandKind.IDENTITY_CONFIRMED),
        ("#Contrato-Cancelado", CommandKind.CONTRACT_CANCELLED),
    ],
)
def test_case_accents_and_surrounding_spaces_do_not_matter(line: str, kind: CommandKind) -> None:
    parsed = only(line)
    assert isinstance(parsed, Command)
    assert parsed.kind is kind
    assert parsed.text == line  # the note quotes what the agent typed


@pytest.mark.parametrize(
    "line",
    [
        "#cancelar motivo: Preço alto, vai para a Concorrência",
        "#cancelar Motivo: Preço alto, vai para a Concorrência",
        "#cancelar MOTIVO : Preço alto, vai para a Concorrência",
        "#cancelar motívo:Preço alto, vai para a Concorrência",
        "#Cancelar   motivo:    Preço alto, vai para a Concorrência   ",
    ],
)
def test_the_reason_is_kept_as_typed_whatever_the_spelling_of_motivo(line: str) -> None:
    assert only(line) == Command(CommandKind.CANCEL, 0, line, "Preço alto, vai para a Concorrência")


def test_the_partners_email_is_recorded_lower_cased() -> None:
    parsed = only("#socio-confirmou Joao.Silva+vendas@ACME.com.br")
    assert isinstance(parsed, Command)
    assert parsed.argument == "joao.silva+vendas@acme.com.br"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("#tentativa agora", "texto a mais depois do comando: use só #tentativa"),
        ("#manual até amanhã", "texto a mais depois do comando: use só #manual"),
        ("#cancelar", "falta o motivo: use #cancelar motivo: <texto>"),
        ("#cancelar porque está caro", "falta o motivo: use #cancelar motivo: <texto>"),
        ("#cancelar razão: caro", "falta o motivo: use #cancelar motivo: <texto>"),
        ("#cancelar motivo:", "o motivo está vazio: use #cancelar motivo: <texto>"),
        ("#revertido motivo:    ", "o motivo está vazio: use #revertido motivo: <texto>"),
        ("#socio-confirmou", "falta o e-mail do sócio: use #socio-confirmou <email>"),
        ("#socio-confirmou fulano", "e-mail inválido: use #socio-confirmou <email>"),
        ("#socio-confirmou ana@acme", "e-mail inválido: use #socio-confirmou <email>"),
        (
            "#socio-confirmou ana@acme.com.br por telefone",
            "texto a mais depois do e-mail: use #socio-confirmou <email>",
        ),
        ("#urgente", "comando desconhecido: #urgente"),
        ("#tentatva", "comando desconhecido: #tentatva (quis dizer #tentativa?)"),
        (
            "#identidade confirmada",
            "comando desconhecido: #identidade (quis dizer #identidade-confirmada?)",
        ),
    ],
)
def test_a_malformed_command_is_reported_back_with_what_to_type(line: str, problem: str) -> None:
    assert only(line) == InvalidCommand(0, line, problem)


def test_commands_among_free_text_keep_their_line_numbers() -> None:
    note = (
        "Liguei às 9h e às 14h, caixa postal nas duas.\n"
        "#tentativa\n"
        "#tentativa\n"
        "\n"
        "Ticket relacionado: #4521, ver também # observações abaixo\n"
        "#123 não é comando\n"
        "Cliente atendeu na terceira, conversamos sobre o preço.\n"
        "  #cancelar motivo: preço\n"
        "#tentativa de novo"
    )
    assert parse_commands(note) == [
        Command(CommandKind.ATTEMPT, 1, "#tentativa", None),
        Command(CommandKind.ATTEMPT, 2, "#tentativa", None),
        Command(CommandKind.CANCEL, 7, "  #cancelar motivo: preço", "preço"),
        InvalidCommand(
            8, "#tentativa de novo", "texto a mais depois do comando: use só #tentativa"
        ),
    ]


def test_a_command_in_the_middle_of_a_sentence_is_not_a_command() -> None:
    assert parse_commands("Cliente pediu para registrar #tentativa amanhã") == []


def test_windows_line_endings_are_lines_too() -> None:
    assert parse_commands("Caixa postal.\r\n#tentativa\r\n") == [
        Command(CommandKind.ATTEMPT, 1, "#tentativa", None)
    ]


def test_the_usage_lines_list_every_command_in_pt_br() -> None:
    assert len(VALID_COMMANDS) == len(CommandKind)
    assert VALID_COMMANDS[0] == "#tentativa — ligação sem sucesso"
    assert "#cancelar motivo: <texto> — ligação atendida, cliente quer cancelar" in VALID_COMMANDS
    for usage, kind in zip(VALID_COMMANDS, CommandKind, strict=True):
        assert usage.startswith(f"#{kind.value}")


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_any_note_parses_without_raising(body: str) -> None:
    for parsed in parse_commands(body):
        assert 0 <= parsed.line_index < len(body.splitlines())


def _starts_a_line_with_hash(text: str) -> bool:
    return any(line.strip().startswith("#") for line in text.splitlines())


# Free text that mentions commands, as agents do when they explain a note.
_MENTIONS = st.tuples(
    st.text(min_size=1), st.sampled_from(["", "#tentativa", "#cancelar motivo: preço", "#manual"])
).map("".join)


@given(st.lists(_MENTIONS.filter(lambda line: not _starts_a_line_with_hash(line))).map("\n".join))
def test_a_note_without_a_line_starting_with_hash_has_no_command(body: str) -> None:
    assume(not _starts_a_line_with_hash(body))
    assert not any(isinstance(parsed, Command) for parsed in parse_commands(body))
