"""The docs describe the project in its own words: every file they point to is in the
repository, and the procedure's sections and rules that the code cites are written down."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.procedure_page import REGENERATE, generated_part

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# A file name as the docs write one: `templates/emails/x.txt.j2`, docs/zendesk.md, (procedure.md)
MENTIONED = re.compile(r"[`(\s]((?:[\w.-]+/)*[\w-]+\.(?:md|txt|ya?ml|py|j2|toml|json))\b")
# Made by the program or the operator, not shipped: named as examples.
NOT_SHIPPED = {"worker.env", "sandbox.db", "outcomes.csv", "worker.yaml"}


def _is_a_reference(name: str) -> bool:
    """A document (.md, .txt) or a path into the repository; a bare `my.yaml` is an example
    of a file the operator makes."""
    return name.endswith((".md", ".txt")) or "/" in name


def _where(name: str, doc: Path) -> list[Path]:
    return [base / name for base in (ROOT, doc.parent, ROOT / "docs") if (base / name).exists()]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_file_a_doc_names_is_in_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    names = {m.group(1) for m in MENTIONED.finditer(text)}
    dangling = sorted(
        name
        for name in names
        if _is_a_reference(name)
        and Path(name).name not in NOT_SHIPPED
        and not name.startswith(("state/", "<"))
        and not _where(name, doc)
        and not list(ROOT.glob(f"**/{name}"))
    )
    assert dangling == [], f"{doc.name} names files the repository does not have"


def test_the_rules_and_sections_the_code_cites_are_written_down() -> None:
    procedure = (ROOT / "docs" / "procedure.md").read_text(encoding="utf-8")
    rules = {int(n) for n in re.findall(r"^(\d+)\. \*\*", procedure, re.MULTILINE)}
    sections = set(re.findall(r"^## §(\d)", procedure, re.MULTILINE))
    cited_rules: set[int] = set()
    cited_sections: set[str] = set()
    for source in [*ROOT.glob("worker/**/*.py"), *ROOT.glob("tests/**/*.py")]:
        text = source.read_text(encoding="utf-8")
        for numbers in re.findall(r"CONTRACT ((?:\d+(?:, | and | e )?)+)", text):
            cited_rules.update(int(n) for n in re.findall(r"\d+", numbers))
        cited_sections.update(re.findall(r"PROCEDURE(?:\.md)? §(\d)", text))
    assert cited_rules and cited_rules <= rules
    assert cited_sections and cited_sections <= sections


def test_the_procedure_page_shows_the_table_the_worker_enforces() -> None:
    """docs/procedure.md carries `python -m worker procedure`'s output between its markers."""
    page = (ROOT / "docs" / "procedure.md").read_text(encoding="utf-8")
    printed = CliRunner().invoke(main, ["procedure"]).output
    assert generated_part(page) == printed, (
        f"docs/procedure.md's table differs from the worker's: run `{REGENERATE}`"
    )
