"""`index.html` and `outcomes.csv`: the period at a glance for a support lead.

The page must open from a file share or an e-mail attachment with no network and no script, so
the charts are drawn here by matplotlib (Agg, no display) as inline SVG, and each sits beside a
table with the same numbers for screen readers and for copying into a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on a server

import matplotlib.pyplot as plt
from markupsafe import Markup
from matplotlib.figure import Figure

from worker.core.calendar import format_date, format_datetime
from worker.report.outcomes import Figures, Outcome, Row, SaveRate, figures

CSV_NAME = "outcomes.csv"
PAGE_NAME = "index.html"
CSV_COLUMNS = (
    "protocolo",
    "criado_em",
    "situacao",
    "resultado",
    "motivo",
    "ligacoes_antes_do_contato",
    "emails_enviados",
    "dias_ate_encerrar",
    "encerrado_por",
    "passou_por_revisao",
)
_COLOURS = {
    Outcome.CANCELLED: "#b42318",
    Outcome.RETAINED: "#027a48",
    Outcome.NOT_CANCELLED: "#b54708",
    Outcome.THIRD_PARTY: "#5925dc",
    Outcome.REVIEW: "#c11574",
    Outcome.OPEN: "#175cd3",
    Outcome.LINKED: "#667085",
}

_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, selectable, read by screen readers
        "svg.hashsalt": "cancelamento-worker",  # same data, same bytes
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # inclusive


SITUATIONS = {
    "titular": "Situação 1 (titular)",
    "socio": "Situação 2 (sócio)",
    "terceiro": "Situação 3 (terceiro)",
}


def situation_label(value: str) -> str:
    """The CSV keeps the field's value; people read the procedure's name for it."""
    return SITUATIONS.get(value, value)


def number(value: float | None, digits: int = 1) -> str:
    """pt-BR decimals: a comma, as the people reading it write them."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}".replace(".", ",")


def percent(rate: float | None) -> str:
    return "-" if rate is None else number(100 * rate, 0) + "%"


def csv_text(rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.protocol,
                row.created.isoformat(),
                row.situation,
                row.outcome.value,
                row.reason,
                row.calls_before_contact,
                row.emails_sent,
                "" if row.days_to_close is None else f"{row.days_to_close:.1f}",
                row.closed_by,
                "sim" if row.went_to_review else "não",
            )
        )
    return out.getvalue()


def _svg(figure: Figure, title: str) -> Markup:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]  # the XML prolog and DOCTYPE are not allowed inside HTML
    svg = _METADATA.sub("", svg)  # an RDF block naming matplotlib: bytes for nobody
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)
    return Markup(labelled)


def _bars(labels: list[str], values: list[float], title: str, colours: list[str]) -> Markup:
    figure, axes = plt.subplots(figsize=(5.2, 0.35 * max(len(labels), 2) + 0.8))
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=colours)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_title(title, loc="left")
    for position, value in zip(positions, values, strict=True):
        axes.annotate(
            number(value, 0 if float(value).is_integer() else 1),
            (value, position),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
        )
    return _svg(figure, title)


def _rate_chart(rates: list[SaveRate], title: str) -> Markup:
    shown = [rate for rate in rates if rate.rate is not None]
    return _bars(
        [rate.group for rate in shown],
        [100 * (rate.rate or 0) for rate in shown],
        title + " (%)",
        ["#027a48"] * len(shown),
    )


def _weeks_chart(data: Figures) -> Markup:
    figure, axes = plt.subplots(figsize=(5.2, 2.6))
    labels = [monday.strftime("%d/%m") for monday, _ in data.weeks]
    bottom = [0] * len(labels)
    for outcome in Outcome:
        counts = [week.get(outcome, 0) for _, week in data.weeks]
        if any(counts):
            axes.bar(labels, counts, bottom=bottom, label=outcome.label, color=_COLOURS[outcome])
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_title("Tickets por semana de abertura", loc="left")
    axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return _svg(figure, "Tickets por semana de abertura")


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("worker.report", "."),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(rows: Sequence[Row], period: Period, generated: datetime) -> str:
    data = figures(list(rows))
    present = [outcome for outcome in Outcome if data.outcomes[outcome]]
    charts = {
        "outcomes": _bars(
            [outcome.label for outcome in present],
            [data.outcomes[outcome] for outcome in present],
            "Resultados",
            [_COLOURS[outcome] for outcome in present],
        ),
        "situation": _rate_chart(
            [replace(rate, group=situation_label(rate.group)) for rate in data.by_situation],
            "Taxa de retenção por situação",
        ),
        "reason": _rate_chart(data.by_reason, "Taxa de retenção por motivo"),
        "agent": _rate_chart(data.by_agent, "Taxa de retenção por agente"),
        "reasons": _bars(
            [reason for reason, _ in data.reasons],
            [count for _, count in data.reasons],
            "Motivos de insatisfação",
            ["#475467"] * len(data.reasons),
        ),
        "close": _bars(
            [situation_label(time.situation) for time in data.close_times],
            [time.median for time in data.close_times],
            "Dias até encerrar (mediana)",
            ["#175cd3"] * len(data.close_times),
        ),
        "calls": _bars(
            [f"{calls} ligação(ões)" for calls, _ in data.calls],
            [count for _, count in data.calls],
            "Ligações antes do contato por e-mail",
            ["#475467"] * len(data.calls),
        ),
        "weeks": _weeks_chart(data),
    }
    return _ENVIRONMENT.get_template("page.html.j2").render(
        rows=rows,
        data=data,
        outcomes=list(Outcome),
        charts=charts,
        since=format_date(period.since),
        until=format_date(period.until),
        generated=format_datetime(generated),
        number=number,
        percent=percent,
        situation_label=situation_label,
        format_date=format_date,
        format_datetime=format_datetime,
    )


def summary_lines(rows: Sequence[Row], period: Period) -> list[str]:
    """What the terminal shows: the headline numbers, in pt-BR."""
    data = figures(list(rows))
    counts = " · ".join(
        f"{outcome.label}: {data.outcomes[outcome]}"
        for outcome in Outcome
        if data.outcomes[outcome]
    )
    return [
        f"Relatório de {format_date(period.since)} a {format_date(period.until)}: "
        f"{len(rows)} ticket(s) de cancelamento",
        counts or "nenhum ticket no período",
        f"Taxa de retenção: {percent(data.save_rate.rate)} "
        f"({data.save_rate.retained} revertido(s) de "
        f"{data.save_rate.retained + data.save_rate.cancelled} decididos)",
        f"Em aberto: {len(data.open_tickets)}",
    ]


def write_report(rows: Sequence[Row], period: Period, generated: datetime, out: Path) -> Path:
    """Writes both files; returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / CSV_NAME).write_text(csv_text(rows), encoding="utf-8")
    page = out / PAGE_NAME
    page.write_text(render_page(rows, period, generated), encoding="utf-8")
    return page
