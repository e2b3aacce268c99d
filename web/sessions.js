// Past sessions, paged from the store by the server ("sessions", docs/api.md): file name (never a
// local path), upload date, span, readings, anomalies; filter by name, sort, delete (confirmed).

import { liveBadge } from "./live.js";
import { plural } from "./events.js";
import { dateText, durationText, fullText, zoneOf } from "./timefmt.js";

const PAGE = 20;
const $ = (id) => document.getElementById(id);

/** The file's name as the server lists it (never a local path: core/protocol.py display_source). */
export function sourceName(source) {
  return String(source || "");
}

export class Sessions {
  constructor(conn, onPlay) {
    this.conn = conn;
    this.onPlay = onPlay;
    this.offset = 0;
    this.total = 0;
    let typing = null;
    $("sessions-filter").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.refresh(0), 250);
    });
    $("sessions-sort").addEventListener("change", () => this.refresh(0));
    $("sessions-prev").addEventListener("click", () => this.refresh(Math.max(0, this.offset - PAGE)));
    $("sessions-next").addEventListener("click", () => this.refresh(this.offset + PAGE));
  }

  refresh(offset = this.offset) {
    this.offset = offset;
    const q = $("sessions-filter").value.trim();
    this.conn.send({ type: "sessions", offset, limit: PAGE, q, sort: $("sessions-sort").value });
  }

  show(msg) {
    const list = $("sessions");
    const items = msg.sessions;
    this.total = msg.total ?? items.length;
    this.offset = msg.offset ?? 0;
    $("sessions-count").textContent = this.total.toLocaleString("en-US");
    list.replaceChildren(...items.map((s) => this.row(s)));
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = $("sessions-filter").value ? "No session has that in its name." : "None yet: upload a file above.";
      list.append(li);
    }
    const last = Math.min(this.total, this.offset + items.length);
    $("sessions-page").textContent = this.total ? `${this.offset + 1}–${last} of ${this.total.toLocaleString("en-US")}` : "";
    $("sessions-prev").disabled = this.offset === 0;
    $("sessions-next").disabled = last >= this.total;
  }

  row(s) {
    const zone = zoneOf(s);
    const li = document.createElement("li");
    li.dataset.sessionId = s.id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "s-play";
    const name = document.createElement("span");
    name.className = "s-name";
    name.textContent = s.subject ? `${sourceName(s.source)} — ${s.subject}` : sourceName(s.source);
    const badge = liveBadge(s);
    if (badge) name.append(" ", badge);
    const meta = document.createElement("span");
    meta.className = "s-meta";
    const t0 = s.start ? Date.parse(zone.naive ? `${s.start}Z` : s.start) / 1000 : null;
    const t1 = s.end ? Date.parse(zone.naive ? `${s.end}Z` : s.end) / 1000 : null;
    const when = zone.noTimes || (t0 != null ? `${fullText(t0, zone)}, ${durationText(t1 - t0)}` : "no time");
    const count = s.anomaly_count ?? 0;
    meta.textContent = `${when} · ${plural(s.readings, "reading", "readings")} · ${plural(count, "anomaly", "anomalies")}`;
    const up = document.createElement("span");
    up.className = "s-meta";
    // the upload date in this browser's zone: it is when *you* stored it, not when it was recorded
    const here = { offset: -new Date().getTimezoneOffset(), name: "", naive: true, noTimes: null };
    up.textContent = s.uploaded_at ? `uploaded ${dateText(s.uploaded_at, here)}` : "";
    button.append(name, meta, up);
    button.addEventListener("click", () => this.onPlay(s));
    const del = document.createElement("button");
    del.type = "button";
    del.className = "s-delete";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete ${name.textContent}`);
    del.addEventListener("click", () => {
      if (confirm(`Delete ${name.textContent} (${plural(s.readings, "reading", "readings")})? This cannot be undone.`)) {
        this.conn.send({ type: "delete", session_id: s.id });
      }
    });
    li.append(button, del);
    return li;
  }

  deleted() {
    this.refresh();
  }
}
