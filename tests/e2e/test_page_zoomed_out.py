"""The main chart zoomed out over a long session in real chromium (issue 12): bands, markers and the
line are merged per pixel column to fit a frame, and still every anomaly shows and every gap is a
break. Read from the pixels the canvas holds, not only from what the chart says it drew.
"""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures / test_browser are parameters here

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ServeProcess,
    browser_fixture,
    page_fixture,
    serve_fixture,
    shot,
    wait_until,
)
from tests.e2e.test_browser import open_page

pytestmark = pytest.mark.browser

READINGS = 40_000  # 1 Hz, ~11 h plus three 2-hour gaps: ~30 s per pixel column at 1280 px
GAPS = {9_000, 19_000, 29_000}  # a 2-hour hole in the clock before these readings


def long_session(path: Path) -> Path:
    """A CSV with a spike every 97 s, a drop every 131 s, an impossible value every 5,000 s, three gaps."""
    t = 1_767_600_000  # 2026-01-05 08:00 UTC
    lines = ["timestamp,bpm"]
    for i in range(READINGS):
        t += 7200 if i in GAPS else 1
        bpm = 90 + 6 * math.sin(i / 600)
        if i % 97 == 50:
            bpm += 70
        elif i % 131 == 20:
            bpm -= 45
        elif i % 5000 == 2500:
            bpm = 250
        lines.append(f"{t},{bpm:.0f}")
    path.write_text("\n".join(lines) + "\n")
    return path


CHECK = """
(() => {
  const c = hrviz.chart, s = hrviz.series, L = c.layout, d = c.drawn, dpr = c.dpr;
  const w = c.canvas.width, img = c.ctx.getImageData(0, 0, w, c.canvas.height).data;
  const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgb = (color) => { probe.clearRect(0, 0, 1, 1); probe.fillStyle = color; probe.fillRect(0, 0, 1, 1);
                           return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)]; };
  const at = (px, py) => [...img.slice((py * w + px) * 4, (py * w + px) * 4 + 4)];
  const line = rgb(c.colors.line); // mostly covered by the (opaque) line: its colour, a little of a band's
  const isLine = (p) => p[3] >= 128 && line.every((v, k) => Math.abs(v - p[k]) <= 24);
  const lineIn = (col) => { for (let py = Math.ceil(L.pad.t); py < L.pad.t + L.ph; py++) if (isLine(at(col, py))) return true; return false; };
  const low = Math.floor(L.pad.t + L.ph - 3 * dpr); // a row under the line and its markers: only bands there
  const out = { events: 0, unpainted: [], notCovered: [], runs: 0, flagged: 0, counted: 0, unmarked: [],
                markers: d.markers.length, lineInGap: [], lineColumns: 0, gapColumns: 0, pw: L.pw, kinds: {} };
  for (const ev of c.events) {
    if (ev.tEnd < L.v.t0 || ev.tStart > L.v.t1) continue;
    out.events += 1;
    out.kinds[ev.kind] = (out.kinds[ev.kind] || 0) + 1;
    const x0 = L.x(ev.tStart), x1 = Math.max(x0 + 2 * dpr, L.x(ev.tEnd));
    const runs = d.runs.get(ev.kind) || [];
    let covered = false;
    let painted = false; // in the plot (bands are clipped to it), some column of the event has colour
    for (let col = Math.max(Math.floor(x0), Math.ceil(L.pad.l)); col < Math.min(x1, L.pad.l + L.pw); col++) {
      for (let j = 0; j < runs.length; j += 2) if (runs[j] <= col && col < runs[j + 1]) covered = true;
      if (at(col, low)[3] > 0) painted = true;
    }
    if (!covered) out.notCovered.push(ev.key);
    if (!painted) out.unpainted.push(ev.key);
    if (ev.kind === "gap") out.gapColumns += x1 - x0;
    if (ev.kind === "gap") for (let col = Math.ceil(x0) + 3; col < x1 - 3; col++) if (lineIn(col)) out.lineInGap.push(col);
  }
  for (let col = Math.ceil(L.pad.l); col < L.pad.l + L.pw; col++) if (lineIn(col)) out.lineColumns += 1;
  for (const runs of d.runs.values()) out.runs += runs.length / 2;
  const cell = 4.5 * dpr;
  for (const [seq, kinds] of s.kinds) {
    if (seq < L.i0 || seq >= L.i1 || !(s.flags[seq] & 4)) continue;
    out.flagged += 1;
    const kind = kinds.find((k) => k !== "missing");
    const home = Math.floor(L.x(s.t[seq]) / cell);
    if (!d.markers.some((m) => m.kind === kind && Math.floor(L.x(s.t[m.seq]) / cell) === home)) out.unmarked.push(seq);
  }
  for (const m of d.markers) out.counted += m.n;
  const many = d.markers.find((m) => m.n > 1);
  out.many = many ? { x: L.x(s.t[many.seq]) / dpr, n: many.n, kind: many.kind } : null;
  return out;
})()
"""


