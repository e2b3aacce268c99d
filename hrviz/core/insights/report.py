"""The figures of one session, and their JSON shape (docs/insights.md, "JSON")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hrviz.core.insights.quality import Quality, quality
from hrviz.core.insights.summary import Episode, Minute, Recovery, Summary, SummaryBuilder
from hrviz.core.insights.zones import Profile, Zone, zones
from hrviz.core.model import Anomaly, Session, format_ts
from hrviz.core.ports import SessionStore

RESTING_WINDOW = 5  # minutes: the resting rate is the lowest mean over this many consecutive minutes
MINUTE_COVERED_S = 30.0  # a minute counts for the resting rate when half of it was measured


def resting_bpm(minutes: Sequence[Minute]) -> float | None:
    """The lowest mean over ``RESTING_WINDOW`` consecutive, well-measured minutes.

    A session shorter than that: its lowest well-measured minute; none at all: None.
    """
    good = [m for m in minutes if m.seconds >= MINUTE_COVERED_S]
    best: float | None = None
    run: list[Minute] = []
    for m in good:
        if run and m.start - run[-1].start != 60:
            run = []
        run.append(m)
        if len(run) > RESTING_WINDOW:
            run.pop(0)
        if len(run) == RESTING_WINDOW:
            mean = sum(x.total for x in run) / sum(x.count for x in run)
            best = mean if best is None else min(best, mean)
    if best is None and good:
        best = min(m.mean for m in good)
    return None if best is None else round(best, 1)


@dataclass(frozen=True, slots=True)
class Insights:
    session: Session
    summary: Summary
    profile: Profile
    resting_bpm: float | None
    zones: list[Zone]
    quality: Quality

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


def from_store(store: SessionStore, session_id: str, p: Profile) -> Insights | None:
    """A stored session's insights: its readings streamed once from the store; None if unknown."""
    session = store.get(session_id)
    if session is None:
        return None
    builder = SummaryBuilder(p.max_hr)
    builder.add(store.readings(session_id))
    return insights(session, builder.finish(), p)
