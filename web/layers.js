// What the main chart draws, reduced to what a screen can show before anything becomes a path:
// zoomed out over a long session, thousands of events and flagged readings share a few hundred
// pixel columns, and a software rasteriser pays per shape, not per pixel. Each reduction keeps
// every anomaly visible (a merged band still covers each event's columns; a marker stands for the
// others of its kind in its cell and says how many).

import { AFTER_GAP, BIG, BLOCK, FLAGGED } from "./series.js";

/** Per kind, the runs of device-pixel columns covered by at least one event (each at least `minW`
 * wide), as a flat [c0, c1, c0, c1, ...] list: one rectangle per run instead of one per event. */
export function coverRuns(events, v, x, width, minW) {
  const diff = new Map(); // kind -> +1 where an event starts covering, -1 past its last column
  for (const ev of events) {
    if (ev.tEnd < v.t0 || ev.tStart > v.t1) continue;
    const c = Math.round(x(ev.tStart)); // edges to the nearest column: a short event is exactly minW wide
    const c0 = Math.max(0, c);
    const c1 = Math.min(width, Math.max(c + Math.round(minW), Math.round(x(ev.tEnd))));
    if (c1 <= c0) continue;
    let d = diff.get(ev.kind);
    if (!d) diff.set(ev.kind, (d = new Int32Array(width + 1)));
    d[c0] += 1;
    d[c1] -= 1;
  }
  const runs = new Map();
  for (const [kind, d] of diff) {
    const list = [];
    let depth = 0;
    let start = -1;
    for (let c = 0; c <= width; c++) {
      depth += d[c];
      if (depth > 0 && start < 0) start = c;
      else if (depth <= 0 && start >= 0) {
        list.push(start, c);
        start = -1;
      }
    }
    runs.set(kind, list);
  }
  return runs;
}

const KIND_NUMBER = { spike: 0, drop: 1, out_of_range: 2, flatline: 3 }; // 6: impossibly high, 7: any other
const EXTREME = { spike: 1, drop: -1 }; // the reading a cell's marker shows: the highest spike, the lowest drop

/** The flagged readings of [i0, i1) that get a marker: one per kind per `cell`-wide strip of pixels
 * (a marker is two cells wide, so more would only overprint; impossibly high and impossibly low
 * values apart), the most extreme of its kind there, with `n`, how many readings it stands for. */
export function pickMarkers(s, i0, i1, x, cell) {
  const cells = new Map(); // cell * 8 + kind's number -> {seq, kind, n} (a number: no string per reading)
  for (const [seq, kinds] of s.kinds) {
    if (seq < i0 || seq >= i1 || !(s.flags[seq] & FLAGGED)) continue;
    const kind = kinds.find((k) => k !== "missing");
    const high = kind === "out_of_range" && s.bpm[seq] > 100 ? 4 : 0; // impossibly high and low apart
    const key = Math.floor(x(s.t[seq]) / cell) * 8 + (KIND_NUMBER[kind] ?? 7) + high;
    const m = cells.get(key);
    if (!m) cells.set(key, { seq, kind, n: 1 });
    else {
      m.n += 1;
      const sign = EXTREME[kind] || 0;
      if (sign * (s.bpm[seq] - s.bpm[m.seq]) > 0) m.seq = seq;
    }
  }
  return [...cells.values()];
}

/** The line of readings [i0, i1) when they outnumber the pixel columns: per column the span of
 * its readings and of the last reading before it (so consecutive columns join), as `bar(c, top,
 * bottom)` in device pixels, never across a gap; columns further apart than one pixel are joined
 * by `join(x0, y0, x1, y1)`. Whole blocks of 1,024 or 64 readings inside one column are read
 * from their summary. Bars, not a stroked path: a rasteriser fills a thousand rectangles faster than it
 * strokes a thousand joins. */
export function columns(s, i0, i1, x, y, bar, join) {
  let col = null; // the column being gathered, its extent in y and the y of its last reading
  let top = 0;
  let bottom = 0;
  let last = 0;
  const start = (c, py, first, after) => {
    if (col !== null) bar(col, top, bottom);
    if (col !== null && !after && c - col > 1) join(col, last, c, first);
    const joined = col !== null && !after && c - col === 1;
    top = joined ? Math.min(py, last, first) : Math.min(py, first);
    bottom = joined ? Math.max(py, last, first) : Math.max(py, first);
    col = c;
  };
  for (let i = i0; i < i1; i++) {
    const after = (s.flags[i] & AFTER_GAP) !== 0;
    // a whole big block, else a whole block, inside one column: its summary instead of its readings
    let size = 0;
    if (i % BIG === 0 && i + BIG <= i1 && !s.bigGap[i / BIG] && x(s.t[i + BIG - 1]) - x(s.t[i]) < 1) size = BIG;
    else if (i % BLOCK === 0 && i + BLOCK <= i1 && !s.blkGap[i / BLOCK] && x(s.t[i + BLOCK - 1]) - x(s.t[i]) < 1) size = BLOCK;
    if (size) {
      const b = i / size;
      const c = Math.round(x(s.t[i]));
      const hi = y(size === BIG ? s.bigHi[b] : s.blkHi[b]);
      const lo = y(size === BIG ? s.bigLo[b] : s.blkLo[b]);
      if (c !== col || after) start(c, hi, y(s.bpm[i]), after);
      if (hi < top) top = hi;
      if (lo > bottom) bottom = lo;
      last = y(s.bpm[i + size - 1]);
      i += size - 1;
      continue;
    }
    const c = Math.round(x(s.t[i]));
    const py = y(s.bpm[i]);
    if (c !== col || after) start(c, py, py, after);
    if (py < top) top = py;
    if (py > bottom) bottom = py;
    last = py;
  }
  if (col !== null) bar(col, top, bottom);
}
