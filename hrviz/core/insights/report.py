"""The figures of one session, and their JSON shape (docs/insights.md, "JSON")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hrviz.core.insights.quality import Quality, quality
from hrviz.core.insights.stored import SummaryStore, from_json, stored
from hrviz.core.insights.summary import Episode, Recovery, Summary, resting_bpm, summarize
from hrviz.core.insights.zones import Profile, Zone, zones
from hrviz.core.model import Anomaly, Session, format_ts
from hrviz.core.ports import SessionStore


@dataclass(frozen=True, slots=True)
class Insights:
    session: Session
    summary: Summary
    profile: Profile
    resting_bpm: float | None
    zones: list[Zone]
    quality: Quality

    @property
    def below_zones_seconds(self) -> float:
        """Measured seconds under zone 1 (below 50 %): most of a day at rest, said so rather than left out."""
        floor = self.zones[0].low_bpm if self.zones else 0.0
        return sum(seconds for bpm, seconds in self.summary.seconds_at.items() if bpm < floor)

    @property
    def episodes(self) -> list[Episode]:
        return self.summary.episodes

    @property
    def recoveries(self) -> list[Recovery]:
        return self.summary.recoveries

    def as_dict(self) -> dict[str, object]:
        s, tz = self.summary, self.session.tz_offset_min
        mean = s.mean_bpm
        return {
            "id": self.session.id,
            "source": self.session.source,
            "subject": self.session.subject,
            "start": format_ts(s.first_ts, tz),
            "end": format_ts(s.last_ts, tz),
            "recorded_seconds": round(s.recorded_s, 3),
            "covered_seconds": round(s.covered_s, 3),
            "coverage": round(s.covered_s / s.recorded_s, 4) if s.recorded_s else 0.0,
            "filled": round(s.filled / s.readings, 4) if s.readings else 0.0,
            "interval_seconds": s.step,
            "resting_bpm": self.resting_bpm,
            "mean_bpm": None if mean is None else round(mean, 1),
            "max_bpm": s.max_bpm,
            "max_hr": {"bpm": self.profile.max_hr, "source": self.profile.source, "estimate": self.profile.estimated},
            "zone_model": self.profile.model,
            "zones": [
                {"zone": z.zone, "low_bpm": z.low_bpm, "high_bpm": z.high_bpm, "seconds": round(z.seconds, 3)}
                for z in self.zones
            ],
            "below_zones_seconds": round(self.below_zones_seconds, 3),
            "episodes": [
                {
                    "kind": e.kind,
                    "start": format_ts(e.start, tz),
                    "end": format_ts(e.end, tz),
                    "start_ts": e.start,
                    "seconds": round(e.seconds, 3),
                    "peak_bpm": e.peak_bpm,
                }
                for e in s.episodes
            ],
            "recoveries": [
                {
                    "effort_start": format_ts(r.effort_start, tz),
                    "effort_end": format_ts(r.effort_end, tz),
                    "end_ts": r.effort_end,
                    "peak_bpm": r.peak_bpm,
                    "end_bpm": r.end_bpm,
                    "after_60s_bpm": r.after_bpm,
                    "hrr60_bpm": round(r.drop_bpm, 2),
                }
                for r in s.recoveries
            ],
            "quality": {
                "verdict": self.quality.verdict,
                "sentence": self.quality.sentence,
                "filled_pct": self.quality.filled_pct,
                "coverage_pct": self.quality.coverage_pct,
                "gaps": self.quality.gaps,
                "longest_gap_seconds": round(self.quality.longest_gap_s, 3),
                "anomalies_per_hour": self.quality.per_hour,
            },
        }


def insights(session: Session, summary: Summary, p: Profile, anomalies: Sequence[Anomaly] | None = None) -> Insights:
    """The figures of a session from its one-pass summary and its events."""
    rest = resting_bpm(summary.minutes)
    events = session.anomalies if anomalies is None else anomalies
    return Insights(session, summary, p, rest, zones(summary.seconds_at, p, rest), quality(summary, events))


def from_store(
    store: SessionStore, session_id: str, p: Profile, summaries: SummaryStore | None = None
) -> Insights | None:
    """A stored session's insights; None if unknown.

    From the summary stored at ingest when there is one and its recoveries assumed the same
    maximum heart rate (everything else does not depend on it); else from the readings, streamed
    once — and a session that had no summary (stored by an older hrviz, or live) gets it stored.
    """
    session = store.get(session_id)
    if session is None:
        return None
    text = None if summaries is None else summaries.summary(session_id)
    found = None if text is None else from_json(text)
    if found is not None and found[1] == p.max_hr:
        return insights(session, found[0], p)
    summary = summarize(store.readings(session_id), p.max_hr)
    if summaries is not None and text is None:  # a live session's append drops it again
        summaries.save_summary(stored(session, summary, p.max_hr))
    return insights(session, summary, p)


def backfill(store: SessionStore, summaries: SummaryStore, max_hr: float, page: int = 500) -> int:
    """Store the summary of every session that has none (older sessions, live ones); how many were
    added. Each session once per call: a live session's next small transaction drops its summary
    again, so "until none is left" never ended while 500 sessions were live (serve's trends)."""
    done: set[str] = set()
    while True:
        limit = len(done) + page  # the ones done this call may be listed again: room for `page` more
        listed = summaries.unsummarised(limit)
        new = [sid for sid in listed if sid not in done]
        for sid in new:
            done.add(sid)
            session = store.get(sid)
            if session is not None:
                summaries.save_summary(stored(session, summarize(store.readings(sid), max_hr), max_hr))
        if len(listed) < limit or not new:
            return len(done)
