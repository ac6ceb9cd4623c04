"""The summary block `make bench` ends with: sections add lines without sharing a list."""

from __future__ import annotations

import pytest

from bench import summary


def test_lines_keep_the_order_sections_add_them_and_a_repeated_key_its_place(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(summary, "_LINES", [])
    summary.add("detection latency p95 (webhook)", "2 s")
    summary.add("requests per first step (zendesk)", "6")
    summary.add("detection latency p95 (webhook)", "3 s")
    summary.show()
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "detection latency p95 (webhook): 3 s",
        "requests per first step (zendesk): 6",
    ]


def test_a_value_says_its_goal_and_whether_it_is_met() -> None:
    assert summary.goal(6.03, 3, at_most=True) == "6.03 (goal <= 3: NOT met)"
    assert summary.goal(72, 80, at_most=True) == "72 (goal <= 80: met)"
    share = summary.goal(89.96, 90, at_most=False, unit=" %", digits=1)
    assert share == "90.0 % (goal >= 90 %: NOT met)"  # rounded for the eye, judged unrounded
