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
