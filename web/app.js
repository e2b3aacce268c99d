// The page: upload, live chart, anomaly panel, controls, past sessions, reconnect-and-resume.
// Everything that comes from a file (names, subjects, values) is written with textContent only.

import { Chart, clock, fmt } from "./chart.js";
import { Connection } from "./connection.js";
import { Uploads } from "./uploads.js";

const $ = (id) => document.getElementById(id);
const LABELS = {
  spike: "Spike",
  drop: "Drop",
  missing: "Missing readings",
  gap: "Gap",
  out_of_range: "Impossible value",
  flatline: "Flatline (stuck sensor)",
};
const SAVED = "hrviz.position";

const state = {
  session: null, // the session playing (Session.as_dict)
  lastSeq: -1, // last reading received: what resume_from continues after
  shown: 0,
  seqErrors: 0, // readings out of order (a gap or a duplicate): should stay 0
  speed: 1,
  paused: false,
  eventKeys: new Set(),
  stats: { n: 0, sum: 0, min: Infinity, max: -Infinity },
};

const chart = new Chart($("chart"), $("tooltip"));
const conn = new Connection({ onMessage: handle, onStatus: setStatus, onOpen: onOpen });
const uploads = new Uploads($("uploads"), conn);
window.hrviz = { conn, chart, state }; // handy from the devtools console

// -- connection --------------------------------------------------------------------------------

function setStatus(kind, text) {
  const el = $("status");
  el.dataset.state = kind;
  el.textContent = text;
  if (kind === "offline" && uploads) uploads.offline();
}

function onOpen(hello) {
  speedOptions(hello.speeds);
  conn.send({ type: "sessions" });
  const saved = state.session ? null : loadPosition();
  const sid = state.session ? state.session.id : saved && saved.session_id;
  if (!sid) return;
  const seq = state.session ? state.lastSeq : saved.seq; // after a page reload too
  conn.send({ type: "resume_from", session_id: sid, seq, speed: state.speed, paused: state.paused });
}

/** The speeds the server offers (its "hello"): the page hard-codes none. */
function speedOptions(speeds) {
  const select = $("speed");
  const label = (s) => (s >= 1e5 ? "max" : `${s}×`); // core/replay.py MAX_SPEED: as fast as the page takes them
  const options = speeds.map((s) => new Option(label(s), String(s)));
  select.replaceChildren(...options);
  select.value = String(state.speed);
}

function savePosition() {
  if (!state.session) return;
  try {
    sessionStorage.setItem(SAVED, JSON.stringify({ session_id: state.session.id, seq: state.lastSeq }));
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
  switch (msg.type) {
    case "progress":
      uploads.progress(msg);
      return showProgress(msg);
    case "uploaded":
      uploads.uploaded(msg);
      setMessage("", "info");
      conn.send({ type: "sessions" });
      return;
    case "replay":
      return startReplay(msg);
    case "reading":
      return addReading(msg);
    case "anomaly":
      return addAnomaly(msg);
    case "state":
      return applyState(msg);
    case "end":
      setMessage(`End of the recording — ${state.shown} readings replayed.`, "info");
      return;
    case "sessions":
      return listSessions(msg.sessions);
    case "error":
      uploads.failed(msg);
      return setMessage(msg.code === "bad_file" ? `Could not use ${msg.file}: ${msg.message}` : msg.message, "error");
  }
}

// -- upload ------------------------------------------------------------------------------------

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
  const resuming = state.session && state.session.id === msg.session.id && msg.from_seq === state.lastSeq + 1;
  state.session = msg.session;
  state.speed = msg.speed;
  state.paused = msg.paused;
  if (!resuming) {
    state.lastSeq = msg.from_seq - 1;
    state.shown = 0;
    state.stats = { n: 0, sum: 0, min: Infinity, max: -Infinity };
    state.eventKeys.clear();
    $("anomalies").replaceChildren();
    $("anomaly-count").textContent = "0";
    chart.clear();
    $("current-bpm").textContent = "–";
    updateStats();
    setMessage("", "info");
  }
  const s = msg.session;
  $("session-title").textContent = s.subject ? `${s.source} — ${s.subject}` : s.source;
  $("session-meta").textContent =
    `${span(s.start, s.end)} · ${s.readings} readings · ${s.anomaly_count ?? s.anomalies.length} anomalies`;
  for (const id of ["pause", "speed", "restart"]) $(id).disabled = false;
  applyState({ paused: msg.paused, speed: msg.speed });
  savePosition();
}

