"""The page on a phone (390 × 844) with real recordings: nothing wider than the screen, and the
insights panel writes times the way the rest of the page does."""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures are parameters here

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ServeProcess,
    browser_fixture,
    clean_env,
    serve_fixture,
    shot,
    wait_until,
)
from tests.e2e.test_browser import open_page, upload
from tests.real_data import REAL

pytestmark = pytest.mark.browser
POLAR = REAL / "polar_flow_running_2015-09-06.csv"
FIT = REAL.parent / "fit" / "garmin-fenix-5-run.fit"

WIDER_THAN_THE_SCREEN = """() => {
  const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > w + 0.5 && !e.closest(".trends-scroll > *"))
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
}"""


@pytest.fixture(name="phone")
def phone_fixture(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.hrviz_errors = errors
    yield page
    context.close()


@pytest.mark.skipif(not (POLAR.exists() and FIT.exists()), reason=f"the real recordings are not at {REAL}")
def test_a_phone_never_scrolls_sideways_and_episodes_read_as_dates(
    phone: Any, serve: ServeProcess, tmp_path: Any
) -> None:
    stored = subprocess.run(  # a second day, so that the trends table is drawn
        [sys.executable, "-m", "hrviz", "ingest", str(FIT), "--db", str(tmp_path / "hrviz.sqlite3")],
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    open_page(phone, serve)
    upload(phone, POLAR)
    wait_until(phone, lambda: phone.locator(".trends-table tbody tr").count() == 2, timeout=30, what="trends, 2 days")
    wait_until(phone, lambda: phone.locator("button.episode").count() == 1, what="the run's episode")
    shot(phone, "40-phone-insights")
    assert phone.evaluate(WIDER_THAN_THE_SCREEN) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself never scrolls sideways
    lines = phone.locator(".trends-table tbody td:first-child").evaluate_all(
        "els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; })"
    )
    assert lines == [1, 1], lines  # each day on one line, not "2015-" over "09-06"
    episode = phone.text_content("button.episode") or ""
    assert episode == "Above 120 bpm for 2 h 16 min, peak 196 — 6 Sep 2015, 10:01:10", episode
    assert phone.hrviz_errors == []


@pytest.mark.skipif(not POLAR.exists(), reason=f"the real recordings are not at {REAL}")
def test_the_html_report_fits_a_phone_with_a_long_file_path(phone: Any, tmp_path: Any) -> None:
    db, out = tmp_path / "h.sqlite3", tmp_path / "report.html"
    for args in (["ingest", str(POLAR)], ["report", "--html", str(out)]):  # the source: the whole path
        done = subprocess.run(
            [sys.executable, "-m", "hrviz", *args, "--db", str(db)],
            capture_output=True, text=True, timeout=60, env=clean_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    phone.goto(out.as_uri())
    assert str(POLAR) in (phone.text_content("h2") or "")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the path was one 600 px word
