"""`python -m worker report`: each ticket's outcome read from the worker's notes, and a page whose
numbers are the CSV's."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.fakes.report import (
    HELENA,
    JOAO,
    MARIA,
    MONDAY,
    WEEK,
    a_week,
    report_rows,
    three_failed_calls,
)
from tests.fakes.world import MemoryWorld, person
from worker.report import Outcome, Row, write_report
from worker.report.page import CSV_NAME, percent, render_page


def row(rows: list[Row], ticket: str) -> Row:
    return next(r for r in rows if r.protocol == ticket)


def test_a_customer_an_agent_retained_counts_as_retained_with_the_agent_and_reason() -> None:
    world = MemoryWorld()
    world.pf(JOAO)
    ticket = world.opens(JOAO)
    world.poll()
    world.agent_says(ticket, "#revertido motivo: Preço - desconto de 10%")
    world.later(hours=2)
    world.poll()
    got = row(report_rows(world), ticket)
    assert got.outcome is Outcome.RETAINED
    assert got.closed_by == "Paula"
    assert got.reason == "Preço - desconto de 10%"
    assert got.situation == "titular"
    assert got.emails_sent == 1
    assert got.days_to_close == pytest.approx(0.1)
    assert not got.went_to_review


def test_no_answer_after_three_calls_is_not_cancelled_and_closed_by_the_worker() -> None:
    world = MemoryWorld()
    world.pf(HELENA, registered="helena@exemplo.com.br")
    ticket = world.opens(HELENA)
    world.poll()
    three_failed_calls(world, ticket)
    world.later(days=5)
    world.poll()
    got = row(report_rows(world), ticket)
    assert got.outcome is Outcome.NOT_CANCELLED
    assert got.calls_before_contact == 3
    assert got.emails_sent == 2
    assert got.closed_by == "automático"


def test_a_ticket_waiting_for_the_customer_is_open_with_its_deadline() -> None:
    world = MemoryWorld()
    world.pf(MARIA)
    ticket = world.opens(MARIA)
    world.poll()
    three_failed_calls(world, ticket)
    got = row(report_rows(world), ticket)
    assert got.outcome is Outcome.OPEN
    assert got.deadline == world.history(ticket).state.deadline is not None
    assert got.days_to_close is None


def test_a_ticket_that_needs_an_agent_is_in_review() -> None:
    world = MemoryWorld()
    ticket = world.opens(person("Sem Ficha", "ninguem@exemplo.com.br"))
    world.poll()
    got = row(report_rows(world), ticket)
    assert got.outcome is Outcome.REVIEW
    assert got.went_to_review


def test_only_tickets_created_in_the_period_are_reported() -> None:
    world = MemoryWorld()
    world.pf(MARIA)
    world.pf(JOAO)
    before = world.opens(MARIA)
    world.poll()
    world.later(days=2)
    inside = world.opens(JOAO)
    world.poll()
    world.agent_says(before, "#tentativa")  # changed in the period, created before it
    world.poll()
    since = MONDAY + timedelta(days=1)
    assert [r.protocol for r in report_rows(world, since)] == [inside]


def test_a_ticket_the_worker_never_acted_on_is_not_reported() -> None:
    world = MemoryWorld()
    world.pf(MARIA)
    world.opens(MARIA, subject="Dúvida sobre boleto", body="Qual o vencimento?", tags=())
    world.poll()
    assert report_rows(world) == []


def test_personal_data_typed_in_a_reason_is_masked_in_the_csv(tmp_path: Path) -> None:
    world = MemoryWorld()
    world.pf(JOAO)
    ticket = world.opens(JOAO)
    world.poll()
    world.agent_says(ticket, "#revertido motivo: preço, falei com joao@exemplo.com.br")
    world.poll()
    write_report(report_rows(world), WEEK, MONDAY, tmp_path)
    written = (tmp_path / CSV_NAME).read_text(encoding="utf-8")
    assert "joao@exemplo.com.br" not in written
    assert "joao@exemplo.com.br" not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Maria" not in written and "João" not in written


class Tables(HTMLParser):
    """The page's tables by their `data-table` name: {key: [cells]}, and the `data-figure`s."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.figures: dict[str, str] = {}
        self.scripts = 0
        self._table: str | None = None
        self._key: str | None = None
        self._figure: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self._table = found.get("data-table") or ""
            self.tables[self._table] = {}
        elif tag == "tr" and self._table is not None:
            self._key = found.get("data-key")
            if self._key is not None:
                self.tables[self._table][self._key] = []
        elif tag == "td" and self._key is not None:
            self._cell = []
        if "data-figure" in found:
            self._figure = found["data-figure"]
            self.figures[self._figure or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table and self._key is not None:
            self.tables[self._table][self._key].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._key = None
        elif tag == "table":
            self._table = None
        elif tag in ("span", "td"):
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._figure is not None:
            self.figures[self._figure] += data


def test_the_numbers_on_the_page_are_the_csvs(tmp_path: Path) -> None:
    world = a_week()
    page = write_report(report_rows(world), WEEK, MONDAY, tmp_path)
    lines = list(csv.DictReader(io.StringIO((tmp_path / CSV_NAME).read_text(encoding="utf-8"))))
    tables = Tables()
    tables.feed(page.read_text(encoding="utf-8"))

    outcomes = Counter(line["resultado"] for line in lines)
    assert {key: int(cells[-1]) for key, cells in tables.tables["outcomes"].items()} == {
        outcome.value: outcomes[outcome.value] for outcome in Outcome
    }
    assert outcomes["revertido"] == outcomes["cancelado"] == outcomes["nao_cancelado"] == 1
    assert outcomes["aberto"] == 1
    assert tables.figures["total"] == str(len(lines))
    assert tables.figures["retained"] == str(outcomes["revertido"])
    assert tables.figures["cancelled"] == str(outcomes["cancelado"])
    assert tables.figures["save-rate"] == percent(
        outcomes["revertido"] / (outcomes["revertido"] + outcomes["cancelado"])
    )
    by_agent = Counter(
        (line["encerrado_por"], line["resultado"])
        for line in lines
        if line["resultado"] in ("revertido", "cancelado")
    )
    assert tables.tables["by-agent"] == {
        "Paula": [
            "Paula",
            str(by_agent["Paula", "revertido"]),
            str(by_agent["Paula", "cancelado"]),
            "50%",
        ]
    }
    reasons = Counter(line["motivo"] for line in lines if line["motivo"])
    assert {key: int(cells[-1]) for key, cells in tables.tables["reasons"].items()} == reasons
    assert set(tables.tables["tickets"]) == {line["protocolo"] for line in lines}
    assert list(tables.tables["open"]) == [
        line["protocolo"] for line in lines if line["resultado"] in ("aberto", "revisao")
    ]


def test_the_page_opens_offline_with_no_script_and_a_table_beside_each_chart() -> None:
    html = render_page(report_rows(a_week()), WEEK, MONDAY)
    tables = Tables()
    tables.feed(html)
    assert tables.scripts == 0
    fetched = re.findall(
        r"""(?:src|href)=["']?\s*(?:https?:)?//|url\(\s*["']?(?!#)|@import|<link""", html
    )
    assert fetched == [], "nothing is fetched: the page opens from a file, offline"
    charts = html.count("<svg ")
    assert charts == 8
    assert html.count("<figure>") == charts
    assert html.count("<figure>") <= html.count("<table ")