function addReading(r) {
  if (r.seq !== state.lastSeq + 1) {
    state.seqErrors += 1; // the server promises none; counted so a test (or a person) can tell
    console.warn(`reading ${r.seq} after ${state.lastSeq}`);
  }
  state.lastSeq = r.seq;
  state.shown += 1;
  chart.add({ seq: r.seq, t: r.t, ts: r.ts, bpm: r.bpm, filled: r.filled, kinds: r.kinds, afterGap: r.after_gap });
  $("current-bpm").textContent = fmt(r.bpm);
  $("current-bpm").dataset.filled = r.filled ? "true" : "false";
  const counter = $("readings-shown");
  counter.textContent = String(state.shown);
  counter.dataset.lastSeq = String(r.seq);
  counter.dataset.seqErrors = String(state.seqErrors);
  if (countsInStats(r)) {
    const st = state.stats;
    st.n += 1;
    st.sum += r.bpm;
    st.min = Math.min(st.min, r.bpm);
    st.max = Math.max(st.max, r.bpm);
    updateStats();
  }
  if (r.seq % 5 === 0) savePosition();
}

// the rule of hrviz/core/model.py counts_in_stats: filled and impossible values are no measurements
function countsInStats(r) {
  return !r.filled && !r.kinds.includes("out_of_range");
}

function updateStats() {
  const st = state.stats;
  $("stat-min").textContent = st.n ? fmt(st.min) : "–";
  $("stat-mean").textContent = st.n ? (st.sum / st.n).toFixed(1) : "–";
  $("stat-max").textContent = st.n ? fmt(st.max) : "–";
}

function addAnomaly(a) {
  const key = `${a.kind}|${a.t_start}|${a.t_end}`;
  if (state.eventKeys.has(key)) return; // may arrive twice around a reconnect
  state.eventKeys.add(key);
  const ev = { kind: a.kind, seq: a.seq, endSeq: null, start: a.start, tStart: a.t_start, tEnd: a.t_end };
  chart.addEvent(ev);
  const li = document.createElement("li");
  li.dataset.kind = a.kind;
  li.dataset.severity = String(a.severity);
  const button = document.createElement("button");
  button.type = "button";
  const time = document.createElement("span");
  time.className = "ev-time";
  time.textContent = clock(a.start);
  const kind = document.createElement("span");
  kind.className = "ev-kind";
  kind.textContent = LABELS[a.kind] || a.kind;
  const detail = document.createElement("span");
  detail.className = "ev-detail";
  detail.textContent = a.sentence; // built by the server's core: the same words as the CLI and terminal
  button.append(time, kind, detail);
  button.addEventListener("click", () => {
    chart.showEvent(ev);
    $("live").hidden = false;
    for (const other of $("anomalies").querySelectorAll("li.selected")) other.classList.remove("selected");
    li.classList.add("selected");
  });
  li.append(button);
  // most severe first; among equals, the newest on top
  const after = [...$("anomalies").children].find((other) => Number(other.dataset.severity) <= a.severity);
  $("anomalies").insertBefore(li, after || null);
  $("anomaly-count").textContent = String(state.eventKeys.size);
}

function span(start, end) {
  // "2026-03-14 07:30:00 → 07:39:59 (+01:00)": the file's own wall time and offset
  if (!start) return "no time";
  const [d0, t0, z0] = splitTs(start);
  const [d1, t1] = splitTs(end || start);
  return `${d0} ${t0} → ${d1 === d0 ? "" : `${d1} `}${t1}${z0 ? ` (${z0})` : ""}`;
}

function splitTs(ts) {
  const m = /^(\S+?)T([\d:.]+)(.*)$/.exec(ts);
  return m ? [m[1], m[2], m[3]] : [ts, "", ""];
}

function applyState(msg) {
  state.paused = msg.paused;
  state.speed = msg.speed;
  const pause = $("pause");
  pause.textContent = msg.paused ? "Resume" : "Pause";
  pause.setAttribute("aria-pressed", msg.paused ? "true" : "false");
  $("speed").value = String(msg.speed);
}

$("pause").addEventListener("click", () => conn.send({ type: state.paused ? "resume" : "pause" }));
$("speed").addEventListener("change", (e) => conn.send({ type: "speed", speed: Number(e.target.value) }));
$("restart").addEventListener("click", () => conn.send({ type: "restart" }));
$("live").addEventListener("click", () => {
  chart.follow();
  $("live").hidden = true;
  for (const li of $("anomalies").querySelectorAll("li.selected")) li.classList.remove("selected");
});

// -- past sessions -----------------------------------------------------------------------------

function listSessions(sessions) {
  const list = $("sessions");
  list.replaceChildren();
  if (!sessions.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "None yet: upload a file.";
    list.append(li);
  }
  for (const s of sessions) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const name = document.createElement("span");
    name.className = "s-name";
    name.textContent = s.subject ? `${s.source} — ${s.subject}` : s.source;
    const meta = document.createElement("span");
    meta.className = "s-meta";
    meta.textContent = `${span(s.start, s.end)} · ${s.readings} readings`;
    button.append(name, meta);
    button.addEventListener("click", () => {
      conn.send({ type: "replay", session_id: s.id, speed: state.speed });
      window.scrollTo({ top: 0, behavior: "smooth" });
    });
    li.dataset.sessionId = s.id;
    li.append(button);
    list.append(li);
  }
}
