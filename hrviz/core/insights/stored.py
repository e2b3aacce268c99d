"""A session's summary as the stores keep it: computed once at ingest, read back by report and trends.

Two shapes: one row of headline figures per session (what trends aggregate in SQL: the day, the
resting rate, the maximum, recorded seconds, anomaly count) plus the measured seconds per whole
bpm (so that minutes per zone can be summed in SQL for any maximum heart rate), and the whole
:class:`Summary` as JSON (what ``report`` needs: minutes, episodes, recoveries, gaps) so a
report never re-reads a million readings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, cast

from hrviz.core.insights.summary import Episode, Minute, Recovery, Summary, resting_bpm
from hrviz.core.model import Session, StoredSummary

FORMAT = 1  # of the JSON; a stored summary of another format is recomputed from the readings


def day_of(ts: float | None, tz_offset_min: int | None) -> str:
    if ts is None or not math.isfinite(ts):
        return "0000-00-00"
    try:
        when = datetime.fromtimestamp(ts, UTC) + timedelta(minutes=tz_offset_min or 0)
    except (OverflowError, OSError, ValueError):
        return "0000-00-00"
    return when.strftime("%Y-%m-%d")


def stored(session: Session, summary: Summary, effort_max_hr: float | None) -> StoredSummary:
    bins: dict[int, float] = {}
    for bpm, seconds in summary.seconds_at.items():
        key = math.floor(bpm)
        bins[key] = bins.get(key, 0.0) + seconds
    mean = summary.mean_bpm
    return StoredSummary(
        session.id,
        day_of(summary.first_ts, session.tz_offset_min),
        resting_bpm(summary.minutes),
        None if mean is None else round(mean, 2),
        summary.max_bpm,
        summary.recorded_s,
        summary.covered_s,
        len(session.anomalies),
        effort_max_hr,
        to_json(summary, effort_max_hr),
        bins,
    )


def to_json(s: Summary, effort_max_hr: float | None) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "effort_max_hr": effort_max_hr,
            "readings": s.readings,
            "filled": s.filled,
            "step": s.step,
            "first_ts": s.first_ts,
            "last_ts": s.last_ts,
            "covered_s": s.covered_s,
            "measured_s": s.measured_s,
            "gaps": s.gaps,
            "seconds_at": [[k, v] for k, v in s.seconds_at.items()],
            "total_bpm": s.total_bpm,
            "count_bpm": s.count_bpm,
            "max_bpm": s.max_bpm,
            "minutes": [[m.start, m.count, m.seconds, m.total, m.low, m.high] for m in s.minutes],
            "episodes": [[e.kind, e.start, e.end, e.peak_bpm] for e in s.episodes],
            "recoveries": [[r.effort_start, r.effort_end, r.end_bpm, r.after_bpm, r.peak_bpm] for r in s.recoveries],
        },
        separators=(",", ":"),
    )


def from_json(text: str) -> tuple[Summary, float | None] | None:
    """The summary and the maximum its recoveries assumed; None when written in another format."""
    d = json.loads(text)
    if d.get("format") != FORMAT:
        return None
    s = Summary(
        readings=d["readings"],
        filled=d["filled"],
        step=d["step"],
        first_ts=d["first_ts"],
        last_ts=d["last_ts"],
        covered_s=d["covered_s"],
        measured_s=d["measured_s"],
        gaps=[(a, b) for a, b in d["gaps"]],
        seconds_at={k: v for k, v in d["seconds_at"]},
        total_bpm=d["total_bpm"],
        count_bpm=d["count_bpm"],
        max_bpm=d["max_bpm"],
        minutes=[Minute(*m) for m in d["minutes"]],
        episodes=[Episode(*e) for e in d["episodes"]],
        recoveries=[Recovery(*r) for r in d["recoveries"]],
    )
    return s, d["effort_max_hr"]


@dataclass(frozen=True, slots=True)
class Day:
    """One day of trends: over the sessions that started that day."""

    day: str
    sessions: int
    resting_bpm: float | None  # the lowest session resting rate of the day
    max_bpm: float | None
    recorded_s: float
    anomalies: int
    zone_seconds: tuple[float, float, float, float, float]

    @property
    def anomalies_per_hour(self) -> float:
        return round(self.anomalies / (self.recorded_s / 3600), 2) if self.recorded_s else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day,
            "sessions": self.sessions,
            "resting_bpm": self.resting_bpm,
            "max_bpm": self.max_bpm,
            "recorded_seconds": round(self.recorded_s, 3),
            "anomalies": self.anomalies,
            "anomalies_per_hour": self.anomalies_per_hour,
            "zone_minutes": [round(s / 60, 1) for s in self.zone_seconds],
        }


class SummaryStore(Protocol):
    """What report and trends need from a store besides :class:`hrviz.core.ports.SessionStore`."""

    def summary(self, session_id: str) -> str | None:
        """The stored summary's JSON (:func:`to_json`), None when the session has none yet."""
        ...

    def save_summary(self, row: StoredSummary) -> None:
        """Store (or replace) a session's summary: the back-fill of sessions stored before it existed."""
        ...

    def unsummarised(self, limit: int = 1000) -> list[str]:
        """Ids of committed sessions without a summary (stored by an older hrviz, or live)."""
        ...

    def trends(self, edges: tuple[float, ...], since_day: str | None = None) -> list[Day]:
        """Per day, oldest first, over the stored summaries; ``edges`` are the five zones' lower
        bounds (zone 5 has no ceiling), compared with whole-bpm bins."""
        ...


def summaries_of(store: object) -> SummaryStore | None:
    """The store's summaries, when it keeps them (both SQL stores do; a store wrapped by the
    staging of a queue, :class:`hrviz.core.staging.StagingStore`, is looked through)."""
    for candidate in (store, getattr(store, "store", None)):
        if candidate is not None and all(hasattr(candidate, m) for m in ("summary", "save_summary", "trends")):
            return cast(SummaryStore, candidate)
    return None
