"""`python -m worker report` end to end: the real process reads the week back from the sandbox
over HTTP, through the Zendesk adapter, and counts what the worker's notes say happened."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.sandbox import ROOT, Sandbox

pytestmark = pytest.mark.e2e


def test_the_report_of_the_week_counts_each_outcome_once(sandbox: Sandbox, tmp_path: Path) -> None:
    retained = sandbox.opens(sandbox.holder("Rita Alves", "rita@exemplo.com.br"))
    cancelled = sandbox.opens(sandbox.holder("Caio Prado", "caio@exemplo.com.br"))
    waiting = sandbox.opens(sandbox.holder("Sara Lima", "sara@exemplo.com.br"))
    sandbox.run()
    sandbox.agent_says(retained, "#revertido motivo: Preço - desconto de 10%")
    sandbox.agent_says(cancelled, "#cancelar motivo: não usa mais")
    sandbox.agent_says(waiting, "#tentativa\n#tentativa\n#tentativa")
    sandbox.run()
    sandbox.agent_says(cancelled, "#contrato-cancelado")
    sandbox.run()

    sandbox.later(minutes=2)  # the export leaves out the last minute's changes (docs/zendesk.md 6c)
    out = tmp_path / "report"
    week = ("--since", "2026-12-07", "--until", "2026-12-11", "--out", str(out))
    state = str(tmp_path / "report-state")
    done = subprocess.run(
        [sys.executable, "-m", "worker", "--state-dir", state, "report", *week],
        cwd=ROOT,
        env=sandbox.env(),
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = list(csv.DictReader(io.StringIO((out / "outcomes.csv").read_text("utf-8"))))
    assert {line["protocolo"]: line["resultado"] for line in lines} == {
        str(retained): "revertido",
        str(cancelled): "cancelado",
        str(waiting): "aberto",
    }
    assert "3 ticket(s) de cancelamento" in done.stdout
    assert "Taxa de retenção: 50%" in done.stdout
    assert (out / "index.html").exists()
    assert not (tmp_path / "report-state").exists(), "a report writes nothing but its files"
