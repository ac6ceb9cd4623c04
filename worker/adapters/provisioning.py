"""What `setup` does on any helpdesk, in one shape: the writes it makes (`Change`), what only an
operator can fix (`Problem`), the `Plan` holding both, and how they are printed. The CLI and
`check` read these, so both helpdesks are set up, reported and resumed alike.

Also what the worker's own objects are called and hold, which no helpdesk decides: the ticket
fields' titles (from the configuration), the dropdowns' options (the engine's values with the
pt-BR names agents see), and the titles of the one-click commands (macros, scenarios).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from worker.adapters.http import Json
from worker.config import Config
from worker.core.commands import CommandKind
from worker.core.effects import FieldKey
from worker.core.model import Situation
from worker.core.procedure.run import (
    OUTCOME_CANCELLED,
    OUTCOME_NOT_CANCELLED,
    OUTCOME_RETAINED,
    OUTCOME_THIRD_PARTY,
)

SETUP_COMMAND = "run `python -m worker setup`"
WAITING_CUSTOMER_LABEL = "Aguardando sua resposta"  # the waiting status, as customers see it

COMMAND_TITLES: dict[CommandKind, str] = {
    CommandKind.ATTEMPT: "Ligação sem sucesso",
    CommandKind.RETAINED: "Revertido",
    CommandKind.CANCEL: "Quer cancelar",
    CommandKind.IDENTITY_CONFIRMED: "Identidade confirmada",
    CommandKind.PARTNER_CONFIRMED: "Sócio confirmou",
    CommandKind.CONTRACT_CANCELLED: "Contrato cancelado",
    CommandKind.MANUAL: "Assumir manualmente",
    CommandKind.RESUME: "Devolver ao worker",
    CommandKind.START: "Iniciar cancelamento",
}
WITH_REASON = (CommandKind.RETAINED, CommandKind.CANCEL)  # one command per reason

# --- what the ticket fields hold ------------------------------------------------------------


@dataclass(frozen=True)
class FieldOption:
    engine: str  # what the engine reads and writes
    name: str  # what agents see (pt-BR)


# The engine writes these values (worker/core/procedure/*), so every one of them must be an
# option, or the helpdesk refuses the update.
FIXED_OPTIONS: dict[FieldKey, tuple[FieldOption, ...]] = {
    FieldKey.SITUATION: (
        FieldOption(Situation.HOLDER.value, "Titular"),
        FieldOption(Situation.PARTNER.value, "Sócio-administrador"),
        FieldOption(Situation.THIRD_PARTY.value, "Terceiro"),
    ),
    FieldKey.OUTCOME: (
        FieldOption(OUTCOME_RETAINED, "Revertido"),
        FieldOption(OUTCOME_CANCELLED, "Cancelado"),
        FieldOption(OUTCOME_NOT_CANCELLED, "Não cancelado"),
        FieldOption(OUTCOME_THIRD_PARTY, "Pedido de terceiro"),
    ),
}


def field_options(config: Config) -> dict[FieldKey, tuple[FieldOption, ...]]:
    """Every ticket field's options (none for a number or a date); the reasons come from the
    configuration."""
    reasons = tuple(FieldOption(option.value, option.label) for option in config.reasons)
    options = {**FIXED_OPTIONS, FieldKey.REASON: reasons}
    return {key: options.get(key, ()) for key in FieldKey}


def field_titles(config: Config) -> dict[FieldKey, str]:
    return {key: getattr(config.fields, key.value) for key in FieldKey}


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One write `setup` makes (or, in a dry run, would make)."""

    what: str  # e.g. 'custom status "Em atendimento" (open)'
    method: str
    path: str
    body: Json


@dataclass(frozen=True)
class Problem:
    """Something the operator must fix; `fix` says exactly where and how."""

    what: str
    fix: str


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # ours, already there
    problems: list[Problem] = field(default_factory=list)  # setup will not touch these


# --- printing and writing -----------------------------------------------------------------------


def write(
    change: Change,
    send: Callable[[Change], Any],
    failure: type[Exception],
    out: TextIO,
) -> Any:
    """One change, printed as it is made; a `failure` is printed with what it means for the
    rest (not made; setup resumes) and raised. Returns what `send` answered."""
    try:
        answer = send(change)
    except failure as exc:
        print(f"FAILED  {change.what}: {exc}", file=out)
        print(
            "        the changes after it were not made; fix the cause and run setup again"
            " (it keeps what exists)",
            file=out,
        )
        raise
    print(f"{'updated' if change.method == 'PUT' else 'created'}  {change.what}", file=out)
    return answer


def print_changes(plan: Plan, out: TextIO) -> None:
    """A dry run's list of what setup would write."""
    if plan.changes:
        print(f"setup would make {len(plan.changes)} change(s):", file=out)
        for change in plan.changes:
            print(f"  {change.method:<4} {change.path:<40} {change.what}", file=out)
    else:
        print("setup would change nothing: the account is provisioned.", file=out)


def print_done(plan: Plan, out: TextIO) -> None:
    print(f"setup done: {len(plan.changes)} change(s), {len(plan.kept)} already there.", file=out)


def print_problem(problem: Problem, out: TextIO) -> None:
    print(f"PROBLEM {problem.what}\n  fix: {problem.fix}", file=out)


def print_problems(problems: list[Problem], out: TextIO) -> None:
    for problem in problems:
        print_problem(problem, out)
