"""A live session in real chromium (issue 14): ``hrviz ingest -`` fed through a pipe line by line,
the page listing it with its live badge, drawing each reading as it is written, showing the
anomalies found so far, and dropping the badge when the input ends (docs/live.md)."""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures are parameters here

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ARTIFACTS,
    ServeProcess,
    browser_fixture,
    clean_env,
    number,
    page_fixture,
    shot,
    wait_until,
    wire_seqs,
)
from tests.e2e.test_browser import open_page

pytestmark = pytest.mark.browser

T0 = 1714557600  # 2024-05-01T10:00:00Z
BEFORE = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 150, 70, 71, 70, 69, 70, 71, 70]  # a spike at 10
LIVE = 6  # readings written one by one once the page follows the session
SPIKE_LATER = [71, 70, 152, 70, 71, 70, 69, 70]  # then a spike, written after the page opened


def line(i: int, bpm: int) -> str:
    return f"{T0 + i},{bpm}\n"


def inked_share(page: Any) -> float:
    """The share of the overview strip's pixel columns the session's line or band draws in (above the event marks)."""
    return float(
        page.evaluate(
            """(() => {
              const o = hrviz.overview, layer = o.still().layer, h = layer.height - 7 * o.dpr;
              const px = layer.getContext("2d").getImageData(0, 0, layer.width, h).data;
              const cols = new Set();
              for (let i = 3; i < px.length; i += 4) if (px[i] > 0) cols.add(((i - 3) / 4) % layer.width);
              return cols.size / layer.width;
            })()"""
        )
    )


def live_badges(page: Any) -> int:
    return int(page.locator("#sessions li[data-session-id] .live-badge").count())


def test_a_live_session_is_badged_followed_as_written_and_unbadged_when_it_ends(page: Any, tmp_path: Path) -> None:
    db = tmp_path / "hrviz.sqlite3"
    ingest = subprocess.Popen(
        [sys.executable, "-m", "hrviz", "ingest", "-", "--db", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    serve = ServeProcess(["--db", str(db)], clean_env(), tmp_path / "serve.log")
    try:
        assert ingest.stdin is not None
        ingest.stdin.write("time,bpm\n" + "".join(line(i, v) for i, v in enumerate(BEFORE)))
        ingest.stdin.flush()
        open_page(page, serve)
        # the list is asked for when the page connects: reload until ingest's first transaction is in it
        deadline = time.monotonic() + 20
        while live_badges(page) == 0 and time.monotonic() < deadline:
            page.wait_for_timeout(300)
            page.reload()
            open_page(page, serve)
        assert live_badges(page) == 1, "the live session is listed with its badge"
        shot(page, "live-01-listed-with-badge")
        page.locator("#sessions li .s-play").first.click()
        # opened mid-way: what is stored so far at once, and the anomaly found so far (the spike at 10)
        wait_until(page, lambda: number(page, "#readings-shown") == len(BEFORE), what="the history so far drawn")
        wait_until(page, lambda: page.locator("#anomalies li[data-kind='spike']").count() == 1, what="the spike so far")
        shot(page, "live-02-opened-mid-way")
        # the overview strip of 18 readings in 1,200 buckets draws a line across, not 18 dots of a pixel
        wait_until(page, lambda: page.evaluate("hrviz.overview.data !== null"), what="the overview")
        assert inked_share(page) > 0.8
        page.locator("#overview").screenshot(path=str(ARTIFACTS / "live-02b-overview-strip.png"))
        wire = page.hrviz_wire
        n = len(BEFORE)
        for i in range(n, n + LIVE):
            assert i not in wire_seqs(wire), f"reading {i} arrived before it was written"
            written = time.monotonic()
            ingest.stdin.write(line(i, 72))
            ingest.stdin.flush()
            wait_until(page, lambda i=i: i in wire_seqs(wire), timeout=10, what=f"reading {i} on the socket")
            wait_until(
                page, lambda i=i: number(page, "#readings-shown") == i + 1, timeout=10, what=f"reading {i} drawn"
            )
            # drawn as it is written: a second at most (store, the server's 50 ms look, a frame), not at replay pace
            assert time.monotonic() - written < 3.0
            page.wait_for_timeout(150)  # apart, as a logger writes them
        live = [m for m in list(wire) if m["type"] == "reading" and m["seq"] >= n]
        assert [m["seq"] for m in live] == list(range(n, n + LIVE))  # one message each, in order, no gap
        assert live_badges(page) == 1
        assert page.text_content("#position") == f"{n + LIVE} / {n + LIVE}"  # the session grows, not 24 / 18
        shot(page, "live-03-following")
        # a spike written after the page opened: the panel, its count and the header line fill while it watches
        meta_before = page.text_content("#session-meta") or ""
        for i, bpm in enumerate(SPIKE_LATER, start=n + LIVE):
            ingest.stdin.write(line(i, bpm))
            ingest.stdin.flush()
            page.wait_for_timeout(150)
        total = n + LIVE + len(SPIKE_LATER)
        spikes = page.locator("#anomalies li[data-kind='spike']")
        wait_until(page, lambda: spikes.count() == 2, timeout=15, what="the spike found while the page watched")
        wait_until(page, lambda: number(page, "#readings-shown") == total, timeout=10, what="every reading drawn")
        assert page.text_content("#anomaly-count") == "2"
        meta = page.text_content("#session-meta") or ""
        assert f"{total} readings" in meta and "2 anomalies" in meta, (meta_before, meta)
        assert f"{n + LIVE} readings" in meta_before and "1 anomaly" in meta_before  # not the opening's 18
        assert "10:00:00" in meta and f"10:00:{total - 1:02d}" in meta, meta  # the span follows the live edge
        # the overview strip follows the live edge too (the server's is the session as it was opened)
        t1 = "hrviz.overview.data.t1"
        wait_until(page, lambda: page.evaluate(t1) == T0 + total - 1, timeout=10, what="the overview at the edge")
        assert inked_share(page) > 0.8
        shot(page, "live-04-spike-while-watching")
        page.locator("#overview").screenshot(path=str(ARTIFACTS / "live-04b-overview-strip.png"))
        ingest.stdin.close()  # the end of the input: the session is finalized
        assert ingest.wait(30) == 0, ingest.stderr.read() if ingest.stderr else ""
        wait_until(page, lambda: any(m["type"] == "end" for m in list(wire)), timeout=10, what="end")
        wait_until(page, lambda: live_badges(page) == 0, timeout=10, what="the badge gone")
        assert page.locator("#sessions li[data-session-id]").count() == 1
        assert number(page, "#readings-shown") == total
        assert spikes.count() == 2 and page.text_content("#anomaly-count") == "2"  # each listed once
        shot(page, "live-05-ended-no-badge")
        assert page.hrviz_errors == []
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(5)
        serve.stop()
