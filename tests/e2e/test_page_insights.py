"""The Insights panel in real chromium (issue 13): there as soon as a session opens, the same
figures as ``hrviz report --json``, episodes that jump the chart, the HTML report and the CSV
export downloaded, axe-core at 0 violations."""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures are parameters here

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ServeProcess,
    browser_fixture,
    clean_env,
    page_fixture,
    serve_fixture,
    shot,
    wait_until,
)
from tests.e2e.test_browser import open_page, upload
from tests.e2e.test_page_explore import axe
from tests.real_data import REAL

pytestmark = pytest.mark.browser
POLAR = REAL / "polar_flow_running_2015-09-06.csv"


def report_json(db: Path, sid: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "hrviz", "report", sid, "--json", "--db", str(db)],
        capture_output=True, text=True, timeout=60, env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sessions"][0]  # type: ignore[no-any-return]


@pytest.mark.skipif(not POLAR.exists(), reason=f"the real recordings are not at {REAL}")
def test_insights_panel_jumps_and_downloads(page: Any, serve: ServeProcess, tmp_path: Path) -> None:
    open_page(page, serve)
    upload(page, POLAR)
    wait_until(page, lambda: "Data quality" in (page.text_content("#quality-verdict") or ""), what="the verdict")
    sid = page.evaluate("hrviz.state.session.id")
    expected = report_json(tmp_path / "hrviz.sqlite3", sid)
    facts = {k: page.text_content(f'[data-fact="{k}"] dd') for k in ("resting", "average", "max")}
    assert facts == {
        "resting": f"{expected['resting_bpm']:g}",
        "average": f"{expected['mean_bpm']:g}",
        "max": f"{expected['max_bpm']:g}",
    }
    assert page.text_content("#quality-verdict") == f"Data quality: {expected['quality']['sentence']}"
    legend = page.locator(".zones-legend li").all_text_contents()
    assert len(legend) == 6 and legend[3].startswith("Zone 4 (152–171 bpm)")
    assert legend[5].startswith("Below zone 1 (under 95 bpm): ")
    assert page.locator(".zones-bar .zone").count() == 5
    assert page.evaluate("hrviz.series.count") < 8167 / 2  # there long before the replay's end

    episodes = page.locator("button.episode")
    assert episodes.count() == len(expected["episodes"]) >= 1
    page.evaluate(  # record what the page asks the server for
        "(() => { const c = hrviz.conn; const send = c.send.bind(c); window.sent = [];"
        " c.send = (m) => { window.sent.push(m); return send(m); }; })()"
    )
    wait_until(page, lambda: page.evaluate("hrviz.series.count") > 20, what="the replay past the episode's start")
    episodes.first.click()
    first = expected["episodes"][0]  # starts 3 s into the run: seq 3
    wait_until(
        page,
        lambda: any(m.get("type") == "replay" and m.get("from_seq", 99) <= 10 for m in page.evaluate("window.sent")),
        what="a replay from the episode's start",
    )
    assert first["start"] == "2015-09-06T10:01:10"

    with page.expect_download() as report:
        page.click("#download-report")
    html = Path(report.value.path()).read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 2 and sid in html
    with page.expect_download() as export:
        page.click("#download-csv")
    lines = Path(export.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "seq,time,ts,bpm,filled,kinds" and len(lines) == 8167 + 1
    page.locator("#insights").scroll_into_view_if_needed()
    shot(page, "insights-panel")
    assert page.hrviz_errors == []


@pytest.mark.skipif(not POLAR.exists(), reason=f"the real recordings are not at {REAL}")
def test_insights_panel_has_no_axe_violations(browser: Any, serve: ServeProcess) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        open_page(page, serve)
        upload(page, POLAR)
        wait_until(page, lambda: "Data quality" in (page.text_content("#quality-verdict") or ""), what="the verdict")
        violations = [
            v
            for v in axe(page)
            if any(
                "insights" in str(n.get("target"))
                or "zone" in str(n.get("target"))
                or "episode" in str(n.get("target"))
                or "verdict" in str(n.get("target"))
                for n in v["nodes"]
            )
        ]
        assert violations == []
    finally:
        context.close()


@pytest.mark.skipif(not POLAR.exists(), reason=f"the real recordings are not at {REAL}")
def test_trends_across_sessions(browser: Any, serve: ServeProcess, tmp_path: Path) -> None:
    from tests.e2e.test_browser import DEMO

    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        open_page(page, serve)
        upload(page, POLAR)
        wait_until(page, lambda: "Data quality" in (page.text_content("#quality-verdict") or ""), what="the verdict")
        upload(page, DEMO)
        wait_until(page, lambda: page.locator(".trends-table tbody tr").count() == 2, what="two days of trends")
        days = page.locator(".trends-table tbody tr td:first-child").all_text_contents()
        assert days == ["2026-03-14", "2015-09-06"]  # newest first
        assert page.locator(".trends-chart polyline").count() == 2
        page.locator("#trends").scroll_into_view_if_needed()
        shot(page, "insights-trends")
        bad = [v for v in axe(page) if any("trend" in str(n.get("target")) for n in v["nodes"])]
        assert bad == []
    finally:
        context.close()
