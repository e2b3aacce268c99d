"""The page in real chromium against ``hrviz serve`` run as a user runs it (a subprocess).

Pace is checked at 1x once; elsewhere 60x keeps the suite short. Screenshots of the key states
go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import services
from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ROOT,
    ServeProcess,
    browser_fixture,
    clean_env,
    number,
    page_fixture,
    serve_fixture,
    shot,
    wait_until,
    wire_seqs,
)

pytestmark = pytest.mark.browser

DEMO = ROOT / "samples" / "demo_run.csv"
from tests.real_data import REAL  # noqa: E402

XSS = "<img src=x onerror=\"document.title='pwned'\">"


def open_page(page: Any, server: ServeProcess) -> None:
    page.goto(server.url)
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "online", what="connected status")


def upload(page: Any, path: Path | dict[str, Any]) -> None:
    page.set_input_files("#file", path if isinstance(path, dict) else str(path))


def shown(page: Any) -> int:
    return number(page, "#readings-shown")


def median_step(page: Any, changes: int, timeout: float = 30) -> float:
    """Seconds per reading between changes of the count the page shows: the median over ``changes`` of them."""
    times: list[float] = []
    counts: list[int] = []
    deadline = time.monotonic() + timeout
    while len(times) <= changes and time.monotonic() < deadline:
        count = shown(page)
        if not counts or count != counts[-1]:
            times.append(time.monotonic())
            counts.append(count)
        page.wait_for_timeout(20)
    assert len(times) > changes, f"the count changed {len(times) - 1} times in {timeout} s"
    steps = sorted((b - a) / (m - n) for a, b, n, m in zip(times, times[1:], counts, counts[1:], strict=False))
    return steps[len(steps) // 2]


def assert_every_reading_once(page: Any, settled: bool = False) -> None:
    """What the WebSocket frames carried, as the browser saw them (not the page's own counters): readings 0, 1, 2 …
    each exactly once across reconnects, every event once and before the reading that reaches it. ``settled`` (ended
    or paused): the page shows exactly the readings that arrived."""
    wire = list(page.hrviz_wire)
    seqs = wire_seqs(wire)
    assert seqs, "no reading on the wire"
    assert seqs == list(range(len(seqs))), [(i, s) for i, s in enumerate(seqs) if s != i][:5]
    events = [m for m in wire if m["type"] == "anomaly"]
    keys = [(m["kind"], m["start"]) for m in events]
    assert len(set(keys)) == len(keys), "an event arrived twice"
    order = [(m["type"], m["seq"]) for m in wire if m["type"] in ("reading", "anomaly")]
    for m in events:
        if ("reading", m["seq"]) in order:
            assert order.index(("anomaly", m["seq"])) < order.index(("reading", m["seq"]))
    if settled:
        assert shown(page) == len(seqs)


def test_demo_replays_live_with_anomalies_pause_and_speed(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    shot(page, "01-empty")
    upload(page, DEMO)
    wait_until(page, lambda: shown(page) >= 1, what="the first reading")
    assert page.text_content("#session-title") == "demo_run.csv"
    # one reading per second at 1x: the median step (a stall of this machine makes one step long, the next short)
    assert 0.75 <= median_step(page, 3) <= 1.25
    assert page.text_content("#current-bpm") not in ("", "–")
    # 60x: anomalies fill the panel, most severe on top, each with its sentence, and are marked on the chart
    page.select_option("#speed", "60")
    wait_until(page, lambda: page.locator("#anomalies li[data-kind]").count() >= 4, timeout=20, what="anomalies")
    kinds = page.locator("#anomalies li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert set(kinds) <= {"spike", "drop", "missing", "gap", "out_of_range", "flatline"}
    assert page.evaluate("hrviz.chart.events.length") == page.locator("#anomalies li").count()
    severities = page.locator("#anomalies li").evaluate_all("els => els.map(e => Number(e.dataset.severity))")
    assert severities == sorted(severities, reverse=True) and all(0 <= x <= 1 for x in severities)
    assert all(page.locator("#anomalies .ev-detail").all_text_contents())
    shot(page, "02-live-60x")
    # clicking an event shows where it is on the chart and jumps the replay there. The next one at least 20
    # readings ahead: the readings on the way come as history, where one already reached would rewind the replay
    # and re-send what the page has (the wire check below counts each reading once)
    ahead = page.evaluate(
        """() => {
          const e = hrviz.events, later = e.events.filter((ev) => ev.seq > e.position + 20);
          if (!later.length) return -1;
          const next = later.reduce((a, b) => (b.seq < a.seq ? b : a));
          return [...document.querySelectorAll("#anomalies li")].indexOf(e.rows.get(next.key));
        }"""
    )
    assert ahead >= 0, "every event reached before one could be picked"
    row = page.locator("#anomalies li").nth(ahead)
    row.locator("button").click()
    assert row.get_attribute("class") == "selected"
    assert page.evaluate("hrviz.chart.highlight !== null") and page.is_visible("#live")
    shot(page, "03-anomaly-selected")
    page.click("#live")
    # pause stops the chart; resume continues it
    page.click("#pause")
    wait_until(page, lambda: page.get_attribute("#pause", "aria-pressed") == "true", what="paused")
    page.wait_for_timeout(300)
    paused_at = shown(page)
    page.wait_for_timeout(1500)
    assert shown(page) == paused_at
    # the tooltip gives time, bpm and flags of the point under the pointer, as text
    box = page.locator("#chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.97, box["y"] + box["height"] / 2)
    wait_until(page, lambda: page.is_visible("#tooltip"), what="the tooltip")
    tip = page.text_content("#tooltip") or ""
    assert re.search(r"\d\d:\d\d:\d\d", tip) and " bpm" in tip
    shot(page, "03b-tooltip")
    page.click("#pause")
    wait_until(page, lambda: shown(page) > paused_at + 10, what="resumed readings")
    wait_until(page, lambda: "End of the recording" in (page.text_content("#message") or ""), timeout=20, what="end")
    assert shown(page) == 520
    assert {"spike", "drop", "missing", "gap", "out_of_range", "flatline"} <= set(
        page.locator("#anomalies li").evaluate_all("els => els.map(e => e.dataset.kind)")
    )
    assert_every_reading_once(page, settled=True)
    assert wire_seqs(page.hrviz_wire) == list(range(520))
    # the panel lists exactly the events the wire brought (the whole list comes up front, in `events` pages)
    listed = {(e["kind"], e["start"]) for m in page.hrviz_wire if m["type"] == "events" for e in m["events"]}
    assert {kind for kind, _ in listed} == {"spike", "drop", "missing", "gap", "out_of_range", "flatline"}
    on_page = page.locator("#anomalies li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert sorted(on_page) == sorted(kind for kind, _ in listed)
    assert {(m["kind"], m["start"]) for m in page.hrviz_wire if m["type"] == "anomaly"} <= listed
    shot(page, "04-end")
    # the session is listed and replays from the list
    page.locator("#sessions li .s-play").first.click()
    wait_until(page, lambda: 0 < shown(page) < 520, what="replay from the list")
    assert page.hrviz_errors == []


def test_phone_layout_and_dark_mode(browser: Any, serve: ServeProcess) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark", device_scale_factor=2)
    page = context.new_page()
    try:
        open_page(page, serve)
        upload(page, DEMO)
        page.select_option("#speed", "60")
        wait_until(page, lambda: page.locator("#anomalies li").count() >= 2, what="anomalies")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "nothing overflows sideways on a phone"
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg != "rgb(246, 247, 249)", "dark mode follows prefers-color-scheme"
        shot(page, "05-phone-dark")
    finally:
        context.close()


@pytest.mark.parametrize(
    "name",
    ["polar_flow_running_2015-09-06.csv", "fitbit_google_takeout_heart_rate_2024-03-31.csv"],
)
def test_real_recordings(page: Any, serve: ServeProcess, name: str) -> None:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real recordings not available: {path} is missing (set HRVIZ_REAL_DATA)")
    open_page(page, serve)
    upload(page, path)
    wait_until(page, lambda: shown(page) >= 1, timeout=30, what=f"the first reading of {name}")
    page.select_option("#speed", "60")
    wait_until(page, lambda: shown(page) >= 60, what="a minute of readings")
    assert name in (page.text_content("#session-title") or "")
    assert re.fullmatch(r"\d+(\.\d)?", page.text_content("#current-bpm") or "")
    page.click("#pause")
    wait_until(page, lambda: page.get_attribute("#pause", "aria-pressed") == "true", what="paused")
    page.wait_for_timeout(300)
    assert_every_reading_once(page, settled=True)
    shot(page, f"06-real-{path.stem}")
    assert page.hrviz_errors == []


def test_reconnects_and_resumes_without_gap_or_duplicate(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, DEMO)
    wait_until(page, lambda: shown(page) >= 1, what="the first reading")
    page.select_option("#speed", "10")
    wait_until(page, lambda: shown(page) >= 30, what="30 readings")
    # 1: the server process goes away and comes back on the same port
    serve.stop()
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "offline", what="offline status")
    assert "retrying" in (page.text_content("#status") or "")
    at_drop = shown(page)
    shot(page, "07-offline")
    serve.start()
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "online", timeout=20, what="reconnect")
    wait_until(page, lambda: shown(page) >= at_drop + 20, what="readings after the reconnect")
    assert_every_reading_once(page)
    # 2: the socket is dropped under a running replay
    page.evaluate("hrviz.conn.drop()")
    before = shown(page)
    wait_until(page, lambda: shown(page) >= before + 20, what="readings after a dropped socket")
    page.click("#pause")
    wait_until(page, lambda: page.get_attribute("#pause", "aria-pressed") == "true", what="paused")
    page.wait_for_timeout(300)
    assert_every_reading_once(page, settled=True)
    # the panel holds each event once however often it reconnected
    keys = page.locator("#anomalies li .ev-time").all_text_contents()
    kinds = page.locator("#anomalies li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert len(set(zip(keys, kinds, strict=True))) == len(keys)
    assert page.hrviz_errors == [] or all("WebSocket" in e or "ERR_CONNECTION" in e for e in page.hrviz_errors)


def test_bad_file_shows_the_readers_message_as_text(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    bad = f"{XSS},<b>bold</b>\n1,2\nfoo,bar\n".encode()
    upload(page, {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    wait_until(page, lambda: page.get_attribute("#message", "data-kind") == "error", what="the error message")
    text = page.text_content("#message") or ""
    assert text.startswith("Could not use bad.csv, line 1: no heart-rate column found")  # the file named once
    assert "'<img src=x onerror=" in text and "'<b>bold</b>'" in text  # shown literally
    assert page.locator("#message img, #message b").count() == 0
    assert page.title() != "pwned"
    shot(page, "08-bad-file")


def test_html_in_a_file_is_shown_as_text_never_run(page: Any, serve: ServeProcess) -> None:
    rows = ["subject,timestamp,bpm"]
    quoted = '"' + XSS.replace('"', '""') + '"'
    rows += [f"{quoted},2026-01-01T00:00:{i:02d},{60 + i % 5}" for i in range(40)]
    data = ("\n".join(rows) + "\n").encode()
    open_page(page, serve)
    upload(page, {"name": f"{XSS}.csv", "mimeType": "text/csv", "buffer": data})
    wait_until(page, lambda: shown(page) >= 1, what="the first reading")
    title = page.text_content("#session-title") or ""
    assert title == f"{XSS}.csv — {XSS}"
    page.click("#sessions-title")  # any interaction; nothing must have run
    wait_until(page, lambda: page.locator("#sessions li .s-play").count() >= 1, what="the session listing")
    assert XSS in (page.text_content("#sessions") or "")
    assert page.locator("img").count() == 0
    assert page.title() != "pwned"
    shot(page, "09-html-as-text")


# -- the real stack --------------------------------------------------------------------------------


@pytest.fixture
def real_stack(tmp_path: Path) -> Iterator[ServeProcess]:
    """``hrviz serve --mysql --kafka`` on a fresh database and topic; fails under HRVIZ_REQUIRE_SERVICES=1."""
    base = services.require("mysql")
    bootstrap = services.require("kafka")
    from tests.integration.conftest import drop_database, fresh_database_url

    url = fresh_database_url(base)
    topic = f"hrviz.e2e.{uuid.uuid4().hex[:12]}"
    env = clean_env(HRVIZ_KAFKA_TOPIC=topic)
    server = ServeProcess(["--mysql", url, "--kafka", bootstrap], env, tmp_path / "serve.log")
    yield server
    server.stop()
    drop_database(url)


def test_the_same_flow_on_mysql_and_kafka(page: Any, real_stack: ServeProcess) -> None:
    open_page(page, real_stack)
    upload(page, DEMO)
    wait_until(page, lambda: shown(page) >= 1, timeout=30, what="the first reading from Kafka")
    page.select_option("#speed", "60")
    wait_until(page, lambda: page.locator("#anomalies li").count() >= 4, timeout=20, what="anomalies")
    real_stack.restart()  # a fresh process: everything comes from MySQL + Kafka, nothing from memory
    wait_until(page, lambda: shown(page) >= 200, timeout=30, what="readings after the restart")
    page.click("#pause")
    wait_until(page, lambda: page.get_attribute("#pause", "aria-pressed") == "true", what="paused")
    page.wait_for_timeout(300)
    assert_every_reading_once(page, settled=True)
    shot(page, "10-real-stack")
    assert page.hrviz_errors == [] or all("WebSocket" in e or "ERR_CONNECTION" in e for e in page.hrviz_errors)
