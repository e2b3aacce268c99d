// The page: upload, live chart, overview, anomaly list, controls, past sessions; it survives a
// reload (the position, speed and pause state are kept per tab and the server sends back what came
// before the position in one batch). Everything from a file is written with textContent only.

import { Chart, fmt } from "./chart.js";
import { Connection } from "./connection.js";
import { EventList, plural } from "./events.js";
import { Insights } from "./insights.js";
import { Overview } from "./overview.js";
import { Series } from "./series.js";
import { Sessions, sourceName } from "./sessions.js";
import { dateText, durationText, fullText, zoneOf } from "./timefmt.js";
import { Uploads } from "./uploads.js";
import { describeChart } from "./textview.js";
import { followLive, followReading } from "./live.js";

const $ = (id) => document.getElementById(id);
const SAVED = "hrviz.position";
const LEAD = 5; // "next anomaly" starts this many readings before the event
const CONTROLS = ["pause", "speed", "restart", "next-anomaly", "zoom-in", "zoom-out", "zoom-reset"];

const state = {
  session: null,
  zone: zoneOf(null),
  speed: 1,
  paused: false,
  seqErrors: 0, // readings out of order (a gap or a duplicate): should stay 0
  siblings: [], // the sessions of the same file (several subjects)
  announced: 0,
};

const series = new Series();
const chart = new Chart($("chart"), $("tooltip"), series);
const overview = new Overview($("overview"), (seq) => jump(seq, null));
const events = new EventList({
  list: $("anomalies"),
  filter: $("kind-filter"),
  sort: $("anomaly-sort"),
  counts: $("kind-counts"),
  more: $("anomalies-more"),
  onPick: pickEvent,
});
let conn = null; // the constructor reports its status at once: before this is assigned
let uploads = null;
conn = new Connection({ onMessage: handle, onStatus: setStatus, onOpen });
uploads = new Uploads($("uploads"), conn);
const sessions = new Sessions(conn, (s) => play(s.id));
const insights = new Insights($("insights"), conn, (t) => jump(seqNear(t)));
window.hrviz = { conn, chart, state, series, events, overview }; // handy from the devtools console

// -- connection --------------------------------------------------------------------------------

function setStatus(kind, text) {
  const el = $("status");
  el.dataset.state = kind;
  el.textContent = kind === "offline" ? `${text} — the controls come back when the server answers` : text;
  if (kind === "offline" && uploads) uploads.offline();
  enableControls();
}

function enableControls() {
  const on = conn && conn.connected && state.session !== null;
  for (const id of CONTROLS) $(id).disabled = !on;
  if (on && !events.next()) $("next-anomaly").disabled = true;
  $("file").disabled = conn ? !conn.connected : false;
}

function onOpen(hello) {
  speedOptions(hello.speeds);
  sessions.refresh();
  const saved = state.session ? null : loadPosition();
  const sid = state.session ? state.session.id : saved && saved.session_id;
  if (!sid) return;
  if (saved) Object.assign(state, { speed: saved.speed || 1, paused: !!saved.paused });
  // a reconnect continues after what the page holds; a reload asks for all of it back in one batch
  const seq = state.session ? series.count - 1 : saved.seq;
  const msg = { type: "resume_from", session_id: sid, seq, speed: state.speed, paused: state.paused };
  if (seq >= series.count) msg.history_from = series.count;
  conn.send(msg);
}

function savePosition() {
  if (!state.session) return;
  const at = { session_id: state.session.id, seq: series.count - 1, speed: state.speed, paused: state.paused };
  try {
    sessionStorage.setItem(SAVED, JSON.stringify(at));
  } catch {
    /* private mode: resume within the page still works */
  }
}

function loadPosition() {
  try {
    return JSON.parse(sessionStorage.getItem(SAVED) || "null");
  } catch {
    return null;
  }
}

function handle(msg) {
  if (insights.handle(msg)) return;
  switch (msg.type) {
    case "progress":
      uploads.progress(msg);
      return showProgress(msg);
    case "uploaded":
      uploads.uploaded(msg);
      setMessage("", "info");
      state.siblings = msg.sessions;
      sessions.refresh();
      return;
    case "replay":
      return startReplay(msg);
    case "history":
      series.addPage(msg);
      return msg.last && changed();
    case "reading":
      return addReading(msg);
    case "overview":
      if (state.session && msg.session_id === state.session.id) overview.set(msg, state.session.readings, state.zone);
      return;
    case "events":
      if (!state.session || msg.session_id !== state.session.id) return;
      events.addPage(msg, state.zone);
      return eventsChanged(Math.max(msg.total, events.events.length));
    case "anomaly": // a live session's found while it plays fills the panel (docs/live.md); others are listed
      if (!state.session || !state.session.live || !events.addOne(msg, state.zone)) return;
      return eventsChanged(Math.max((state.session.anomaly_count ?? 0) + 1, events.events.length));
    case "state":
      return applyState(msg);
    case "end":
      refresh(); // the counter is drawn on the next frame; bring it up to date with the end message
      if (state.session && state.session.live) {
        state.session.live = false; // finalized (docs/live.md): the list drops its badge
        sessions.refresh();
      }
      setMessage(`End of the recording — ${plural(series.count, "reading", "readings")} replayed.`, "info");
      return;
    case "sessions":
      return sessions.show(msg);
    case "deleted":
      return sessions.deleted(msg);
    case "error":
      uploads.failed(msg);
      return setMessage(msg.code === "bad_file" ? couldNotUse(msg) : msg.message, "error");
  }
}

