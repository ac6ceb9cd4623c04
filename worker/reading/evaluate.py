"""`evaluate-reading`: how often detection and the reading of partners' answers agree with the
labelled corpus, per class, with every error listed so a rule change can be judged by its cases.

The gates are the two mistakes that hurt a customer: a look-alike taken for a request (the
procedure starts on someone who never asked) and anything but a confirmation taken for one (a
contract cancelled without consent). Both must be zero on the held-out part; recall of requests
and of confirmations must stay at 95 % or more, or the rules would be safe only by doing nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from worker.config import Config, detection_settings, reply_settings
from worker.core.detection import detect
from worker.core.replies import read_answer
from worker.reading.corpus import answer_items, detection_items

MIN_RECALL = 0.95
_TAG = "cancelamento"
_VERDICT_LABEL = {"affirm": "confirm", "refuse": "refuse", "unclear": "agent"}


@dataclass(frozen=True)
class Case:
    id: str
    expected: str
    got: str
    note: str
    why: str  # what decided, as the worker would tell an agent


@dataclass
class Judgement:
    """One judgement (detection, or answers) on one part of the corpus."""

    title: str
    classes: tuple[str, ...]
    cases: list[Case] = field(default_factory=list)

    def confusion(self) -> Counter[tuple[str, str]]:
        return Counter((case.expected, case.got) for case in self.cases)

    def precision(self, label: str) -> float | None:
        chosen = [c for c in self.cases if c.got == label]
        return sum(c.expected == label for c in chosen) / len(chosen) if chosen else None

    def recall(self, label: str) -> float | None:
        actual = [c for c in self.cases if c.expected == label]
        return sum(c.got == label for c in actual) / len(actual) if actual else None

    def count(self, expected: str, got: str) -> int:
        return self.confusion()[(expected, got)]

    def errors(self) -> list[Case]:
        return [c for c in self.cases if c.expected != c.got]


def judge_detection(config: Config, split: str, corpus: Path | None = None) -> Judgement:
    judgement = Judgement("Detecção", ("request", "maybe", "not"))
    detection = detection_settings(config.detection)
    for item in detection_items(corpus):
        if split != "all" and item.split != split:
            continue
        found = detect(item.subject, item.body, "email", frozenset(), _TAG, detection)
        got = "not" if found is None else found.outcome
        why = "" if found is None else found.describe()
        if found is not None and found.doubt:
            why += f', talvez por "{found.doubt}"'
        judgement.cases.append(Case(item.id, item.label, got, item.note, why))
    return judgement


def judge_answers(config: Config, split: str, corpus: Path | None = None) -> Judgement:
    judgement = Judgement("Respostas dos sócios", ("confirm", "refuse", "agent"))
    replies = reply_settings(config.replies)
    for item in answer_items(corpus):
        if split != "all" and item.split != split:
            continue
        reading = read_answer(item.body, replies)
        why = f"{reading.why} — «{reading.sentence}»" if reading.sentence else reading.why
        got = _VERDICT_LABEL[reading.verdict]
        judgement.cases.append(Case(item.id, item.label, got, item.note, why))
    return judgement


def gate_failures(detection: Judgement, answers: Judgement) -> list[str]:
    """What keeps the reading from being trusted, empty when every gate holds."""
    failures = []
    lookalikes = detection.count("not", "request")
    if lookalikes:
        failures.append(f"{lookalikes} e-mail(s) que não são pedido tomados por pedido")
    false_yes = answers.count("refuse", "confirm") + answers.count("agent", "confirm")
    if false_yes:
        failures.append(f"{false_yes} resposta(s) que não confirmam tomadas por confirmação")
    for judgement, label in ((detection, "request"), (answers, "confirm")):
        recall = judgement.recall(label)
        if recall is not None and recall < MIN_RECALL:
            failures.append(f"{judgement.title}: recall de {label} {recall:.1%} < 95%")
    return failures


def report(judgement: Judgement) -> list[str]:
    """The judgement as text: per-class precision and recall, the confusion table, the errors."""
    lines = [f"== {judgement.title}: {len(judgement.cases)} casos =="]
    lines.append(f"{'classe':<10}{'precisão':>10}{'recall':>10}{'casos':>8}")
    for label in judgement.classes:
        actual = sum(c.expected == label for c in judgement.cases)
        precision, recall = judgement.precision(label), judgement.recall(label)
        lines.append(f"{label:<10}{_percent(precision):>10}{_percent(recall):>10}{actual:>8}")
    lines.append("")
    lines.append("real \\ lido " + "".join(f"{label:>9}" for label in judgement.classes))
    confusion = judgement.confusion()
    for expected in judgement.classes:
        counts = "".join(f"{confusion[(expected, got)]:>9}" for got in judgement.classes)
        lines.append(f"{expected:<12}{counts}")
    errors = judgement.errors()
    lines.append("")
    lines.append(f"erros: {len(errors)}")
    lines.extend(
        f"  {c.id}: real {c.expected}, lido {c.got} ({c.note}){' — ' + c.why if c.why else ''}"
        for c in errors
    )
    return lines


def evaluate(config: Config, split: str, corpus: Path | None = None) -> tuple[list[str], bool]:
    """The whole report for `split` (held, dev or all) and whether every gate holds."""
    detection = judge_detection(config, split, corpus)
    answers = judge_answers(config, split, corpus)
    failures = gate_failures(detection, answers)
    lines = [f"Leitura em português — parte: {split}", ""]
    lines += [*report(detection), "", *report(answers), ""]
    lines += _gates(failures)
    return lines, not failures


def _gates(failures: Sequence[str]) -> list[str]:
    if not failures:
        return ["gates: ok (nenhum falso pedido, nenhuma falsa confirmação, recall >= 95%)"]
    return ["gates: FALHARAM", *(f"  - {failure}" for failure in failures)]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"
