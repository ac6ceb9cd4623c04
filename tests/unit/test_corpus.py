"""The labelled corpus ships with the package and is big and varied enough to measure on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from worker.reading.corpus import CorpusError, answer_items, detection_items


def test_the_corpus_has_at_least_300_detection_emails_and_200_answers() -> None:
    assert len(detection_items()) >= 300
    assert len(answer_items()) >= 200


def test_every_class_of_both_judgements_is_represented() -> None:
    assert set(Counter(item.label for item in detection_items())) == {"request", "maybe", "not"}
    assert set(Counter(item.label for item in answer_items())) == {"confirm", "refuse", "agent"}


def test_about_a_third_of_each_class_is_held_out() -> None:
    for items in (detection_items(), answer_items()):
        for label in {item.label for item in items}:
            of_label = [item for item in items if item.label == label]
            held = sum(item.split == "held" for item in of_label)
            assert 0.2 <= held / len(of_label) <= 0.4, label


def test_partners_answers_cover_every_kind_the_issue_names() -> None:
    kinds = {item.kind for item in answer_items()}
    assert {
        "confirmation",
        "refusal",
        "deferral",
        "condition",
        "question",
        "acknowledgement",
        "auto_reply",
        "something_else",
        "mixed",
    } <= kinds


def test_a_company_corpus_in_the_same_format_is_read_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "detection.yaml").write_text(
        "items:\n- {id: x1, split: held, label: request, note: n, subject: s, body: b}\n",
        encoding="utf-8",
    )
    assert [item.id for item in detection_items(tmp_path)] == ["x1"]


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    row = "- {id: x1, split: dev, label: confirm, kind: k, note: n, body: b}\n"
    (tmp_path / "answers.yaml").write_text("items:\n" + row + row, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"answers\.yaml: id repeated: x1"):
        answer_items(tmp_path)


def test_a_malformed_item_is_named_with_its_field(tmp_path: Path) -> None:
    (tmp_path / "detection.yaml").write_text(
        "items:\n- {id: x1, split: held, label: talvez, note: n, subject: s, body: b}\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"detection\.yaml: items\.0\.label: Input should be"):
        detection_items(tmp_path)
    with pytest.raises(CorpusError, match=r"answers\.yaml: No such file"):
        answer_items(tmp_path)
