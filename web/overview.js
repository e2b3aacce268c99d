// The whole session drawn small under the live chart, from the server's "overview" (a min/max per
// time bucket, docs/api.md): anomalies marked by kind, what was replayed shaded, the position as
// a line. Click or drag to jump; it is a slider for the keyboard (arrows, Page keys, Home/End).

import { KINDS } from "./chart.js";
import { fullText } from "./timefmt.js";

export class Overview {
  constructor(canvas, onJump) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onJump = onJump; // (seq) => void
    this.data = null;
    this.events = [];
    this.position = -1; // last seq received
    this.positionT = null;
    this.total = 0;
    this.zone = null;
    this.viewSpan = null;
    this.dragging = false;
    this.pending = null;
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
    canvas.addEventListener("pointerdown", (e) => {
      if (!this.data) return;
      this.dragging = true;
      canvas.setPointerCapture(e.pointerId);
      this.preview(e.clientX);
    });
    canvas.addEventListener("pointermove", (e) => this.dragging && this.preview(e.clientX));
    canvas.addEventListener("pointerup", (e) => {
      if (!this.dragging) return;
      this.dragging = false;
      this.onJump(this.seqAt(e.clientX));
    });
    canvas.addEventListener("keydown", (e) => this.key(e));
    this.resize();
  }

  set(data, total, zone) {
    this.data = data;
    this.total = total;
    this.zone = zone;
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("aria-valuemax", String(Math.max(0, total - 1)));
    this.redraw();
  }

  clear() {
    this.data = null;
    this.events = [];
    this.position = -1;
    this.canvas.tabIndex = -1;
    this.redraw();
  }

  setPosition(seq, t) {
    this.position = seq;
    this.positionT = t;
    this.canvas.setAttribute("aria-valuenow", String(Math.max(0, seq)));
    const when = t != null && this.zone ? `, ${fullText(t, this.zone)}` : "";
    this.canvas.setAttribute("aria-valuetext", `reading ${(seq + 1).toLocaleString("en-US")} of ${this.total.toLocaleString("en-US")}${when}`);
    this.redraw();
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * this.dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * this.dpr));
    this.redraw();
  }

  redraw() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.draw();
    });
  }

  /** The seq at a point of the strip: its bucket's first reading, plus the part of the bucket. */
  seqAt(clientX) {
    const d = this.data;
    const r = this.canvas.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    const n = d.first.length;
    const b = Math.min(n - 1, Math.floor(f * n));
    for (let j = b; j < n; j++) {
      if (d.first[j] < 0) continue;
      const within = j === b ? f * n - b : 0;
      return Math.min(this.total - 1, d.first[j] + Math.floor(within * d.count[j]));
    }
    return Math.max(0, this.total - 1);
  }

  preview(clientX) {
    const r = this.canvas.getBoundingClientRect();
    this.previewX = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    this.redraw();
  }

  key(e) {
    if (!this.data) return;
    const big = Math.max(1, Math.round(this.total / 10));
    const small = Math.max(1, Math.round(this.total / 100));
    const at = Math.max(0, this.position + 1);
    const to = { ArrowRight: at + small, ArrowLeft: at - small, PageUp: at + big, PageDown: at - big, Home: 0, End: this.total - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.onJump(Math.min(this.total - 1, Math.max(0, to)));
  }

  /** The part that changes only with the session, its events, the size or the theme (buckets and
   * event marks), drawn once into a canvas of its own: a replay moves only the position, so each
   * frame copies one image instead of redrawing thousands of marks and re-reading the styles. */
  still() {
    const { canvas, data: d, events } = this;
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const key = [canvas.width, canvas.height, this.dpr, dark, events.length].join();
    if (this.cache && this.cache.data === d && this.cache.events === events && this.cache.key === key) return this.cache;
    const css = getComputedStyle(document.documentElement);
    const c = (name) => css.getPropertyValue(name).trim();
    const layer = document.createElement("canvas");
    [layer.width, layer.height] = [canvas.width, canvas.height];
    const ctx = layer.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    const n = d.first.length;
    const bw = w / n;
    const markH = 7 * this.dpr;
    const top = 3 * this.dpr;
    const bottom = h - markH - 3 * this.dpr;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      if (d.min[i] != null && d.min[i] < lo) lo = d.min[i];
      if (d.max[i] != null && d.max[i] > hi) hi = d.max[i];
    }
    if (lo > hi) [lo, hi] = [50, 120];
    const y = (b) => bottom - ((b - lo) / Math.max(1, hi - lo)) * (bottom - top);
    const span = d.t1 - d.t0 || 1;
    const xOf = (t) => ((t - d.t0) / span) * w;
    // the session: a min–max band per bucket, nothing where there was nothing (gaps)
    ctx.fillStyle = c("--line");
    for (let i = 0; i < n; i++) {
      if (d.min[i] == null) continue;
      const y0 = y(d.max[i]);
      ctx.fillRect(i * bw, y0, Math.max(1, bw), Math.max(this.dpr, y(d.min[i]) - y0));
    }
    // a short session has a reading every few dozen buckets: 1-pixel dots, no line. Join neighbours
    // as the chart does, but not across a recorded gap
    const gaps = events.filter((e) => e.kind === "gap");
    const tOf = (i) => d.t0 + ((i + 0.5) / n) * span;
    ctx.strokeStyle = c("--line");
    ctx.lineWidth = this.dpr;
    ctx.beginPath();
    for (let i = 0, prev = -1; i < n; i++) {
      if (d.min[i] == null) continue;
      const [t0, t1] = [tOf(prev), tOf(i)];
      if (prev >= 0 && i - prev > 1 && !gaps.some((g) => g.tEnd > t0 && g.tStart < t1)) {
        ctx.moveTo((prev + 0.5) * bw, y((d.min[prev] + d.max[prev]) / 2));
        ctx.lineTo((i + 0.5) * bw, y((d.min[i] + d.max[i]) / 2));
      }
      prev = i;
    }
    ctx.stroke();
    // events by kind along the bottom
    const colors = Object.fromEntries(KINDS.map((k) => [k, c(`--k-${k}`)]));
    for (const ev of events) {
      ctx.fillStyle = colors[ev.kind] || c("--muted");
      const x0 = xOf(ev.tStart);
      ctx.fillRect(x0, h - markH, Math.max(2 * this.dpr, xOf(ev.tEnd) - x0), markH);
    }
    const palette = { accent: c("--accent"), muted: c("--muted"), fg: c("--fg") };
    this.cache = { data: d, events, key, layer, xOf, palette };
    return this.cache;
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (!this.data) return;
    const { layer, xOf, palette } = this.still();
    // what has been replayed, shaded (under the session)
    if (this.positionT != null) {
      ctx.fillStyle = palette.accent;
      ctx.globalAlpha = 0.1;
      ctx.fillRect(0, 0, xOf(this.positionT), h);
      ctx.globalAlpha = 1;
    }
    ctx.drawImage(layer, 0, 0);
    // the chart's view, outlined; the position, a line
    if (this.viewSpan) {
      ctx.strokeStyle = palette.muted;
      ctx.lineWidth = this.dpr;
      const x0 = xOf(this.viewSpan.t0);
      ctx.strokeRect(x0, 1, Math.max(2, xOf(this.viewSpan.t1) - x0), h - 2);
    }
    const px = this.dragging && this.previewX != null ? this.previewX * w : this.positionT != null ? xOf(this.positionT) : null;
    if (px != null) {
      ctx.fillStyle = palette.fg;
      ctx.fillRect(px - this.dpr, 0, 2 * this.dpr, h);
    }
  }
}