function eventsChanged(count) {
  chart.events = events.events;
  overview.events = events.events;
  state.session.anomaly_count = count;
  $("anomaly-count").textContent = count.toLocaleString("en-US"); // "1,012", as the filter and the sessions say
  changed();
}

// -- upload ------------------------------------------------------------------------------------

/** The reader's reason already names the file ("x.tcx: no heart rate …"): say it once, not "x.tcx: x.tcx: …". */
function couldNotUse(msg) {
  return msg.file && msg.message.startsWith(msg.file) ? `Could not use ${msg.message}` : `Could not use ${msg.file}: ${msg.message}`;
}

function setMessage(text, kind) {
  const el = $("message");
  el.textContent = text;
  el.dataset.kind = kind || "info";
  el.hidden = !text;
}

function showProgress(msg) {
  const pct = msg.total ? Math.round((100 * msg.done) / msg.total) : 100;
  setMessage(msg.phase === "upload" ? `Uploading… ${pct}%` : `Reading and checking the file… ${pct}%`, "info");
}

$("file").addEventListener("change", (e) => {
  uploads.add([...e.target.files]); // several at once: sent one after another, a row each
  e.target.value = "";
});
const drop = $("drop");
for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  uploads.add([...e.dataTransfer.files]);
});

// -- replay ------------------------------------------------------------------------------------

function startReplay(msg) {
  const s = msg.session;
  const same = state.session && state.session.id === s.id;
  const keep = msg.history_from ?? msg.from_seq; // what the page holds stays up to here
  if (!same || keep > series.count) {
    series.reset(s.readings);
    events.clear();
    overview.clear();
    chart.events = [];
    chart.follow();
    $("anomaly-count").textContent = (s.anomaly_count ?? s.anomalies.length).toLocaleString("en-US");
    setMessage("", "info");
  } else {
    series.truncate(keep);
    if (msg.from_seq === 0) setMessage("", "info");
  }
  state.session = s;
  insights.load(s);
  state.zone = zoneOf(s);
  chart.zone = state.zone;
  state.speed = msg.speed;
  state.paused = msg.paused;
  $("session-title").textContent = s.subject ? `${sourceName(s.source)} — ${s.subject}` : sourceName(s.source);
  $("session-meta").textContent = sessionMeta(s, state.zone);
  $("chart-empty").hidden = true;
  subjects(s);
  applyState({ paused: msg.paused, speed: msg.speed });
  changed();
}

export function sessionMeta(s, zone) {
  const count = s.anomaly_count ?? (s.anomalies || []).length;
  const when = zone.noTimes ? zone.noTimes : spanText(s, zone);
  return `${when} · ${plural(s.readings, "reading", "readings")} · ${plural(count, "anomaly", "anomalies")}`;
}

function spanText(s, zone) {
  if (!s.start) return "no time";
  const t0 = Date.parse(zone.naive ? `${s.start}Z` : s.start) / 1000;
  const t1 = Date.parse(zone.naive ? `${s.end}Z` : s.end) / 1000;
  const day1 = dateText(t1, zone);
  const end = day1 === dateText(t0, zone) ? fullText(t1, zone).split(", ")[1] : fullText(t1, zone);
  return `${fullText(t0, zone)} → ${end} (${durationText(t1 - t0)})`;
}

function subjects(s) {
  const same = state.siblings.filter((o) => o.source === s.source);
  const box = $("subject-box");
  box.hidden = same.length < 2;
  if (box.hidden) return;
  const sorted = [...same].sort((a, b) => b.readings - a.readings);
  $("subject").replaceChildren(
    ...sorted.map((o) => {
      const opt = document.createElement("option");
      opt.value = o.id;
      opt.textContent = `${o.subject || "(no subject)"} — ${plural(o.readings, "reading", "readings")}`;
      return opt;
    }),
  );
  $("subject").value = s.id;
}
$("subject").addEventListener("change", (e) => play(e.target.value));

function play(id) {
  conn.send({ type: "replay", session_id: id, speed: state.speed });
  $("live-card").scrollIntoView({ block: "start", behavior: "smooth" });
}

function addReading(r) {
  if (!series.push(r.seq, r.t, r.bpm, r.filled, r.kinds, r.after_gap)) {
    state.seqErrors += 1; // the server promises none; counted so a test (or a person) can tell
    console.warn(`reading ${r.seq} while holding ${series.count}`);
  }
  followReading(state.session, r);
  changed();
}

