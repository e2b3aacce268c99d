"""The page v2 in real chromium (issue 12): a reload restores the view, every anomaly up front,
the overview and jumps, the time axis and zoom, several subjects, phone and dark mode, and
axe-core at 0 violations on each screenshot (desktop 1280×800 and phone 390×844, light and dark).
"""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures / test_browser are parameters here

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ROOT,
    ServeProcess,
    browser_fixture,
    page_fixture,
    serve_fixture,
    shot,
    wait_until,
)
from tests.e2e.test_browser import DEMO, open_page, real_stack, upload  # noqa: F401
from tests.real_data import REAL

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "e2e" / "vendor" / "axe-core" / "axe.min.js"
WHOOP = REAL / "whoop4_openwhoop_2026-02-19.csv"
WELLTORY = REAL / "welltory_covid19_heart_rate_2020-04-17.csv"
APPLE = REAL / "apple_health_export_2015-2017.csv"
NO_TIMES = REAL / "physionet_mit_hr.237.txt"
needs_real = pytest.mark.skipif(not WHOOP.exists(), reason=f"the real recordings are not at {REAL}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def held(page: Any) -> dict[str, Any]:
    """What the page holds, read in one go (readings keep arriving)."""
    return page.evaluate(
        "(() => { const s = hrviz.series; const st = s.stats;"
        " return {count: s.count, errors: hrviz.state.seqErrors, n: st.n, sum: st.sum, min: st.min, max: st.max,"
        " last: s.count ? s.t[s.count - 1] : null, speed: hrviz.state.speed, paused: hrviz.state.paused,"
        " events: hrviz.events.events.length, total: hrviz.state.session && hrviz.state.session.readings}; })()"
    )


def position(page: Any) -> tuple[int, int]:
    text = page.text_content("#position") or ""
    m = re.fullmatch(r"([\d,]+) / ([\d,]+)", text)
    assert m, text
    return int(m[1].replace(",", "")), int(m[2].replace(",", ""))


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations for the page as it is now (the context bypasses the CSP to inject it)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in result["violations"]]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two "rgb(r, g, b)" / "#rrggbb" colours."""

    def lum(c: str) -> float:
        if c.startswith("#"):
            rgb = [int(c[i : i + 2], 16) for i in (1, 3, 5)]
        else:
            rgb = [int(x) for x in re.findall(r"\d+", c)[:3]]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (x / 255 for x in rgb)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def context(browser: Any, phone: bool = False, dark: bool = False) -> Any:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    return browser.new_context(
        viewport=size,
        color_scheme="dark" if dark else "light",
        device_scale_factor=2 if phone else 1,
        has_touch=phone,
        is_mobile=phone,
        bypass_csp=True,  # only so that axe-core can be injected; the page itself runs under its CSP
    )


def watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return errors


def test_a_reload_restores_chart_list_stats_speed_and_pause(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, DEMO)
    wait_until(page, lambda: held(page)["count"] >= 1, what="the first reading")
    page.select_option("#speed", "60")
    wait_until(page, lambda: held(page)["count"] >= 250, what="250 readings at 60x")
    page.click("#pause")
    wait_until(page, lambda: page.get_attribute("#pause", "aria-pressed") == "true", what="paused")
    page.wait_for_timeout(300)
    before = held(page)
    listed = page.locator("#anomalies li").count()
    texts = [page.text_content(s) for s in ("#stat-min", "#stat-mean", "#stat-max", "#position")]
    assert listed == before["events"] > 0
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f if isinstance(f, str) else "")))
    page.reload()
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "online", what="connected again")
    wait_until(page, lambda: held(page)["count"] == before["count"], timeout=10, what="the chart back")
    after = held(page)
    assert {k: after[k] for k in before if k != "events"} == {k: before[k] for k in before if k != "events"}
    wait_until(page, lambda: page.locator("#anomalies li").count() == listed, what="the anomaly list back")
    assert [page.text_content(s) for s in ("#stat-min", "#stat-mean", "#stat-max", "#position")] == texts
    assert page.input_value("#speed") == "60" and page.get_attribute("#pause", "aria-pressed") == "true"
    # in one batch, not one message per reading: paused, so nothing else could have brought them
    kinds = [json.loads(f)["type"] for f in frames if f]
    assert kinds.count("reading") == 0 and 1 <= kinds.count("history") <= 2, kinds
    page.wait_for_timeout(1000)
    assert held(page)["count"] == before["count"], "still paused after the reload"
    shot(page, "v2-01-reloaded-paused")
    # the chart as text: a summary and a table of the readings in view
    page.click("#chart-text summary")
    # the details element fires "toggle" as a task of its own: wait for the table, do not race it
    wait_until(page, lambda: page.locator("#chart-table tbody tr").count() > 10, what="the chart as a table")
    assert re.search(r"From .+ to .+: \d+ to \d+ bpm", page.text_content("#chart-summary") or "")
    page.click("#pause")
    wait_until(page, lambda: held(page)["count"] >= before["count"] + 30, what="the replay goes on")
    # the bpm is announced politely, at most every few seconds
    wait_until(
        page,
        lambda: re.fullmatch(r"\d+(\.\d)? bpm", page.text_content("#bpm-live") or "") is not None,
        what="an announcement",
    )
    assert page.get_attribute("#bpm-live", "aria-live") == "polite"
    assert held(page)["errors"] == 0
    assert page.hrviz_errors == []


def test_two_tabs_on_one_session_keep_their_own_replay(browser: Any, serve: ServeProcess) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        a, b = ctx.new_page(), ctx.new_page()
        open_page(a, serve)
        upload(a, DEMO)
        wait_until(a, lambda: held(a)["count"] >= 1, what="tab A plays")
        a.select_option("#speed", "60")
        open_page(b, serve)
        wait_until(b, lambda: b.locator("#sessions li[data-session-id]").count() == 1, what="the session listed in B")
        b.locator("#sessions li .s-play").first.click()
        wait_until(b, lambda: held(b)["count"] >= 2, what="tab B plays")
        assert held(b)["speed"] == 1
        a.click("#pause")
        wait_until(a, lambda: held(a)["paused"], what="A paused")
        frozen = held(a)["count"]
        b_before = held(b)["count"]
        b.wait_for_timeout(2500)
        assert held(a)["count"] == frozen and held(b)["count"] >= b_before + 1, "B plays on at 1x while A is paused"
        b.reload()  # each tab restores its own position
        wait_until(b, lambda: held(b)["count"] >= b_before, what="B restored")
        assert held(b)["count"] < frozen and held(a)["count"] == frozen
    finally:
        ctx.close()


@needs_real
def test_every_anomaly_is_listed_up_front_filtered_sorted_and_jumps(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, WHOOP)
    wait_until(page, lambda: held(page)["count"] >= 1, timeout=60, what="the first reading")
    total = int((page.text_content("#anomaly-count") or "0").replace(",", ""))
    assert total > 10
    wait_until(page, lambda: page.locator("#anomalies li[data-kind]").count() == total, what="the whole list")
    rows = page.locator("#anomalies li[data-kind]")
    assert rows.evaluate_all("els => els.filter(e => e.dataset.reached === 'false').length") >= total - 2
    assert "ahead" in (page.text_content("#anomalies") or "")
    counts = page.text_content("#kind-counts") or ""
    assert re.search(r"\d+ (spikes?|drops?|gaps?|missing runs?)", counts)
    assert not re.search(r"(?<![\d,])1 (spikes|drops|gaps)", counts)
    # filter by kind: only that kind, and the option says how many
    option = page.locator("#kind-filter option").nth(1)
    kind, label = option.get_attribute("value"), option.text_content() or ""
    page.select_option("#kind-filter", kind)
    kinds = rows.evaluate_all("els => els.map(e => e.dataset.kind)")
    assert set(kinds) == {kind} and f"({len(kinds)})" in label
    page.select_option("#kind-filter", "")
    # sort by time: seqs ascending; by size: severity descending
    page.select_option("#anomaly-sort", "time")
    seqs = rows.evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(seqs) and len(seqs) == total
    page.select_option("#anomaly-sort", "size")
    sev = rows.evaluate_all("els => els.map(e => Number(e.dataset.severity))")
    assert sev == sorted(sev, reverse=True)
    # a row far ahead jumps the replay there: what lies before comes in one batch, no gap, no duplicate
    page.select_option("#anomaly-sort", "time")
    target = rows.nth(total - 3)
    seq = int(target.get_attribute("data-seq") or "0")
    target.locator("button").click()
    wait_until(page, lambda: held(page)["count"] > seq, what="the replay at the event")
    assert target.get_attribute("data-reached") == "true" and target.get_attribute("class") == "selected"
    assert page.is_visible("#live") and page.evaluate("hrviz.chart.highlight !== null")
    h = held(page)
    assert h["errors"] == 0 and position(page)[0] == h["count"]
    shot(page, "v2-02-anomaly-jump")
    assert page.hrviz_errors == []


@needs_real
def test_overview_click_and_next_anomaly_jump_without_gap_or_duplicate(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, WHOOP)
    wait_until(page, lambda: page.evaluate("hrviz.overview.data !== null"), timeout=60, what="the overview")
    _, total = position(page)
    page.locator("#overview").scroll_into_view_if_needed()
    box = page.locator("#overview").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    wait_until(page, lambda: held(page)["count"] > total * 0.6, what="the jump")
    at, _ = position(page)
    assert 0.6 * total < at < 0.9 * total, (at, total)
    assert held(page)["errors"] == 0
    # drag back to the start: the page keeps what it has before the point and replays on from there
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 10, steps=5)
    page.mouse.up()
    wait_until(page, lambda: held(page)["count"] < total * 0.5, what="the jump back")
    h = held(page)
    assert 0.2 * total < h["count"] < 0.5 * total and h["errors"] == 0
    # the min/max blocks the zoomed-out chart draws from agree with the readings, after the cut too
    same = page.evaluate(
        "(() => { const s = hrviz.series; const n = s.count - 3; const [lo, hi] = s.range(5, n);"
        " const v = s.bpm.subarray(5, n); return lo === Math.min(...v) && hi === Math.max(...v); })()"
    )
    assert same
    # next anomaly: a few readings before the next event not reached yet
    nxt = page.evaluate("hrviz.events.next().seq")
    page.click("#next-anomaly")
    wait_until(page, lambda: abs(held(page)["count"] - (nxt - 5)) <= 3, what="before the next anomaly")
    page.keyboard.press("Tab")  # the overview is a slider for the keyboard too
    page.focus("#overview")
    page.keyboard.press("End")
    wait_until(page, lambda: held(page)["count"] >= total - 2, what="End jumps to the end")
    assert held(page)["errors"] == 0
    assert page.hrviz_errors == []


@needs_real
def test_time_axis_zoom_and_pan(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, APPLE)
    wait_until(page, lambda: page.evaluate("hrviz.overview.data !== null"), timeout=90, what="the overview")
    page.locator("#overview").scroll_into_view_if_needed()
    box = page.locator("#overview").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    wait_until(page, lambda: held(page)["count"] > 1000, timeout=30, what="the jump")
    # zoomed out: the view spans days, so ticks carry dates
    page.click("#zoom-out")
    for _ in range(12):
        page.click("#zoom-out")
    page.wait_for_timeout(200)
    span = page.evaluate("(() => { const v = hrviz.chart.span(); return v.t1 - v.t0; })()")
    assert span > 2 * 86400
    shot(page, "v2-03-zoomed-out-days")
    chart = page.locator("#chart").bounding_box()
    page.mouse.move(chart["x"] + chart["width"] / 2, chart["y"] + chart["height"] / 2)
    page.mouse.wheel(0, -600)  # zoom in around the pointer
    page.wait_for_timeout(200)
    assert page.evaluate("(() => { const v = hrviz.chart.span(); return v.t1 - v.t0; })()") < span
    before = page.evaluate("hrviz.chart.span().t0")
    page.mouse.down()
    page.mouse.move(chart["x"] + chart["width"] / 2 + 200, chart["y"] + chart["height"] / 2, steps=4)
    page.mouse.up()
    assert page.evaluate("hrviz.chart.span().t0") < before, "dragging right shows earlier times"
    page.click("#zoom-reset")
    assert page.evaluate("hrviz.chart.view === null")
    assert page.hrviz_errors == []


@needs_real
def test_a_multi_subject_file_offers_each_subject_largest_first(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, WELLTORY)
    wait_until(page, lambda: page.is_visible("#subject"), timeout=60, what="the subject picker")
    options = page.locator("#subject option").all_text_contents()
    counts = [int(re.search(r"([\d,]+) readings?", o)[1].replace(",", "")) for o in options]  # type: ignore[index]
    assert len(options) > 1 and counts == sorted(counts, reverse=True)
    assert page.input_value("#subject") == page.evaluate("hrviz.state.session.id")
    assert position(page)[1] == counts[0], "the largest subject plays first"
    page.select_option("#subject", index=1)
    wait_until(page, lambda: position(page)[1] == counts[1], what="the second subject")
    shot(page, "v2-04-subjects")


@needs_real
def test_a_file_without_times_says_so_instead_of_1970(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, NO_TIMES)
    wait_until(page, lambda: held(page)["count"] >= 3, timeout=30, what="readings")
    meta = page.text_content("#session-meta") or ""
    assert re.search(r"no times in file: one reading per [\d.]+ s", meta) and "1970" not in meta
    assert not re.search(r"(?<![\d,])1 anomalies", meta)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screens_have_no_axe_violations(browser: Any, serve: ServeProcess, phone: bool, dark: bool) -> None:
    ctx = context(browser, phone, dark)
    try:
        page = ctx.new_page()
        errors = watch_errors(page)
        name = f"v2-{'phone' if phone else 'desktop'}-{'dark' if dark else 'light'}"
        open_page(page, serve)
        assert page.is_visible("#chart-empty")
        # markers stand out from the line and the card: WCAG 1.4.11, 3:1
        colors = page.evaluate(
            "(() => { const c = getComputedStyle(document.documentElement); const v = (n) => c.getPropertyValue(n).trim();"
            " return {line: v('--line'), card: v('--card'), marks: ['spike', 'drop', 'missing', 'out_of_range', 'flatline']"
            ".map((k) => v('--m-' + k))}; })()"
        )
        assert contrast(colors["line"], colors["card"]) >= 3
        for mark in colors["marks"]:
            assert contrast(mark, colors["line"]) >= 3 and contrast(mark, colors["card"]) >= 3, mark
        assert axe(page) == []
        shot(page, f"{name}-empty")
        upload(page, DEMO)
        page.select_option("#speed", "60")
        wait_until(page, lambda: held(page)["count"] >= 200, what="200 readings")
        # a tap or click on a row keeps the chart on screen
        page.locator("#anomalies li button").last.click()
        page.wait_for_timeout(800)
        chart = page.locator("#chart").bounding_box()
        assert chart["y"] >= -5 and chart["y"] + chart["height"] <= page.viewport_size["height"] + 5, chart
        box = page.locator("#chart").bounding_box()
        if phone:
            page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
        else:
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
        wait_until(page, lambda: page.is_visible("#tooltip"), what="the tooltip on tap")
        assert re.search(r"\d\d:\d\d:\d\d", page.text_content("#tooltip") or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        assert axe(page) == []
        shot(page, name)
        assert errors == []
    finally:
        ctx.close()


def test_offline_disables_the_controls_and_says_so(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, DEMO)
    wait_until(page, lambda: held(page)["count"] >= 2, what="readings")
    assert not page.is_disabled("#pause")
    serve.stop()
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "offline", what="offline")
    assert all(page.is_disabled(s) for s in ("#pause", "#speed", "#restart", "#next-anomaly"))
    assert "controls come back" in (page.text_content("#status") or "")
    shot(page, "v2-05-offline")
    serve.start()
    wait_until(page, lambda: not page.is_disabled("#pause"), timeout=20, what="controls back")


def test_reload_restores_the_view_on_mysql_and_kafka(page: Any, real_stack: ServeProcess) -> None:
    open_page(page, real_stack)
    upload(page, DEMO)
    wait_until(page, lambda: held(page)["count"] >= 1, timeout=30, what="the first reading from Kafka")
    page.select_option("#speed", "60")
    wait_until(page, lambda: held(page)["count"] >= 150, timeout=30, what="150 readings")
    page.click("#pause")
    wait_until(page, lambda: held(page)["paused"], what="paused")
    page.wait_for_timeout(300)
    before = held(page)
    real_stack.restart()  # a fresh process: the batch comes from MySQL, nothing from memory
    wait_until(page, lambda: answers(real_stack.url), timeout=30, what="the new process")
    page.reload()
    wait_until(page, lambda: held(page)["count"] == before["count"], timeout=30, what="the chart back")
    assert held(page)["sum"] == before["sum"] and held(page)["paused"]
    wait_until(page, lambda: page.locator("#anomalies li").count() == before["events"], what="the list back")
    page.click("#pause")
    wait_until(page, lambda: held(page)["count"] >= before["count"] + 50, timeout=30, what="the replay from Kafka")
    assert held(page)["errors"] == 0
    shot(page, "v2-06-real-stack-reloaded")


def test_past_sessions_are_paged_sorted_filtered_and_deleted(page: Any, serve: ServeProcess, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(23):  # stored by the CLI, with its absolute paths: the page must show names only
        rows = [f"2026-01-{1 + i % 28:02d}T10:00:{s:02d}Z,{60 + (s * (i + 1)) % 30}" for s in range(10 + i)]
        (folder / f"walk-{i:02d}.csv").write_text("timestamp,bpm\n" + "\n".join(rows) + "\n")
    db = serve.args[serve.args.index("--db") + 1]
    done = subprocess.run([sys.executable, "-m", "hrviz", "ingest", "--db", db, str(folder)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    open_page(page, serve)
    wait_until(page, lambda: page.locator("#sessions li[data-session-id]").count() == 20, what="the first page")
    assert page.text_content("#sessions-count") == "23" and "1–20 of 23" in (page.text_content("#sessions-page") or "")
    text = page.text_content("#sessions") or ""
    assert str(folder) not in text and "walk-" in text and "uploaded " in text and re.search(r"\d+ readings", text)
    assert not re.search(r"(?<![\d,])1 (anomalies|readings)", text)
    page.click("#sessions-next")
    wait_until(page, lambda: page.locator("#sessions li[data-session-id]").count() == 3, what="the second page")
    page.select_option("#sessions-sort", "readings")
    wait_until(
        page,
        lambda: "walk-22.csv" in (page.locator("#sessions .s-name").first.text_content() or ""),
        what="most readings first",
    )
    page.fill("#sessions-filter", "walk-1")
    wait_until(page, lambda: page.locator("#sessions li[data-session-id]").count() == 10, what="filtered by name")
    shot(page, "v2-07-sessions")
    # delete, confirmed: gone from the list and from the store
    page.on("dialog", lambda d: d.accept())
    victim = page.locator("#sessions li[data-session-id]").first
    sid = victim.get_attribute("data-session-id")
    victim.locator(".s-delete").click()
    wait_until(page, lambda: page.locator(f'#sessions li[data-session-id="{sid}"]').count() == 0, what="deleted")
    assert page.text_content("#sessions-count") == "9"
    assert page.hrviz_errors == []
