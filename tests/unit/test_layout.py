"""The tests are laid out by layer, and no test leans on another: a helper two tests share lives in
`tests/fakes/`, so moving, renaming or deleting one test module never breaks another, and a
reader finds every shared world, clock, fake and builder in one place."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
LAYERS = ("unit", "service", "contract", "e2e")
SHARED = "tests.fakes"


def _imported(source: str, module: str) -> set[str]:
    """Every module of `tests` that `source` (the module `module`) imports, relative or not."""
    package = module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "tests" or name.startswith("tests.")}


def leaning_on_tests(source: str, module: str) -> list[str]:
    """What `source` imports from `tests` beyond the shared helpers: another test module, a
    conftest, or a helper left next to the tests."""
    return sorted(
        name
        for name in _imported(source, module)
        if name != "tests" and name != SHARED and not name.startswith(SHARED + ".")
    )


def _module(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_of_the_tests_imports_a_test_module() -> None:
    leaning = {
        str(path.relative_to(TESTS)): found
        for path in _python_files()
        if (found := leaning_on_tests(path.read_text(encoding="utf-8"), _module(path)))
    }
    assert leaning == {}


def test_every_test_file_lives_in_a_layer() -> None:
    outside = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if path.relative_to(TESTS).parts[0] not in LAYERS
    ]
    assert outside == []


def test_every_layer_is_a_package() -> None:
    """Two layers may hold modules of the same name (`test_report.py`): packages keep them apart."""
    folders = {p.parent for p in TESTS.rglob("test_*.py")} | {TESTS / "fakes"}
    assert sorted(str(f) for f in folders if not (f / "__init__.py").exists()) == []


def test_the_check_itself_sees_a_test_importing_another() -> None:
    assert leaning_on_tests("from tests.service.test_report import a_week", "tests.unit.x") == [
        "tests.service.test_report",
        "tests.service.test_report.a_week",
    ]
    assert leaning_on_tests("import tests.e2e.conftest", "tests.e2e.test_x") == [
        "tests.e2e.conftest"
    ]
    assert leaning_on_tests("from .conftest import Sandbox", "tests.e2e.test_x") == [
        "tests.e2e.conftest",
        "tests.e2e.conftest.Sandbox",
    ]
    assert leaning_on_tests("from tests.fakes.world import World", "tests.service.x") == []
    assert leaning_on_tests("from tests.fakes import world", "tests.service.x") == []
