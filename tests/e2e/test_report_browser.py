"""The report page in a real browser: headless Chromium from the OS packages loads it from disk
and screenshots it, and nothing is written to its console (the page has no script, so any
console line is an error: a blocked or missing resource, a bad SVG).

CI images may not carry a browser; the test is skipped there with a message saying so, never
passed silently."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes.report import MONDAY, WEEK, a_week, report_rows
from worker import logs
from worker.config import DEFAULT_CONFIG_PATH, load_config
from worker.demo import run_demo
from worker.demo.script import END, START
from worker.render import Renderer
from worker.report import Period, rows_of, write_report

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1200,2400",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _chromium() -> None:
    """Skipped before any work where there is no browser, saying how to get one."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install the OS package `chromium` to run this")


def screenshot(page: Path, profile: Path, shot: Path) -> list[str]:
    """Loads `page` and returns the console lines the browser logged."""
    finished = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return [line for line in finished.stderr.splitlines() if ":CONSOLE" in line]


def test_the_report_page_loads_in_chromium_without_console_errors(tmp_path: Path) -> None:
    page = write_report(report_rows(a_week()), WEEK, MONDAY, tmp_path / "report")
    shot = tmp_path / "page.png"
    console = screenshot(page, tmp_path / "profile", shot)
    assert console == []
    image = shot.read_bytes()
    assert image.startswith(PNG_SIGNATURE)
    assert len(image) > 50_000, "a page with eight charts and their tables, not a blank one"


def test_the_demo_weeks_page_loads_in_chromium_without_console_errors(tmp_path: Path) -> None:
    """What `make demo` writes to ./demo-report/, opened as a support lead would."""
    config = load_config(DEFAULT_CONFIG_PATH)
    result = run_demo(config, Renderer(config.resolved_templates_dir(DEFAULT_CONFIG_PATH)))
    rows = rows_of(result.tickets.values(), logs.shown)
    page = write_report(rows, Period(START.date(), END.date()), END, tmp_path / "demo-report")
    shot = tmp_path / "demo.png"
    assert screenshot(page, tmp_path / "profile", shot) == []
    assert shot.read_bytes().startswith(PNG_SIGNATURE)


def test_a_console_error_would_be_seen(tmp_path: Path) -> None:
    """The check above can fail: a page that does log an error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missing()</script>x</body></html>", encoding="utf-8")
    console = screenshot(page, tmp_path / "profile", tmp_path / "broken.png")
    assert any("missing is not defined" in line for line in console)
