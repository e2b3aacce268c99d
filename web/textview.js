// The chart as text, for screen readers and anyone who wants the numbers: a one-line summary of
// what is in view and a table of the visible readings (at most 60, evenly spread).

import { fmt } from "./chart.js";
import { fullText } from "./timefmt.js";

/** The visible readings, at most `max` of them, evenly spread. */
function visible(chart, max) {
  const L = chart.layout;
  if (!L) return [];
  const step = Math.max(1, Math.ceil((L.i1 - L.i0) / max));
  const out = [];
  for (let i = L.i0; i < L.i1; i += step) out.push(chart.series.point(i));
  return out;
}

export function describeChart(chart, zone) {
  const rows = visible(chart, 60);
  const summary = document.getElementById("chart-summary");
  const body = document.querySelector("#chart-table tbody");
  if (!rows.length) {
    summary.textContent = "No readings in view.";
    body.replaceChildren();
    return;
  }
  const values = rows.map((p) => p.bpm);
  const flagged = rows.filter((p) => p.kinds.length).length;
  summary.textContent =
    `From ${fullText(rows[0].t, zone)} to ${fullText(rows[rows.length - 1].t, zone)}: ` +
    `${fmt(Math.min(...values))} to ${fmt(Math.max(...values))} bpm` +
    (flagged ? `, ${flagged} of the ${rows.length} rows below are part of an anomaly.` : ".");
  body.replaceChildren(
    ...rows.map((p) => {
      const tr = document.createElement("tr");
      const notes = [...(p.filled ? ["filled"] : []), ...(p.afterGap ? ["after a gap"] : []), ...p.kinds];
      for (const text of [fullText(p.t, zone), fmt(p.bpm), notes.join(", ").replaceAll("_", " ")]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
}
