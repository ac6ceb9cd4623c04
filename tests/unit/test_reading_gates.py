"""The two judgements that can hurt a customer, gated on the held-out part of the corpus
(`python -m worker evaluate-reading`): no look-alike taken for a request, no answer but a yes
taken for a confirmation, and recall of both at 95 % or more."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import main
from worker.config import Config
from worker.reading.evaluate import MIN_RECALL, Judgement, judge_answers, judge_detection

CONFIG = Config()


@pytest.fixture(scope="module")
def detection() -> Judgement:
    return judge_detection(CONFIG, "held")


@pytest.fixture(scope="module")
def answers() -> Judgement:
    return judge_answers(CONFIG, "held")


def test_no_look_alike_is_taken_for_a_request(detection: Judgement) -> None:
    wrong = [c.id for c in detection.cases if c.expected == "not" and c.got == "request"]
    assert wrong == []


def test_no_answer_but_a_yes_is_taken_for_a_confirmation(answers: Judgement) -> None:
    wrong = [c.id for c in answers.cases if c.expected != "confirm" and c.got == "confirm"]
    assert wrong == []


def test_requests_and_confirmations_are_found(detection: Judgement, answers: Judgement) -> None:
    assert (detection.recall("request") or 0) >= MIN_RECALL
    assert (answers.recall("confirm") or 0) >= MIN_RECALL


def test_evaluate_reading_prints_both_tables_and_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate-reading"])
    assert result.exit_code == 0, result.output
    assert "== Detecção: " in result.output and "== Respostas dos sócios: " in result.output
    assert "real \\ lido" in result.output
    assert "gates: ok" in result.output


def test_a_broken_corpus_file_is_a_message_not_a_trace(tmp_path: Path) -> None:
    (tmp_path / "detection.yaml").write_text("items: [{id: x1}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate-reading", "--corpus", str(tmp_path)])
    assert result.exit_code == 1
    assert "corpus: detection.yaml: items.0.split: Field required" in result.output


def test_evaluate_reading_fails_and_names_the_error_when_a_gate_breaks(tmp_path: Path) -> None:
    (tmp_path / "detection.yaml").write_text(
        "items:\n- {id: x1, split: held, label: not, note: a bank slip, "
        "subject: Boleto, body: Quero cancelar o contrato.}\n",
        encoding="utf-8",
    )
    (tmp_path / "answers.yaml").write_text(
        "items:\n- {id: y1, split: held, label: confirm, kind: confirmation, note: plain, "
        "body: Confirmo.}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["evaluate-reading", "--corpus", str(tmp_path)])
    assert result.exit_code == 1
    assert "x1: real not, lido request (a bank slip)" in result.output
    assert "gates: FALHARAM" in result.output
