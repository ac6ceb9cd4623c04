"""The procedure's handlers return transitions; only the engine's fold turns them into steps
(issue 16). Walked on the source, so a handler that starts mutating shared state again fails
here before any scenario has to find out what it broke."""

from __future__ import annotations

import ast
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from worker.core.engine import Progress
from worker.core.procedure.run import At, Context, Move, Skip, View

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = sorted((ROOT / "worker" / "core" / "procedure").glob("*.py"))
ENGINE = ROOT / "worker" / "core" / "engine.py"
MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "remove", "pop", "clear"})


def _mutations(path: Path) -> list[str]:
    """Assignments to an attribute and in-place changes of an attribute's value: what a
    handler would need to change state someone else holds."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute | ast.Subscript):
                    found.append(f"{path.name}:{node.lineno} assigns {ast.unparse(target)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and isinstance(node.func.value, ast.Attribute)
        ):
            found.append(f"{path.name}:{node.lineno} changes {ast.unparse(node.func.value)}")
    return found


@pytest.mark.parametrize("path", [*PROCEDURE, ENGINE], ids=lambda p: p.name)
def test_no_handler_nor_the_fold_changes_shared_state(path: Path) -> None:
    assert _mutations(path) == []


def test_what_a_handler_is_handed_and_returns_cannot_be_changed() -> None:
    for kind in (Context, View, At, Move, Skip, Progress):
        assert is_dataclass(kind) and vars(kind)["__dataclass_params__"].frozen, kind
        assert fields(kind), kind
