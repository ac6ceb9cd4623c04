"""The block `make bench` ends with: one `key: value` line each, for scripts and for the issue's
goals, after every section's own tables.

Sections contribute their lines with `add` as their results come in; the block prints them in
that order, so sections written by different people never edit the same list. A value with a
goal says the goal and whether the measurement meets it (`goal`): a benchmark that cannot
fail says nothing.
"""

from __future__ import annotations

import sys
import time

_LINES: list[tuple[str, str]] = []
_STARTED = time.perf_counter()


def add(key: str, value: str) -> None:
    """One line of the block; a key given twice keeps its first place and its last value."""
    for n, (known, _) in enumerate(_LINES):
        if known == key:
            _LINES[n] = (key, value)
            return
    _LINES.append((key, value))


def goal(value: float, limit: float, *, at_most: bool, unit: str = "", digits: int = 2) -> str:
    """`5 (goal <= 3: NOT met)`: the measurement, then the goal and the verdict."""
    met = value <= limit if at_most else value >= limit
    sign = "<=" if at_most else ">="
    shown = f"{value:.0f}" if float(value).is_integer() else f"{value:.{digits}f}"
    return f"{shown}{unit} (goal {sign} {limit:g}{unit}: {'met' if met else 'NOT met'})"


def lines() -> list[tuple[str, str]]:
    return list(_LINES)


def progress(section: str) -> None:
    """One line on stderr as each section starts, so a long run shows where it is."""
    print(f"[bench {time.perf_counter() - _STARTED:6.0f} s] {section}", file=sys.stderr, flush=True)


def show() -> None:
    print()
    print("== Summary ==")
    for key, value in _LINES:
        print(f"{key}: {value}")