def test_zoomed_out_every_anomaly_shows_and_gaps_stay_breaks(page: Any, serve: ServeProcess, tmp_path: Path) -> None:
    csv = long_session(tmp_path / "long.csv")
    db = serve.args[serve.args.index("--db") + 1]
    subprocess.run([sys.executable, "-m", "hrviz", "ingest", "--db", db, str(csv)], check=True, capture_output=True)
    open_page(page, serve)
    wait_until(page, lambda: page.locator("#sessions li[data-session-id]").count() == 1, what="the stored session")
    sid = page.get_attribute("#sessions li[data-session-id]", "data-session-id")
    page.evaluate(
        f"sessionStorage.setItem('hrviz.position', JSON.stringify({{session_id: '{sid}', seq: {READINGS - 1}, speed: 1, paused: true}}))"
    )
    page.reload()
    wait_until(page, lambda: page.evaluate("hrviz.series.count") == READINGS, timeout=60, what="the whole session")
    wait_until(page, lambda: page.evaluate("hrviz.chart.events.length") > 600, timeout=30, what="the events")
    page.evaluate("(() => { const s = hrviz.series; hrviz.chart.show(s.t[0], s.t[s.count - 1]); })()")
    page.wait_for_timeout(300)
    r = page.evaluate(CHECK)
    assert r["events"] > 600 and {"spike", "drop", "gap", "out_of_range"} <= set(r["kinds"]), r["kinds"]
    assert r["notCovered"] == [] and r["unpainted"] == [], "every event's band shows, merged or not"
    assert r["runs"] < r["events"] / 2, f"{r['runs']} rectangles for {r['events']} events: not merged"
    assert r["unmarked"] == [] and r["counted"] == r["flagged"], "every flagged reading is under a marker of its kind"
    assert r["markers"] < r["flagged"] / 2, f"{r['markers']} markers for {r['flagged']} readings: not merged"
    assert r["kinds"]["gap"] == len(GAPS) and r["lineInGap"] == [], "no line across a gap"
    assert r["lineColumns"] > 0.95 * (r["pw"] - r["gapColumns"]), "the line is drawn in every column but the gaps'"
    shot(page, "v2-zoomed-out-40k")
    # a marker standing for several readings says so in its tooltip
    assert r["many"], "no marker stands for more than one reading"
    box = page.locator("#chart").bounding_box()
    page.mouse.move(box["x"] + r["many"]["x"], box["y"] + box["height"] / 2)
    wait_until(page, lambda: page.is_visible("#tooltip"), what="the tooltip")
    assert f"of {r['many']['n']} " in (page.text_content("#tooltip") or ""), page.text_content("#tooltip")
    # the block summaries the zoomed-out line and the y range read agree with the readings, also after a jump back
    summaries = page.evaluate(SUMMARIES)
    assert summaries["ranges"] > 0 and summaries["wrong"] == [], summaries
    assert page.hrviz_errors == []


SUMMARIES = """
(() => {
  const s = hrviz.series, wrong = [];
  const brute = (i0, i1) => { let lo = Infinity, hi = -Infinity;
    for (let i = i0; i < i1; i++) { lo = Math.min(lo, s.bpm[i]); hi = Math.max(hi, s.bpm[i]); } return [lo, hi]; };
  const check = (i0, i1) => { const [a, b] = s.range(i0, i1), [c, d] = brute(i0, i1);
    if (a !== c || b !== d) wrong.push([i0, i1, a, b, c, d]); };
  let seed = 7, ranges = 0;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let k = 0; k < 200; k++, ranges++) { const a = rnd(s.count), b = a + 1 + rnd(s.count - a); check(a, b); }
  // a jump back, then other readings: the cut big block (31,744-32,767) held the impossible 250 at 32,500
  s.truncate(32_001);
  for (let seq = 32_001; seq < 32_768; seq++) s.push(seq, s.t[seq - 1] + 1, 90, false, null, false);
  for (const [a, b] of [[31_744, 32_768], [0, 32_768], [32_000, 32_768], [31_744, 32_001]]) { check(a, b); ranges++; }
  return { ranges, wrong };
})()
"""
