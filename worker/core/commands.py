"""Agents' commands, typed one per line in an internal note (PROCEDURE.md §6).

The grammar is strict on purpose: a command changes what happens to a customer's contract, so a
line that looks like a command but is not exactly one is reported back to the agent rather than
guessed at. Free text around the commands is ignored, so agents may explain in the same note.
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass

from worker.core.text import normalize


class CommandKind(enum.Enum):
    ATTEMPT = "tentativa"
    RETAINED = "revertido"
    CANCEL = "cancelar"
    IDENTITY_CONFIRMED = "identidade-confirmada"
    PARTNER_CONFIRMED = "socio-confirmou"
    CONTRACT_CANCELLED = "contrato-cancelado"
    MANUAL = "manual"
    RESUME = "retomar"
    START = "iniciar-cancelamento"


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    line_index: int
    text: str  # the line as the agent typed it
    argument: str | None  # the reason as typed, or the partner's e-mail lower-cased


@dataclass(frozen=True)
class InvalidCommand:
    line_index: int
    text: str
    problem: str  # pt-BR, for the note that tells the agent what to type instead


# How each command is typed and what it means, pt-BR: for notes, macros and setup's instructions.
SYNTAX = {
    CommandKind.ATTEMPT: "#tentativa",
    CommandKind.RETAINED: "#revertido motivo: <texto>",
    CommandKind.CANCEL: "#cancelar motivo: <texto>",
    CommandKind.IDENTITY_CONFIRMED: "#identidade-confirmada",
    CommandKind.PARTNER_CONFIRMED: "#socio-confirmou <email>",
    CommandKind.CONTRACT_CANCELLED: "#contrato-cancelado",
    CommandKind.MANUAL: "#manual",
    CommandKind.RESUME: "#retomar",
    CommandKind.START: "#iniciar-cancelamento",
}

MEANING = {
    CommandKind.ATTEMPT: "ligação sem sucesso",
    CommandKind.RETAINED: "cliente revertido, fica com o contrato",
    CommandKind.CANCEL: "ligação atendida, cliente quer cancelar",
    CommandKind.IDENTITY_CONFIRMED: "dados do cliente confirmados por telefone",
    CommandKind.PARTNER_CONFIRMED: "sócio-administrador confirmou por outro meio",
    CommandKind.CONTRACT_CANCELLED: "contrato cancelado no sistema da empresa",
    CommandKind.MANUAL: "atendimento assumido por um agente; o worker para",
    CommandKind.RESUME: "devolve o ticket ao worker",
    CommandKind.START: "é um pedido de cancelamento: o worker inicia o procedimento",
}

VALID_COMMANDS: tuple[str, ...] = tuple(f"{SYNTAX[kind]} — {MEANING[kind]}" for kind in CommandKind)

_WITH_REASON = frozenset({CommandKind.RETAINED, CommandKind.CANCEL})
_KINDS = {kind.value: kind for kind in CommandKind}

# "#" and a letter: "#123" or "# título" in free text are not meant as commands.
_ATTEMPT = re.compile(r"#(?P<word>[^\W\d_][\w-]*)(?P<rest>.*)", re.DOTALL)
_REASON = re.compile(r"(?P<label>[^\W\d_]+)\s*:(?P<reason>.*)", re.DOTALL)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,}}")


def parse_commands(body: str) -> list[Command | InvalidCommand]:
    """Every command attempt of a note, in line order; `line_index` counts all lines from 0."""
    found: list[Command | InvalidCommand] = []
    for index, line in enumerate(body.splitlines()):
        match = _ATTEMPT.fullmatch(line.strip())
        if match is not None:
            found.append(_parse_attempt(index, line, match["word"], match["rest"]))
    return found


def _parse_attempt(index: int, line: str, word: str, rest: str) -> Command | InvalidCommand:
    kind = _KINDS.get(normalize(word))
    if kind is None:
        return InvalidCommand(index, line, _unknown(word))
    argument, problem = _argument(kind, rest.strip())
    if problem is not None:
        return InvalidCommand(index, line, problem)
    return Command(kind, index, line, argument)


def _argument(kind: CommandKind, rest: str) -> tuple[str | None, str | None]:
    """The command's argument, or the reason the line is not a valid command."""
    usage = SYNTAX[kind]
    if kind in _WITH_REASON:
        match = _REASON.fullmatch(rest)
        if match is None or normalize(match["label"]) != "motivo":
            return None, f"falta o motivo: use {usage}"
        reason = match["reason"].strip()
        return (reason, None) if reason else (None, f"o motivo está vazio: use {usage}")
    if kind is CommandKind.PARTNER_CONFIRMED:
        if not rest:
            return None, f"falta o e-mail do sócio: use {usage}"
        first, *extra = rest.split()
        if _EMAIL.fullmatch(first) is None:
            return None, f"e-mail inválido: use {usage}"
        if extra:
            return None, f"texto a mais depois do e-mail: use {usage}"
        return first.lower(), None
    if rest:
        return None, f"texto a mais depois do comando: use só {usage}"
    return None, None


def _unknown(word: str) -> str:
    guess = difflib.get_close_matches(normalize(word), list(_KINDS), n=1)
    hint = f" (quis dizer {SYNTAX[_KINDS[guess[0]]]}?)" if guess else ""
    return f"comando desconhecido: #{word}{hint}"
