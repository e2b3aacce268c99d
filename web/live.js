// Live sessions (docs/live.md): a session being recorded right now is flagged `live` by the server
// ("sessions" and "replay", docs/api.md). Its badge, kept here so the list and the player only hook in.

/** A "live" badge for a session that is being recorded, else null. */
export function liveBadge(session) {
  if (!session || !session.live) return null;
  const badge = document.createElement("span");
  badge.className = "live-badge";
  badge.textContent = "live";
  badge.title = "Being recorded now: opens at its latest reading and follows it";
  return badge;
}

/** A live session grows with each reading: its count and its end (the page's header line follows them). */
export function followReading(session, r) {
  if (!session || !session.live || r.seq < session.readings - 1) return;
  session.readings = r.seq + 1;
  session.end = r.ts;
  session.start = session.start || r.ts;
}

const BUCKETS = 1200; // as the server's "overview" (hrviz/core/overview.py)
const OVERVIEW_EVERY = 1000; // ms between two rebuilds of a live session's overview
let rebuilt = 0;
let waiting = null; // a rebuild put off by OVERVIEW_EVERY

/** The page's header line (`meta()`: its readings, span, anomalies) and overview strip follow a live session. */
export function followLive(state, series, overview, meta) {
  document.getElementById("session-meta").textContent = meta();
  followOverview(overview, series, state);
}

/** The server's "overview" is the session as it was when opened (a short one stays short, and a new
 * reading lies past its end). The page holds every reading of it (it opened with its history):
 * bucketed here as the server does, at most once a second. */
function followOverview(overview, series, state) {
  const session = state.session;
  const now = performance.now();
  const n = series.count;
  if (!session || n === 0 || n !== session.readings) return; // replaying behind the edge
  if (overview.data && overview.data.t1 >= series.t[n - 1]) return;
  if (now - rebuilt < OVERVIEW_EVERY) {
    // the last readings for a while: drawn a second later all the same
    waiting = waiting || setTimeout(() => {
      waiting = null;
      followOverview(overview, series, state);
    }, OVERVIEW_EVERY - (now - rebuilt));
    return;
  }
  rebuilt = now;
  const t0 = series.t[0];
  const span = series.t[n - 1] - t0;
  const first = new Array(BUCKETS).fill(-1);
  const count = new Array(BUCKETS).fill(0);
  const min = new Array(BUCKETS).fill(null);
  const max = new Array(BUCKETS).fill(null);
  for (let i = 0; i < n; i++) {
    const b = span > 0 ? Math.min(BUCKETS - 1, Math.floor(((series.t[i] - t0) / span) * BUCKETS)) : 0;
    if (first[b] < 0) first[b] = i;
    count[b] += 1;
    if (!series.measured(i)) continue;
    const v = series.bpm[i];
    if (min[b] === null || v < min[b]) min[b] = v;
    if (max[b] === null || v > max[b]) max[b] = v;
  }
  overview.set({ session_id: session.id, t0, t1: t0 + span, first, count, min, max }, n, state.zone);
}
