"""The functional core stays pure: no module under worker/core reaches I/O libraries, adapters or
the configuration's loading (pydantic, YAML, `worker.config`: the core reads `ProcedureSettings`),
not even through another module of the worker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    *("zenpy", "requests", "apscheduler", "structlog", "urllib3", "sqlite3", "socket"),
    *("pydantic", "yaml"),
}
FORBIDDEN_WORKER = (
    *("worker.adapters", "worker.service", "worker.render", "worker.cli"),
    "worker.config",
)


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reachable(module: str) -> set[str]:
    """Every module imported from `module`, following the worker's own modules transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        path = _module_path(todo.pop())
        if path is None:
            continue
        for name in _imports(path):
            if name in seen:
                continue
            seen.add(name)
            if name.startswith("worker"):
                todo.append(name)
    return seen


CORE_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "worker" / "core").rglob("*.py")
)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_the_core_imports_no_io_library_nor_adapter(module: str) -> None:
    names = reachable(module)
    external = {name.split(".")[0] for name in names}
    assert not external & FORBIDDEN, f"{module} reaches {sorted(external & FORBIDDEN)}"
    assert not [n for n in names if n.startswith(FORBIDDEN_WORKER)]


def test_the_check_itself_sees_a_forbidden_import() -> None:
    assert "structlog" in {name.split(".")[0] for name in reachable("worker.service")}
    assert "worker.config" in reachable("worker.service")
    assert "worker.core.procedure.run" in CORE_MODULES