/** Everything that shows the position, once per frame however many readings came. */
let frame = null;
function changed() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = null;
    refresh();
  });
}

function refresh() {
  const s = series;
  const last = s.count - 1;
  const counter = $("readings-shown");
  counter.textContent = String(s.count);
  counter.dataset.lastSeq = String(last);
  counter.dataset.seqErrors = String(state.seqErrors);
  const total = state.session ? state.session.readings : 0;
  $("position").textContent = state.session ? `${s.count.toLocaleString("en-US")} / ${total.toLocaleString("en-US")}` : "–";
  if (state.session && state.session.live) followLive(state, s, overview, () => sessionMeta(state.session, state.zone));
  const st = s.stats;
  $("stat-min").textContent = st.n ? fmt(st.min) : "–";
  $("stat-mean").textContent = st.n ? (st.sum / st.n).toFixed(1) : "–";
  $("stat-max").textContent = st.n ? fmt(st.max) : "–";
  $("current-bpm").textContent = last >= 0 ? fmt(s.bpm[last]) : "–";
  $("current-bpm").dataset.filled = last >= 0 && s.point(last).filled ? "true" : "false";
  announce(last);
  events.setPosition(last);
  overview.setPosition(last, last >= 0 ? s.t[last] : null);
  overview.viewSpan = chart.view;
  chart.redraw();
  enableControls();
  if ($("chart-text").open) describeChart(chart, state.zone);
  if (last % 5 === 0 || state.paused) savePosition();
}

/** The bpm for screen readers, politely and at most every 5 s (not 60 times a second). */
function announce(last) {
  const now = performance.now();
  if (last < 0 || now - state.announced < 5000 || state.paused) return;
  state.announced = now;
  $("bpm-live").textContent = `${fmt(series.bpm[last])} bpm`;
}

// -- jumps -------------------------------------------------------------------------------------

/** Replay from `seq`; what the page lacks before it comes in one batch, what it has is kept. */
function jump(seq) {
  if (!state.session) return;
  const to = Math.max(0, Math.min(state.session.readings - 1, seq));
  const msg = { type: "replay", session_id: state.session.id, from_seq: to, speed: state.speed, paused: state.paused };
  if (to > series.count) msg.history_from = series.count;
  conn.send(msg);
}

function pickEvent(ev) {
  // the event and a little after it are shown; the replay goes on from just after its end
  jump(Math.max(ev.seq + 1, seqNear(ev.tEnd) + 1) + LEAD);
  chart.showEvent(ev);
  keepChartOnScreen();
}

function seqNear(t) {
  const d = overview.data;
  if (!d) return 0;
  const n = d.first.length;
  const b = Math.min(n - 1, Math.max(0, Math.floor(((t - d.t0) / (d.t1 - d.t0 || 1)) * n)));
  for (let j = b; j < n; j++) if (d.first[j] >= 0) return d.first[j] + (j === b ? d.count[j] - 1 : 0);
  return state.session.readings - 1;
}

function keepChartOnScreen() {
  const box = $("chart").getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) $("chart").scrollIntoView({ block: "center", behavior: "smooth" });
}

$("next-anomaly").addEventListener("click", () => {
  const ev = events.next();
  if (!ev) return;
  jump(ev.seq - LEAD);
  chart.follow();
  chart.highlight = ev;
  events.select(ev.key);
});

// -- controls ----------------------------------------------------------------------------------

/** The speeds the server offers (its "hello"): the page hard-codes none. */
function speedOptions(speeds) {
  const select = $("speed");
  select.replaceChildren(
    ...speeds.map((s) => {
      const opt = document.createElement("option");
      opt.value = String(s);
      opt.textContent = s >= 1e5 ? "max" : // core/replay.py MAX_SPEED: as fast as the page takes them
         s === 1 ? "1× (1 reading/s)" : `${s}×`;
      return opt;
    }),
  );
  select.value = String(state.speed);
}

function applyState(msg) {
  state.paused = msg.paused;
  state.speed = msg.speed;
  const pause = $("pause");
  pause.textContent = msg.paused ? "Resume" : "Pause";
  pause.setAttribute("aria-pressed", msg.paused ? "true" : "false");
  $("speed").value = String(msg.speed);
  savePosition();
}

$("pause").addEventListener("click", () => conn.send({ type: state.paused ? "resume" : "pause" }));
$("speed").addEventListener("change", (e) => conn.send({ type: "speed", speed: Number(e.target.value) }));
$("restart").addEventListener("click", () => conn.send({ type: "restart" }));
$("zoom-in").addEventListener("click", () => chart.zoom(0.5));
$("zoom-out").addEventListener("click", () => chart.zoom(2));
$("zoom-reset").addEventListener("click", () => chart.follow());
$("live").addEventListener("click", () => {
  chart.follow();
  events.select(null);
});
chart.onViewChange = (following) => {
  $("live").hidden = following;
  overview.viewSpan = chart.view;
  overview.redraw();
};
$("chart-text").addEventListener("toggle", () => $("chart-text").open && describeChart(chart, state.zone));
