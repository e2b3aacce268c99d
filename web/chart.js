// The live chart, hand-drawn on a canvas: one column per reading (replay ticks), bpm on y.
// Gaps are breaks (never bridged), filled readings are hollow points on a dashed line, and
// anomaly events are bands in their kind's colour. Nothing from the file is ever parsed as HTML.

const KINDS = ["spike", "drop", "missing", "gap", "out_of_range", "flatline"];

export class Chart {
  constructor(canvas, tooltip) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.tooltip = tooltip;
    this.points = []; // {seq, t, ts, bpm, filled, kinds, afterGap}
    this.events = []; // {kind, seq, endSeq|null, start, tStart, tEnd}
    this.windowSize = 180;
    this.viewEnd = null; // null: follow the newest reading; else the last seq in view
    this.highlight = null; // an event to outline after a click in the panel
    this.pending = null;
    this.colors = {};
    this.readColors();
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      this.readColors();
      this.redraw();
    });
    canvas.addEventListener("pointermove", (e) => this.hover(e));
    canvas.addEventListener("pointerleave", () => this.hideTooltip());
    this.resize();
  }

  readColors() {
    const css = getComputedStyle(document.documentElement);
    const v = (name) => css.getPropertyValue(name).trim();
    this.colors = { line: v("--line"), grid: v("--grid"), text: v("--muted"), fg: v("--fg"), bg: v("--card") };
    for (const k of KINDS) this.colors[k] = v(`--k-${k}`);
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    this.windowSize = r.width < 500 ? 90 : 180;
    this.redraw();
  }

  clear() {
    this.points = [];
    this.events = [];
    this.viewEnd = null;
    this.highlight = null;
    this.redraw();
  }

  add(point) {
    this.points.push(point);
    for (const ev of this.events) {
      if (ev.endSeq === null && point.t >= ev.tEnd) ev.endSeq = point.seq;
    }
    this.redraw();
  }

  addEvent(ev) {
    this.events.push(ev);
    this.redraw();
  }

  showEvent(ev) {
    this.highlight = ev;
    const last = this.points.length ? this.points[this.points.length - 1].seq : 0;
    const end = Math.min(last, ev.seq + Math.floor(this.windowSize / 2));
    this.viewEnd = end >= last ? null : end;
    this.redraw();
  }

  follow() {
    this.viewEnd = null;
    this.highlight = null;
    this.redraw();
  }

  redraw() {
    if (this.pending) return; // one draw per frame, however many readings arrived
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.draw();
    });
  }

  // the points in view, and the x/y mapping used by draw() and hover()
  layout() {
    const w = this.canvas.width;
    const h = this.canvas.height;
    const dpr = window.devicePixelRatio || 1;
    const pad = { l: 40 * dpr, r: 12 * dpr, t: 14 * dpr, b: 22 * dpr };
    const pts = this.points;
    const lastSeq = pts.length ? pts[pts.length - 1].seq : 0;
    const end = this.viewEnd === null ? lastSeq : this.viewEnd;
    const first = end - this.windowSize + 1;
    const startIdx = lowerBound(pts, first);
    const endIdx = lowerBound(pts, end + 1);
    const view = pts.slice(startIdx, endIdx);
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of view) {
      lo = Math.min(lo, p.bpm);
      hi = Math.max(hi, p.bpm);
    }
    if (!view.length) [lo, hi] = [50, 120];
    const span = Math.max(20, hi - lo);
    lo = Math.floor((lo - span * 0.1) / 10) * 10;
    hi = Math.ceil((hi + span * 0.1) / 10) * 10;
    const x = (seq) => pad.l + ((seq - first) / (this.windowSize - 1)) * (w - pad.l - pad.r);
    const y = (bpm) => pad.t + (1 - (bpm - lo) / (hi - lo)) * (h - pad.t - pad.b);
    return { w, h, dpr, pad, view, first, end, lo, hi, x, y };
  }

  draw() {
    const { ctx, colors } = this;
    const L = this.layout();
    const { w, h, dpr, pad, view, first, end, lo, hi, x, y } = L;
    ctx.clearRect(0, 0, w, h);
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    // grid and y labels
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.text;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const step = niceStep((hi - lo) / 5);
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      ctx.beginPath();
      ctx.moveTo(pad.l, y(v));
      ctx.lineTo(w - pad.r, y(v));
      ctx.stroke();
      ctx.fillText(String(v), pad.l - 6 * dpr, y(v));
    }
    // event bands
    for (const ev of this.events) {
      const s = ev.seq;
      const e = ev.endSeq === null ? (ev.kind === "gap" ? s : end) : ev.endSeq;
      if (e < first || s > end) continue;
      ctx.globalAlpha = this.highlight === ev ? 0.35 : 0.14;
      ctx.fillStyle = colors[ev.kind] || colors.text;
      const x0 = x(Math.max(s, first) - 0.5);
      const x1 = ev.kind === "gap" ? x0 + 3 * dpr : x(Math.min(e, end) + 0.5);
      ctx.fillRect(x0, pad.t, Math.max(2 * dpr, x1 - x0), h - pad.t - pad.b);
      ctx.globalAlpha = 1;
      if (this.highlight === ev) {
        ctx.strokeStyle = colors[ev.kind];
        ctx.lineWidth = 2 * dpr;
        ctx.strokeRect(x0, pad.t, Math.max(2 * dpr, x1 - x0), h - pad.t - pad.b);
      }
    }
    // gap markers: a dashed vertical line where the recording stopped; the line is not bridged
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.strokeStyle = colors.gap;
    ctx.lineWidth = 1.5 * dpr;
    for (const p of view) {
      if (!p.afterGap) continue;
      const gx = x(p.seq - 0.5);
      ctx.beginPath();
      ctx.moveTo(gx, pad.t);
      ctx.lineTo(gx, h - pad.b);
      ctx.stroke();
      ctx.fillStyle = colors.gap;
      ctx.textAlign = "center";
      ctx.fillText("gap", gx, pad.t - 6 * dpr + 12 * dpr);
    }
    // the line: solid between measurements, dashed where a filled reading is involved
    ctx.lineWidth = 2 * dpr;
    ctx.strokeStyle = colors.line;
    for (let i = 1; i < view.length; i++) {
      const a = view[i - 1];
      const b = view[i];
      if (b.afterGap || b.seq !== a.seq + 1) continue;
      ctx.setLineDash(a.filled || b.filled ? [3 * dpr, 4 * dpr] : []);
      ctx.globalAlpha = a.filled || b.filled ? 0.6 : 1;
      ctx.beginPath();
      ctx.moveTo(x(a.seq), y(a.bpm));
      ctx.lineTo(x(b.seq), y(b.bpm));
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    // points: hollow for filled, coloured by kind for flagged ones
    for (const p of view) {
      const kind = p.kinds.find((k) => k !== "missing") || (p.filled ? null : p.kinds[0]);
      if (!p.filled && !kind && view.length > 60) continue;
      const r = (kind ? 3.5 : 2.5) * dpr;
      ctx.beginPath();
      ctx.arc(x(p.seq), y(p.bpm), r, 0, Math.PI * 2);
      if (p.filled) {
        ctx.fillStyle = colors.bg;
        ctx.fill();
        ctx.strokeStyle = colors.missing;
        ctx.lineWidth = 1.5 * dpr;
        ctx.stroke();
      } else {
        ctx.fillStyle = kind ? colors[kind] : colors.line;
        ctx.fill();
      }
    }
    // x labels: the time as the file wrote it, at the start and end of the window
    ctx.fillStyle = colors.text;
    ctx.textBaseline = "alphabetic";
    if (view.length) {
      ctx.textAlign = "left";
      ctx.fillText(clock(view[0].ts), x(view[0].seq), h - 6 * dpr);
      ctx.textAlign = "right";
      ctx.fillText(clock(view[view.length - 1].ts), w - pad.r, h - 6 * dpr);
    }
    this.layoutCache = L;
  }

  hover(e) {
    const L = this.layoutCache;
    if (!L || !L.view.length) return this.hideTooltip();
    const r = this.canvas.getBoundingClientRect();
    const px = (e.clientX - r.left) * L.dpr;
    let best = null;
    let bestD = Infinity;
    for (const p of L.view) {
      const d = Math.abs(L.x(p.seq) - px);
      if (d < bestD) [best, bestD] = [p, d];
    }
    if (!best || bestD > 20 * L.dpr) return this.hideTooltip();
    const flags = [...best.kinds];
    if (best.filled) flags.unshift("filled (no reading in the file)");
    if (best.afterGap) flags.unshift("first reading after a gap");
    this.tooltip.replaceChildren();
    const line = (text, cls) => {
      const div = document.createElement("div");
      div.textContent = text;
      if (cls) div.className = cls;
      this.tooltip.append(div);
    };
    line(best.ts, "tt-time");
    line(`${fmt(best.bpm)} bpm`, "tt-bpm");
    if (flags.length) line(flags.join(", ").replaceAll("_", " "), "tt-flags");
    this.tooltip.hidden = false;
    const tx = L.x(best.seq) / L.dpr;
    const ty = L.y(best.bpm) / L.dpr;
    const left = Math.min(Math.max(0, tx + 12), r.width - this.tooltip.offsetWidth - 4);
    this.tooltip.style.transform = `translate(${left}px, ${Math.max(0, ty - 50)}px)`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }
}

function lowerBound(pts, seq) {
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function niceStep(raw) {
  for (const s of [5, 10, 20, 25, 50, 100]) if (s >= raw) return s;
  return 200;
}

export function clock(ts) {
  // "2026-03-14T07:30:05+01:00" -> "07:30:05": the wall time as the file wrote it
  const m = /T(\d\d:\d\d:\d\d)/.exec(ts || "");
  return m ? m[1] : String(ts || "");
}

export function fmt(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
