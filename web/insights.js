// The Insights panel (docs/insights.md): zones, resting / average / max, sustained episodes that
// jump the chart, the data-quality verdict, and downloads of the HTML report and the CSV export.
// Everything comes from the server's "insights" and "export" messages (docs/api.md), asked for as
// soon as a session opens, so the panel is there at once, not at the end of the replay.
// app.js only hooks in: load(session) when a session opens, handle(msg) for the two replies.

import { fullText, zoneOf } from "./timefmt.js";

const ZONE_COLOURS = ["#9ecae1", "#74c476", "#fdd049", "#fd8d3c", "#e6550d"];

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (s < 600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ""}`.trim();
  if (m < 60) return `${m} min`;
  if (m < 48 * 60) return `${Math.floor(m / 60)} h ${m % 60 ? `${m % 60} min` : ""}`.trim();
  const h = Math.round(m / 60); // a long export below zone 1: "87 d 11 h", not "2098 h 53 min"
  return `${Math.floor(h / 24)} d ${h % 24 ? `${h % 24} h` : ""}`.trim();
}

const num = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 10) / 10}`);

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export class Insights {
  /** `root`: the empty section to fill; `jumpTo(ts)`: show the chart at that time. */
  constructor(root, conn, jumpTo) {
    this.root = root;
    this.conn = conn;
    this.jumpTo = jumpTo;
    this.session = null;
    this.parts = [];
    this.wantHtml = false;
    this.body = el("div", { class: "insights-body" });
    const title = el("h2", { id: "insights-title" }, "Insights");
    this.htmlButton = el("button", { type: "button", id: "download-report", disabled: "" }, "Download report (HTML)");
    this.csvButton = el("button", { type: "button", id: "download-csv", disabled: "" }, "Export readings (CSV)");
    this.htmlButton.addEventListener("click", () => this.askHtml());
    this.csvButton.addEventListener("click", () => this.askCsv());
    const tools = el("div", { class: "panel-tools" }, this.htmlButton, this.csvButton);
    this.trends = el("div", { class: "trends", id: "trends" });
    root.append(title, this.body, tools, this.trends);
    root.setAttribute("aria-labelledby", "insights-title");
  }

  load(session) {
    if (this.session && this.session.id === session.id) return;
    this.session = session;
    this.parts = [];
    this.root.hidden = false;
    this.body.replaceChildren(el("p", { class: "hint" }, "Computing…"));
    this.htmlButton.disabled = true;
    this.csvButton.disabled = false;
    this.conn.send({ type: "insights", session_id: session.id });
    this.conn.send({ type: "trends" });
  }

  askHtml() {
    if (!this.session) return;
    this.wantHtml = true;
    this.htmlButton.disabled = true;
    this.conn.send({ type: "insights", session_id: this.session.id, html: true });
  }

  askCsv() {
    if (!this.session) return;
    this.parts = [];
    this.csvButton.disabled = true;
    this.csvButton.textContent = "Exporting…";
    this.conn.send({ type: "export", session_id: this.session.id });
  }

  /** True when the message was for this panel. */
  handle(msg) {
    if (msg.type === "insights") {
      if (!this.session || msg.session_id !== this.session.id) return true;
      this.show(msg.insights);
      this.htmlButton.disabled = false;
      if (msg.html && this.wantHtml) {
        this.wantHtml = false;
        download(`hrviz-report-${msg.session_id}.html`, msg.html, "text/html");
      }
      return true;
    }
    if (msg.type === "trends") {
      this.showTrends(msg);
      return true;
    }
    if (msg.type === "export") {
      if (!this.session || msg.session_id !== this.session.id) return true;
      this.parts.push(msg.csv);
      if (msg.last) {
        download(`hrviz-${msg.session_id}.csv`, this.parts.join(""), "text/csv");
        this.parts = [];
        this.csvButton.disabled = false;
        this.csvButton.textContent = "Export readings (CSV)";
      }
      return true;
    }
    return false;
  }

  showTrends(msg) {
    const days = msg.days;
    const title = el("h3", { id: "trends-title" }, "Trends across sessions");
    if (days.length < 2) {
      this.trends.replaceChildren(title, el("p", { class: "hint" }, "Trends need sessions on two days or more."));
      return;
    }
    const W = 600;
    const H = 140;
    const values = days.flatMap((d) => [d.resting_bpm, d.max_bpm]).filter((v) => v !== null);
    const lo = Math.min(...values) - 5;
    const hi = Math.max(...values) + 5;
    const x = (i) => 30 + (i / (days.length - 1)) * (W - 40);
    const y = (v) => 8 + ((hi - v) / (hi - lo)) * (H - 28);
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "trends-title");
    svg.classList.add("trends-chart");
    for (const [key, cls] of [["resting_bpm", "resting"], ["max_bpm", "max"]]) {
      const pts = days.map((d, i) => (d[key] === null ? null : `${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`)).filter(Boolean);
      const line = document.createElementNS(NS, "polyline");
      line.setAttribute("points", pts.join(" "));
      line.setAttribute("class", `trend-${cls}`);
      svg.append(line);
    }
    for (const [i, anchor] of [[0, "start"], [days.length - 1, "end"]]) {
      const t = document.createElementNS(NS, "text");
      t.setAttribute("x", String(x(i)));
      t.setAttribute("y", String(H - 4));
      t.setAttribute("text-anchor", anchor);
      t.textContent = days[i].day;
      svg.append(t);
    }
    for (const v of [Math.ceil(lo / 10) * 10, Math.floor(hi / 10) * 10]) {
      const t = document.createElementNS(NS, "text");
      t.setAttribute("x", "0");
      t.setAttribute("y", String(y(v) + 4));
      t.textContent = String(v);
      svg.append(t);
    }
    const legend = el("p", { class: "hint" }, el("span", { class: "key-resting" }, "resting"), " and ", el("span", { class: "key-max" }, "max"), ` bpm per day, ${days.length} days; zones by % of max ${msg.max_hr.bpm} bpm.`);
    const head = el("tr", {}, ...["day", "sessions", "resting", "max", "z1–z5 min", "anomalies/h"].map((h) => el("th", { scope: "col" }, h)));
    const rows = days.slice(-7).reverse().map((d) => el("tr", {}, ...[d.day, String(d.sessions), num(d.resting_bpm), num(d.max_bpm), d.zone_minutes.map((m) => Math.round(m)).join(" · "), String(d.anomalies_per_hour)].map((v) => el("td", {}, v))));
    const table = el("table", { class: "trends-table" }, el("caption", { class: "visually-hidden" }, "The last 7 days with sessions"), el("thead", {}, head), el("tbody", {}, ...rows));
    // its own scroller: on a phone the six columns are wider than the screen, and the whole page scrolled sideways
    this.trends.replaceChildren(title, svg, legend, el("div", { class: "trends-scroll" }, table));
  }

  /** An episode's start as the rest of the page writes times ("6 Sep 2015, 10:01:10"), in the file's zone. */
  when(e) {
    return this.session && typeof e.start_ts === "number" ? fullText(e.start_ts, zoneOf(this.session)) : e.start;
  }

  show(d) {
    const facts = el(
      "dl",
      { class: "stats insights-facts" },
      ...[
        ["resting", num(d.resting_bpm)],
        ["average", num(d.mean_bpm)],
        ["max", num(d.max_bpm)],
        ["covered", `${Math.round(d.coverage * 1000) / 10} %`],
      ].map(([k, v]) => el("div", { dataset: { fact: k } }, el("dt", {}, k), el("dd", {}, v))),
    );
    const total = d.zones.reduce((a, z) => a + z.seconds, 0) || 1;
    const bar = el("div", { class: "zones-bar", role: "img", "aria-label": "Time in zones" });
    const legend = el("ul", { class: "zones-legend" });
    for (const z of d.zones) {
      const part = el("span", { class: "zone", dataset: { zone: String(z.zone) } });
      part.style.width = `${(100 * z.seconds) / total}%`;
      part.style.background = ZONE_COLOURS[z.zone - 1];
      part.title = `Zone ${z.zone}: ${duration(z.seconds)}`;
      bar.append(part);
      const high = z.zone === 5 ? "+" : `–${z.high_bpm}`;
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = ZONE_COLOURS[z.zone - 1];
      legend.append(el("li", { dataset: { zone: String(z.zone) } }, swatch, `Zone ${z.zone} (${z.low_bpm}${high} bpm): ${duration(z.seconds)}`));
    }
    if (d.zones.length && d.below_zones_seconds !== undefined) {
      legend.append(el("li", { dataset: { zone: "below" } }, el("span", { class: "swatch swatch-none" }), `Below zone 1 (under ${d.zones[0].low_bpm} bpm): ${duration(d.below_zones_seconds)}`));
    }
    const maxNote = `max ${d.max_hr.bpm} bpm (${d.max_hr.source}${d.max_hr.estimate ? ", an estimate" : ""})`;
    const zonesNote = el("p", { class: "hint" }, `Zones by % of ${maxNote}; filled readings and gaps never count.`);
    const episodes = el("ol", { class: "episodes" });
    for (const e of d.episodes) {
      const button = el("button", { type: "button", class: "episode" }, `${e.kind === "high" ? "Above 120" : "Below 40"} bpm for ${duration(e.seconds)}, peak ${e.peak_bpm} — ${this.when(e)}`);
      button.addEventListener("click", () => this.jumpTo(e.start_ts, e.start_ts + e.seconds));
      episodes.append(el("li", {}, button));
    }
    const epTitle = el("h3", {}, "Sustained episodes");
    const epNone = el("p", { class: "hint" }, "None: no 10 minutes above 120 or below 40 bpm.");
    const quality = el("p", { class: `verdict verdict-${d.quality.verdict}`, id: "quality-verdict" }, `Data quality: ${d.quality.sentence}`);
    this.body.replaceChildren(facts, el("h3", {}, "Time in zones"), bar, legend, zonesNote, epTitle, d.episodes.length ? episodes : epNone, quality);
  }
}
