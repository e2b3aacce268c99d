// The anomaly panel: every event of the session as soon as the server sends the list ("events",
// docs/api.md), not only those the replay reached; filter by kind, sort by time or size, a count
// per kind; the ones not reached yet are marked so. A row jumps the replay and the chart to it.

import { clockText, dateText, fullText } from "./timefmt.js";

export const LABELS = {
  spike: "Spike",
  drop: "Drop",
  missing: "Missing readings",
  gap: "Gap",
  out_of_range: "Impossible value",
  flatline: "Flatline (stuck sensor)",
};
const ONE = { spike: "spike", drop: "drop", missing: "missing run", gap: "gap", out_of_range: "impossible value", flatline: "flatline" };
const PLURAL = { spike: "spikes", drop: "drops", missing: "missing runs", gap: "gaps", out_of_range: "impossible values", flatline: "flatlines" };
const SHOWN = 400; // rows rendered at once; "show more" adds the next ones

export function plural(n, one, many) {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** "3 spikes", "1 impossible value": n events or readings of one kind, in words. */
export function countOf(kind, n) {
  return plural(n, ONE[kind] || kind, PLURAL[kind] || kind);
}

function entry(e) {
  return { ...e, tStart: e.t_start, tEnd: e.t_end, key: `${e.kind}|${e.t_start}|${e.t_end}` };
}

function byTime(a, b) {
  return a.tStart - b.tStart || a.tEnd - b.tEnd;
}

export class EventList {
  constructor({ list, filter, sort, counts, more, onPick }) {
    Object.assign(this, { list, filter, sort, counts, more, onPick });
    this.events = []; // sorted by time (and so by seq)
    this.keys = new Set();
    this.extra = new Map();
    this.position = -1;
    this.zone = null;
    this.limit = SHOWN;
    this.rows = new Map(); // key -> li
    this.selected = null;
    filter.addEventListener("change", () => this.render(true));
    sort.addEventListener("change", () => this.render(true));
    more.addEventListener("click", () => {
      this.limit += SHOWN;
      this.render(false);
    });
  }

  clear() {
    this.events = [];
    this.keys = new Set();
    this.extra = new Map(); // events that came as "anomaly" messages: kept when the list comes anew
    this.selected = null;
    this.render(true);
  }

  /** A page of the server's "events": pages arrive in order; the list is whole at `total`. */
  addPage(msg, zone) {
    this.zone = zone;
    if (msg.offset === 0) [this.events, this.keys] = [[], new Set()];
    for (const e of msg.events) this.push(entry(e));
    if (msg.offset + msg.events.length >= msg.total) {
      // a live session's anomaly found after the server read this list came before it (docs/api.md)
      for (const ev of this.extra.values()) this.push(ev);
      this.events.sort(byTime);
    }
    this.render(msg.offset === 0);
  }

  /** An "anomaly" message: added when the list lacks it (a live session's, found while it plays). */
  addOne(msg, zone) {
    const ev = entry(msg);
    if (this.keys.has(ev.key)) return false;
    this.zone = this.zone || zone;
    this.extra.set(ev.key, ev);
    this.push(ev);
    this.events = [...this.events].sort(byTime); // a new array: the chart and the overview redraw their marks
    this.render(false);
    return true;
  }

  push(ev) {
    if (this.keys.has(ev.key)) return;
    this.keys.add(ev.key);
    this.events.push(ev);
  }

  reached(ev) {
    return ev.seq <= this.position;
  }

  setPosition(seq) {
    const [a, b] = seq > this.position ? [this.position, seq] : [seq, this.position];
    this.position = seq;
    for (const ev of this.events) {
      if (ev.seq <= a || ev.seq > b) continue;
      const li = this.rows.get(ev.key);
      if (li) this.mark(li, ev);
    }
  }

  /** The first event after the position, for "next anomaly" (null when none is left). */
  next() {
    return this.events.find((ev) => ev.seq > this.position + 1) || null;
  }

  mark(li, ev) {
    const yes = this.reached(ev);
    li.dataset.reached = yes ? "true" : "false";
    li.querySelector(".ev-state").textContent = yes ? "" : "ahead";
  }

  select(key) {
    this.selected = key;
    for (const [k, li] of this.rows) li.classList.toggle("selected", k === key);
  }

  render(reset) {
    if (reset) this.limit = SHOWN;
    const byKind = {};
    for (const ev of this.events) byKind[ev.kind] = (byKind[ev.kind] || 0) + 1;
    this.options(byKind);
    this.counts.textContent = Object.keys(LABELS)
      .filter((k) => byKind[k])
      .map((k) => countOf(k, byKind[k]))
      .join(" · ");
    const kind = this.filter.value;
    let shown = kind ? this.events.filter((e) => e.kind === kind) : [...this.events];
    if (this.sort.value === "size") shown.sort((a, b) => b.severity - a.severity || a.seq - b.seq);
    const total = shown.length;
    shown = shown.slice(0, this.limit);
    this.rows.clear();
    this.list.replaceChildren(...shown.map((ev) => this.row(ev)));
    this.more.hidden = total <= shown.length;
    this.more.textContent = `Show ${Math.min(SHOWN, total - shown.length)} more of ${(total - shown.length).toLocaleString("en-US")}`;
  }

  options(byKind) {
    const current = this.filter.value;
    const all = document.createElement("option");
    all.value = "";
    all.textContent = `All kinds (${this.events.length.toLocaleString("en-US")})`;
    const opts = [all];
    for (const k of Object.keys(LABELS)) {
      if (!byKind[k]) continue;
      const o = document.createElement("option");
      o.value = k;
      o.textContent = `${LABELS[k]} (${byKind[k].toLocaleString("en-US")})`;
      opts.push(o);
    }
    this.filter.replaceChildren(...opts);
    this.filter.value = opts.some((o) => o.value === current) ? current : "";
    this.filter.disabled = this.events.length === 0;
    this.sort.disabled = this.events.length === 0;
  }

  /** The clock time; the date too when the session spans more than one day. */
  when(t) {
    const first = this.events.length ? this.events[0].tStart : t;
    const last = this.events.length ? this.events[this.events.length - 1].tEnd : t;
    return dateText(first, this.zone) === dateText(last, this.zone) ? clockText(t, this.zone) : fullText(t, this.zone).replace(/ UTC.*$/, "");
  }

  row(ev) {
    const li = document.createElement("li");
    li.dataset.kind = ev.kind;
    li.dataset.seq = String(ev.seq);
    li.dataset.severity = String(ev.severity);
    const button = document.createElement("button");
    button.type = "button";
    const time = document.createElement("span");
    time.className = "ev-time";
    time.textContent = this.zone ? this.when(ev.tStart) : ev.start;
    const kind = document.createElement("span");
    kind.className = "ev-kind";
    kind.textContent = LABELS[ev.kind] || ev.kind;
    const state = document.createElement("span");
    state.className = "ev-state";
    const detail = document.createElement("span");
    detail.className = "ev-detail";
    detail.textContent = ev.sentence; // built by the server's core: the same words as the CLI and terminal
    button.append(time, kind, state, detail);
    button.addEventListener("click", () => {
      this.select(ev.key);
      this.onPick(ev);
    });
    li.append(button);
    li.classList.toggle("selected", this.selected === ev.key);
    this.rows.set(ev.key, li);
    this.mark(li, ev);
    return li;
  }
}
