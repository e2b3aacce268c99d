// Times as people read them, in the session's own time zone (the file's UTC offset), never the
// browser's: a run recorded in Berlin reads 07:30 wherever it is opened. Ticks fall on round
// wall-clock times chosen for the visible span.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const S = 1;
const M = 60;
const H = 3600;
const D = 86400;
const STEPS = [1, 2, 5, 10, 15, 30, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H, 3 * H, 6 * H, 12 * H, D, 2 * D, 7 * D, 14 * D, 30 * D, 91 * D, 365 * D];

/** The zone of a session: its offset in minutes (null: the file gave none) and a name for people. */
export function zoneOf(session) {
  const m = /(Z|[+-]\d\d:\d\d)$/.exec((session && session.start) || "");
  if (!m) return { offset: 0, name: "file's clock, no zone", naive: true, noTimes: noTimes(session) };
  if (m[1] === "Z") return { offset: 0, name: "UTC", naive: false, noTimes: null };
  const sign = m[1][0] === "-" ? -1 : 1;
  const offset = sign * (Number(m[1].slice(1, 3)) * 60 + Number(m[1].slice(4, 6)));
  return { offset, name: `UTC${m[1]}`, naive: false, noTimes: null };
}

/** Files without times are stored from 1970-01-01 at their cadence: say so instead of showing 1970. */
function noTimes(session) {
  if (!session || !/^1970-01-01T/.test(session.start || "")) return null;
  const span = (Date.parse(`${session.end}Z`) - Date.parse(`${session.start}Z`)) / 1000;
  const every = session.readings > 1 ? span / (session.readings - 1) : 1;
  return `no times in file: one reading per ${fmtNum(every)} s`;
}

function fmtNum(x) {
  return Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 2 : 1).replace(/\.?0+$/, "");
}

function parts(t, zone) {
  const d = new Date((t + zone.offset * 60) * 1000);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}

const two = (n) => String(n).padStart(2, "0");

export function clockText(t, zone, seconds = true) {
  if (zone.noTimes) return elapsed(t);
  const p = parts(t, zone);
  return seconds ? `${two(p.h)}:${two(p.mi)}:${two(p.s)}` : `${two(p.h)}:${two(p.mi)}`;
}

export function dateText(t, zone) {
  if (zone.noTimes) return "";
  const p = parts(t, zone);
  return `${p.d} ${MONTHS[p.mo]} ${p.y}`;
}

/** "14 Mar 2026, 07:30:05 UTC+01:00": a tooltip, a list row, a summary. */
export function fullText(t, zone) {
  if (zone.noTimes) return `${elapsed(t)} from the start`;
  return `${dateText(t, zone)}, ${clockText(t, zone)} ${zone.naive ? "" : zone.name}`.trim();
}

/** Time since the file's first reading, for files without times (stored from the epoch). */
export function elapsed(t) {
  const s = Math.round(t);
  const h = Math.floor(s / H);
  return h ? `${h}:${two(Math.floor((s % H) / M))}:${two(s % M)}` : `${Math.floor(s / M)}:${two(s % M)}`;
}

export function durationText(seconds) {
  const s = Math.round(seconds);
  if (s < M) return `${s} s`;
  if (s < H) return `${Math.floor(s / M)} min${s % M ? ` ${s % M} s` : ""}`;
  if (s < 2 * D) return `${Math.floor(s / H)} h${Math.floor((s % H) / M) ? ` ${Math.floor((s % H) / M)} min` : ""}`;
  return `${(s / D).toFixed(1)} days`;
}

/**
 * Ticks for [t0, t1] over `px` CSS pixels, at least `minPx` apart, on round wall-clock times.
 * Each is {t, label, day}: `day` is set where the date changes (and on the first tick), so a span
 * across midnight names both days.
 */
export function ticks(t0, t1, px, zone, minPx = 84) {
  const span = Math.max(1e-3, t1 - t0);
  const step = STEPS.find((s) => (s / span) * px >= minPx) || STEPS[STEPS.length - 1];
  const off = zone.offset * 60;
  let first = Math.ceil((t0 + off) / step) * step - off;
  if (step >= 30 * D) first = t0; // months and years do not divide evenly: start where the view starts
  const out = [];
  let lastDay = null;
  for (let t = first; t <= t1 + 1e-9 && out.length < 200; t += step) {
    const day = dateText(t, zone);
    // steps of days: the date is the label, and the year goes below where it changes
    const [label, below] = step >= D ? [day.replace(/ \d{4}$/, ""), day.slice(-4)] : [clockText(t, zone, step < M), day];
    const last = step >= D ? (lastDay || "").slice(-4) : lastDay;
    out.push({ t, label, day: below !== last && !zone.noTimes ? below : null });
    lastDay = day;
  }
  return out;
}

export { S };
