// The main chart, hand-drawn on a canvas (small enough to read in one sitting; no library needed):
// x is time, proportional (a 3-minute gap is as wide as 3 minutes of readings, drawn as a break),
// y is bpm. Only what is visible is drawn; more readings than pixels are reduced to a min/max per
// pixel column, and so are event bands and markers (layers.js), so a million readings and their
// thousands of anomalies draw as fast as a thousand. Wheel/pinch zoom, drag pans.

import { AFTER_GAP, FILLED } from "./series.js";
import { columns, coverRuns, pickMarkers } from "./layers.js";
import { countOf } from "./events.js";
import { listen } from "./gestures.js";
import { clockText, fullText, ticks } from "./timefmt.js";

export const KINDS = ["spike", "drop", "missing", "gap", "out_of_range", "flatline"];
const FOLLOW_READINGS = 180; // following the replay shows about this many of the newest readings

export class Chart {
  constructor(canvas, tooltip, series) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.tooltip = tooltip;
    this.series = series;
    this.events = []; // {kind, seq, tStart, tEnd, ...} of the whole session
    this.zone = { offset: 0, name: "UTC", naive: false, noTimes: null };
    this.view = null; // null: follow the newest reading; else {t0, t1} chosen by the user
    this.highlight = null;
    this.pending = null;
    this.onViewChange = () => {};
    this.readColors();
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      this.readColors();
      this.redraw();
    });
    listen(this);
    this.resize();
  }

  readColors() {
    const css = getComputedStyle(document.documentElement);
    const v = (name) => css.getPropertyValue(name).trim();
    this.colors = { line: v("--line"), grid: v("--grid"), text: v("--muted"), fg: v("--fg"), bg: v("--card") };
    for (const k of KINDS) this.colors[k] = v(`--k-${k}`);
    this.marks = Object.fromEntries(KINDS.map((k) => [k, v(`--m-${k}`) || v(`--k-${k}`)]));
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * this.dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * this.dpr));
    this.redraw();
  }

  redraw() {
    if (this.pending) return; // one draw per frame, however many readings arrived
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.draw();
    });
  }

  // -- the visible span ---------------------------------------------------------------------------

  span() {
    const s = this.series;
    if (this.view) return this.view;
    if (!s.count) return null;
    const t1 = s.t[s.count - 1];
    const t0 = Math.min(s.t[Math.max(0, s.count - FOLLOW_READINGS)], t1 - 60);
    return { t0, t1: t1 + (t1 - t0) * 0.02 };
  }

  /** Show [t0, t1] (a jump, an event): the replay goes on, the view stays until "Back to live". */
  show(t0, t1) {
    this.view = { t0, t1: Math.max(t1, t0 + 10) };
    this.redraw();
    this.onViewChange(false);
  }

  follow() {
    this.view = null;
    this.highlight = null;
    this.redraw();
    this.onViewChange(true);
  }

  showEvent(ev) {
    this.highlight = ev;
    const pad = Math.max(60, (ev.tEnd - ev.tStart) * 1.5);
    this.show(ev.tStart - pad, ev.tEnd + pad);
  }

  zoom(factor, atT) {
    const v = this.span();
    if (!v) return;
    const width = Math.min(Math.max((v.t1 - v.t0) * factor, 10), 400 * 86400);
    const at = atT ?? (v.t0 + v.t1) / 2;
    const left = (at - v.t0) / (v.t1 - v.t0);
    this.show(at - width * left, at + width * (1 - left));
  }

  pan(dt) {
    const v = this.span();
    if (v) this.show(v.t0 + dt, v.t1 + dt);
  }

  timeAt(clientX) {
    const L = this.layout;
    if (!L) return null;
    const r = this.canvas.getBoundingClientRect();
    return L.tOf((clientX - r.left) * this.dpr);
  }

  // -- drawing --------------------------------------------------------------------------------------

  draw() {
    const { ctx, colors, series: s, dpr } = this;
    const w = this.canvas.width;
    const h = this.canvas.height;
    ctx.clearRect(0, 0, w, h);
    const v = this.span();
    this.layout = null;
    if (!v) return;
    const pad = { l: 40 * dpr, r: 12 * dpr, t: 16 * dpr, b: 34 * dpr };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    const dt = v.t1 - v.t0;
    const x = (t) => pad.l + ((t - v.t0) / dt) * pw;
    const i0 = Math.max(0, s.lowerBound(v.t0) - 1);
    const i1 = Math.min(s.count, s.lowerBound(v.t1) + 1);
    let [lo, hi] = s.range(i0, i1);
    if (lo > hi) [lo, hi] = [50, 120];
    const range = Math.max(20, hi - lo);
    lo = Math.floor((lo - range * 0.08) / 10) * 10;
    hi = Math.ceil((hi + range * 0.08) / 10) * 10;
    const y = (bpm) => pad.t + (1 - (bpm - lo) / (hi - lo)) * ph;
    this.layout = { pad, pw, ph, dt, v, x, y, i0, i1, tOf: (px) => v.t0 + ((px - pad.l) / pw) * dt };
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.save();
    this.grid(lo, hi);
    ctx.beginPath();
    ctx.rect(pad.l, 0, pw, h);
    ctx.clip();
    this.bands();
    this.line(i0, i1);
    this.markers(i0, i1);
    ctx.restore();
    this.axis(v, pw, pad, h);
  }

  grid(lo, hi) {
    const { ctx, colors, dpr } = this;
    const { pad, pw, y } = this.layout;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.text;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const step = [5, 10, 20, 25, 50, 100, 200].find((st) => st >= (hi - lo) / 5) || 200;
    for (let b = Math.ceil(lo / step) * step; b <= hi; b += step) {
      ctx.beginPath();
      ctx.moveTo(pad.l, y(b));
      ctx.lineTo(pad.l + pw, y(b));
      ctx.stroke();
      ctx.fillText(String(b), pad.l - 6 * dpr, y(b));
    }
  }

  /** Event bands in their kind's colour: per kind one rectangle per run of covered pixel columns
   * (coverRuns), so thousands of events zoomed out cost a few fills, and each still shows. */
  bands() {
    const { ctx, colors, dpr } = this;
    const { pad, ph, x, v } = this.layout;
    const runs = coverRuns(this.events, v, x, this.canvas.width, 2 * dpr);
    for (const [kind, list] of runs) {
      ctx.globalAlpha = kind === "gap" ? 0.16 : 0.1;
      ctx.fillStyle = colors[kind] || colors.text;
      for (let j = 0; j < list.length; j += 2) ctx.fillRect(list[j], pad.t, list[j + 1] - list[j], ph);
    }
    ctx.globalAlpha = 1;
    this.drawn = { runs };
    ctx.fillStyle = colors.text;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const ev of this.events) {
      if (ev.tEnd < v.t0 || ev.tStart > v.t1) continue;
      const x0 = x(ev.tStart);
      const width = Math.max(2 * dpr, x(ev.tEnd) - x0);
      if (ev.kind === "gap" && width > 30 * dpr) ctx.fillText("gap", x0 + width / 2, pad.t + 4 * dpr);
      if (!this.highlight || this.highlight.key !== ev.key) continue;
      ctx.globalAlpha = 0.25;
      ctx.fillStyle = colors[ev.kind];
      ctx.fillRect(x0, pad.t, width, ph);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = colors[ev.kind];
      ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(x0, pad.t, width, ph);
      ctx.fillStyle = colors.text;
    }
  }

  /** The line: joined only between consecutive readings, never across a gap; filled stretches dashed.
   * More readings than pixel columns: one min–max bar per column (layers.js `columns`), filled
   * rectangles rather than a stroked path, which a software rasteriser draws far faster. */
  line(i0, i1) {
    const { ctx, colors, dpr, series: s } = this;
    const { x, y, pw } = this.layout;
    ctx.strokeStyle = colors.line;
    ctx.lineWidth = 1.75 * dpr;
    ctx.lineJoin = "round";
    if (i1 - i0 > pw / 2) {
      const half = ctx.lineWidth / 2;
      const wide = Math.max(1, Math.round(ctx.lineWidth));
      ctx.fillStyle = colors.line;
      ctx.beginPath(); // the joins between columns more than a pixel apart
      const bar = (c, top, bottom) => ctx.fillRect(c - (wide >> 1), top - half, wide, bottom - top + 2 * half);
      columns(s, i0, i1, x, y, bar, (x0, y0, x1, y1) => (ctx.moveTo(x0, y0), ctx.lineTo(x1, y1)));
      ctx.stroke();
      return;
    }
    for (const dashed of [false, true]) {
      ctx.setLineDash(dashed ? [3 * dpr, 4 * dpr] : []);
      ctx.globalAlpha = dashed ? 0.6 : 1;
      ctx.beginPath();
      for (let i = Math.max(i0, 1); i < i1; i++) {
        if (s.flags[i] & AFTER_GAP) continue;
        const filled = ((s.flags[i] | s.flags[i - 1]) & FILLED) !== 0;
        if (filled !== dashed) continue;
        ctx.moveTo(x(s.t[i - 1]), y(s.bpm[i - 1]));
        ctx.lineTo(x(s.t[i]), y(s.bpm[i]));
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    const rings = new Path2D(); // filled readings: one path for all their rings, not one each
    for (let i = i0; i < i1; i++) {
      if (!(s.flags[i] & FILLED)) continue;
      rings.moveTo(x(s.t[i]) + 2.5 * dpr, y(s.bpm[i]));
      rings.arc(x(s.t[i]), y(s.bpm[i]), 2.5 * dpr, 0, Math.PI * 2);
    }
    ctx.fillStyle = colors.bg;
    ctx.fill(rings);
    ctx.strokeStyle = this.marks.missing;
    ctx.lineWidth = 1.5 * dpr;
    ctx.stroke(rings);
  }

  /** Flagged readings as shapes (▲ spike, ▼ drop, ◆ impossible, ■ flatline) ringed in the card's
   * colour: told apart by shape as well as colour, and visible on the line in both themes. One
   * path per kind; zoomed out, one marker per kind and half-marker strip (pickMarkers). */
  markers(i0, i1) {
    const { ctx, colors, dpr, series: s } = this;
    const { x, y } = this.layout;
    const r = 4.5 * dpr;
    const shapes = {
      spike: [[0, -r], [r, r * 0.8], [-r, r * 0.8]],
      drop: [[0, r], [r, -r * 0.8], [-r, -r * 0.8]],
      out_of_range: [[0, -r], [r, 0], [0, r], [-r, 0]],
      flatline: [[-r * 0.75, -r * 0.75], [r * 0.75, -r * 0.75], [r * 0.75, r * 0.75], [-r * 0.75, r * 0.75]],
    };
    const paths = new Map();
    const picked = pickMarkers(s, i0, i1, x, r);
    for (const { seq, kind } of picked) {
      const px = x(s.t[seq]);
      const py = y(s.bpm[seq]);
      if (!paths.has(kind)) paths.set(kind, new Path2D());
      const path = paths.get(kind);
      (shapes[kind] || shapes.flatline).forEach(([a, b], j) => (j ? path.lineTo(px + a, py + b) : path.moveTo(px + a, py + b)));
      path.closePath();
    }
    this.drawn.markers = picked;
    ctx.strokeStyle = colors.bg;
    ctx.lineWidth = 1.5 * dpr;
    for (const [kind, path] of paths) {
      ctx.fillStyle = this.marks[kind] || colors.fg;
      ctx.fill(path);
      ctx.stroke(path);
    }
  }

  axis(v, pw, pad, h) {
    const { ctx, colors, dpr } = this;
    const { x } = this.layout;
    ctx.fillStyle = colors.text;
    ctx.textBaseline = "alphabetic";
    const list = ticks(v.t0, v.t1, pw / dpr, this.zone);
    for (const tk of list) {
      const px = x(tk.t);
      ctx.textAlign = px < pad.l + 30 * dpr ? "left" : px > pad.l + pw - 30 * dpr ? "right" : "center";
      ctx.fillText(tk.label, px, h - 19 * dpr);
      if (tk.day) ctx.fillText(tk.day, px, h - 5 * dpr);
      ctx.fillRect(px, h - pad.b, 1, 4 * dpr);
    }
    ctx.textAlign = "right";
    ctx.fillText(this.zone.noTimes ? "time from start" : this.zone.name, pad.l + pw, 11 * dpr);
  }

  // -- the reading under the pointer ----------------------------------------------------------------

  hover(clientX) {
    const L = this.layout;
    const s = this.series;
    if (!L || !s.count) return this.hideTooltip();
    const t = this.timeAt(clientX);
    let i = s.lowerBound(t);
    if (i >= s.count || (i > 0 && t - s.t[i - 1] < s.t[i] - t)) i -= 1;
    // zoomed out, a marker under the pointer that stands for several readings: its own, and how many
    const px = L.x(t);
    const near = (this.drawn?.markers || []).filter((m) => m.n > 1 && Math.abs(L.x(s.t[m.seq]) - px) <= 4.5 * this.dpr);
    const m = near.sort((a, b) => Math.abs(L.x(s.t[a.seq]) - px) - Math.abs(L.x(s.t[b.seq]) - px))[0];
    if (m) i = m.seq;
    if (i < 0 || Math.abs(L.x(s.t[i]) - L.x(t)) > 24 * this.dpr) return this.hideTooltip();
    const p = s.point(i);
    const flags = [...p.kinds.map((k) => k.replaceAll("_", " "))];
    if (m) flags.push(`one of ${countOf(m.kind, m.n)} under this marker (zoom in to tell them apart)`);
    if (p.filled) flags.unshift("filled (no reading in the file)");
    if (p.afterGap) flags.unshift("first reading after a gap");
    this.tooltip.replaceChildren();
    for (const [text, cls] of [[fullText(p.t, this.zone), "tt-time"], [`${fmt(p.bpm)} bpm`, "tt-bpm"], [flags.join(", "), "tt-flags"]]) {
      if (!text) continue;
      const div = document.createElement("div");
      div.textContent = text;
      div.className = cls;
      this.tooltip.append(div);
    }
    this.tooltip.hidden = false;
    const box = this.canvas.getBoundingClientRect();
    const tx = L.x(p.t) / this.dpr;
    const ty = L.y(p.bpm) / this.dpr;
    const left = Math.min(Math.max(0, tx + 12), box.width - this.tooltip.offsetWidth - 4);
    this.tooltip.style.transform = `translate(${left}px, ${Math.max(0, ty - 56)}px)`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }
}

export function fmt(n) {
  return Number.isInteger(n) ? String(n) : Number(n).toFixed(1);
}

export { clockText };
