"""Frame time of the page's charts in Chromium, for sessions of 100k and 1M readings (issue 12).

    python bench/bench_page_frames.py [--sizes 100000 1000000] [--frames 120] [--before REV] [--out FILE]

For each size: a generated 1 Hz file (bench/generate.py) is ingested into a fresh SQLite db,
``hrviz serve`` runs on it, and Debian's chromium opens the page as a reload would, at the last
reading, so the whole session comes back in history pages (the time that takes is reported).
Then, in the page, for ``--frames`` animation frames each:

- ``floor``: nothing drawn at all, the interval between frames the machine gives an idle page
  (measured first and last: on a shared machine it is the floor every other row stands on);
- ``zoomed out``: the main chart shows the whole session and pans a little every frame (measured
  right after the restore and again after the other views);
- ``following``: the default view (the newest ~180 readings);
- ``overview``: the whole-session strip redrawn every frame;
- ``busy``: no drawing, but each frame spins the CPU for as long as the zoomed-out draw's median
  took just before: what the machine's load alone does to the frame interval of that much work;
- ``naive``: the same zoomed-out view drawn the way the chart did before (one lineTo per reading,
  no per-pixel-column min/max, no bands or markers), in the same run, as the baseline;
- with ``--before REV``: ``zoomed out`` again on a second server serving ``web/`` as it was at the
  git revision REV, in the same run, so a change to the chart is measured side by side.

Reported: the draw's own time (p50/p95, ms; performance.now around draw()) and the interval
between animation frames while drawing (p50/p95; 16.7 ms is 60 fps), which also pays for
rasterising the canvas; and the load average around each size. Read the ratios: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hrviz.adapters.store.sqlite import SqliteStore  # noqa: E402
from tests.e2e.browser_fixtures import CHROMIUM, CHROMIUM_ARGS, ServeProcess, clean_env  # noqa: E402

MEASURE = """
async ([frames, mode, busy]) => {
  const c = hrviz.chart, s = hrviz.series, o = hrviz.overview;
  const t0 = s.t[0], t1 = s.t[s.count - 1];
  if (mode === "following") c.follow(); else c.show(t0, t1);
  const naive = () => {  // the chart before decimation: one segment per reading in view
    const ctx = c.ctx, L = c.layout;
    ctx.clearRect(0, 0, c.canvas.width, c.canvas.height);
    ctx.beginPath();
    for (let i = L.i0; i < L.i1; i++) {
      const x = L.x(s.t[i]), y = L.y(s.bpm[i]);
      if (i === L.i0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
  };
  const draws = [], gaps = [];
  let last = null;
  await new Promise((done) => {
    let n = 0;
    const step = (now) => {
      if (last !== null) gaps.push(now - last);
      last = now;
      if (mode === "zoomed out" || mode === "naive") c.view = { t0: t0 + (n % 10) * 60, t1: t1 + (n % 10) * 60 };
      if (mode === "naive") c.draw(); // for its layout (the view's index range and scales): not timed
      const a = performance.now();
      if (mode === "overview") o.draw();
      else if (mode === "naive") naive();
      else if (mode.startsWith("busy")) while (performance.now() - a < busy); // the CPU a draw takes, nothing drawn
      else if (mode !== "floor") c.draw();
      draws.push(performance.now() - a);
      if (++n < frames) requestAnimationFrame(step); else done();
    };
    requestAnimationFrame(step);
  });
  return { draws, gaps, visible: c.layout ? c.layout.i1 - c.layout.i0 : 0 };
}
"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


# zoomed out twice, right after the restore and last: the first can meet the restore's garbage collection
MODES = ("floor", "zoomed out", "busy", "following", "overview", "naive", "zoomed out", "floor")


def session_file(size: int, work: Path) -> tuple[Path, str, int]:
    """A fresh SQLite db holding one generated session of ``size`` readings: (db, session id, readings)."""
    csv = work / f"hr_{size}.csv"
    db = work / f"page_{size}.sqlite3"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", str(size), "--out", str(csv)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "hrviz", "ingest", "--db", str(db), str(csv)], check=True, capture_output=True
    )
    store = SqliteStore(db)
    listed = store.browse().items[0].session
    store.close()
    return db, listed.id, listed.readings


def measure(
    server: ServeProcess, sid: str, total: int, frames: int, browser: Any, modes: tuple[str, ...]
) -> dict[str, Any]:
    """Open the page restored at the session's last reading, then time ``frames`` frames of each mode."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("console", lambda m: print("console:", m.text, file=sys.stderr))
    page.goto(server.url)
    page.wait_for_timeout(500)
    saved = f'{{"session_id": "{sid}", "seq": {total - 1}, "speed": 1, "paused": true}}'
    page.evaluate(f"sessionStorage.setItem('hrviz.position', '{saved}')")
    started = time.monotonic()
    page.reload()
    while page.evaluate("hrviz.series.count") < total:
        page.wait_for_timeout(20)
        if time.monotonic() - started > 120:
            raise RuntimeError(f"the page holds {page.evaluate('hrviz.series.count')} of {total} readings after 120 s")
    restore = time.monotonic() - started
    while not page.evaluate("hrviz.overview.data !== null"):
        page.wait_for_timeout(20)
        if time.monotonic() - started > 120:
            raise RuntimeError("no overview after 120 s")
    page.wait_for_timeout(1000)  # let the restore's last paint and garbage settle before the first floor
    out: dict[str, Any] = {"restore_s": restore}
    for mode in modes:
        busy = out["zoomed out"]["draw_p50"] if mode == "busy" else 0
        r = page.evaluate(MEASURE, [frames, mode, busy])
        key = f"busy (spins {busy:.1f} ms a frame, nothing drawn)" if mode == "busy" else mode
        key = key if key not in out else f"{key} (again)"
        out[key] = {
            "draw_p50": statistics.median(r["draws"]),
            "draw_p95": pct(r["draws"], 0.95),
            "frame_p50": statistics.median(r["gaps"]),
            "frame_p95": pct(r["gaps"], 0.95),
            "visible": r["visible"] if mode not in ("floor", "busy") else 0,
        }
    page.close()
    return out


def web_at(rev: str, work: Path) -> Path:
    """``web/`` as it was at git revision ``rev``, extracted under ``work``."""
    dest = work / f"web-{rev.replace('/', '_')}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "web"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "web"


def run(size: int, frames: int, work: Path, browser: Any, before: Path | None, rev: str) -> list[str]:
    db, sid, total = session_file(size, work)
    load0 = os.getloadavg()[0]
    rows: list[tuple[str, dict[str, Any], float]] = []
    server = ServeProcess(["--db", str(db)], clean_env(), work / f"serve_{size}.log")
    try:
        r = measure(server, sid, total, frames, browser, MODES)
        rows += [(mode, m, r["restore_s"]) for mode, m in r.items() if mode != "restore_s"]
    finally:
        server.stop()
    if before is not None:
        server = ServeProcess(
            ["--db", str(db)], clean_env(HRVIZ_WEB_DIR=str(before)), work / f"serve_{size}_before.log"
        )
        try:
            r = measure(server, sid, total, frames, browser, ("floor", "zoomed out", "zoomed out"))
            rows += [(f"{mode}, web/ at {rev}", m, r["restore_s"]) for mode, m in r.items() if mode != "restore_s"]
        finally:
            server.stop()
    load1 = os.getloadavg()[0]
    lines = [
        f"| {size:,} | {restore:.1f} s | {mode} | {m['visible']:,} | {m['draw_p50']:.1f} ms | {m['draw_p95']:.1f} ms "
        f"| {m['frame_p50']:.1f} ms | {m['frame_p95']:.1f} ms | {load0:.1f} → {load1:.1f} |"
        for mode, m, restore in rows
    ]
    print("\n".join(lines), flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument(
        "--before", metavar="REV", help="also measure the zoomed-out view with web/ as at this git revision"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    lines = [
        "| readings | restore (reload, all history) | view | readings in view | draw p50 | draw p95 "
        "| frame interval p50 | frame interval p95 | load average (1 min, start → end) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="hrviz-page-bench-") as tmp, sync_playwright() as pw:
        before = web_at(args.before, Path(tmp)) if args.before else None
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in args.sizes:
            lines += run(size, args.frames, Path(tmp), browser, before, args.before or "")
        browser.close()
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
