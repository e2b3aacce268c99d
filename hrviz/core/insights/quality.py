"""Data quality: can the figures be trusted? Anomalies per hour, filled share, gaps, one verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hrviz.core.explain import duration
from hrviz.core.insights.summary import Summary
from hrviz.core.model import Anomaly

SHORT_GAP_S = 300.0  # a gap up to 5 minutes is "short" in the verdict


@dataclass(frozen=True, slots=True)
class Quality:
    per_hour: dict[str, float]  # anomaly kind → events per recorded hour
    filled_pct: float
    coverage_pct: float
    gaps: int
    longest_gap_s: float
    verdict: str  # "good" | "fair" | "poor"
    sentence: str


def _rate(per_hour: float) -> float:
    """Two decimals; a rare kind keeps two significant digits (11 drops in 107 days: 0.0043/h, not "0/h")."""
    return round(per_hour, 2) or float(f"{per_hour:.2g}")


def quality(s: Summary, anomalies: Sequence[Anomaly]) -> Quality:
    hours = s.recorded_s / 3600 if s.recorded_s else 0.0
    counts = Counter(str(a.kind) for a in anomalies)
    per_hour = {k: _rate(n / hours) if hours else 0.0 for k, n in sorted(counts.items())}
    filled_pct = 100.0 * s.filled / s.readings if s.readings else 0.0
    coverage_pct = 100.0 * s.covered_s / s.recorded_s if s.recorded_s else 0.0
    longest = max((g for _, g in s.gaps), default=0.0)
    impossible = counts.get("out_of_range", 0) + counts.get("flatline", 0)
    if not s.count_bpm:
        verdict = "poor"
    elif coverage_pct >= 95 and filled_pct <= 2 and impossible / max(hours, 1.0) <= 1:
        verdict = "good"
    elif coverage_pct >= 75 and filled_pct <= 10:
        verdict = "fair"
    else:
        verdict = "poor"
    short = sum(1 for _, g in s.gaps if g <= SHORT_GAP_S)
    parts = [f"{filled_pct:.1f} % filled"]
    if s.gaps:
        long = len(s.gaps) - short
        gap_words = []
        if short:
            gap_words.append(f"{short} short gap{'s' if short != 1 else ''}")
        if long:
            gap_words.append(f"{long} long gap{'s' if long != 1 else ''} (longest {duration(longest)})")
        parts.append(", ".join(gap_words))
    else:
        parts.append("no gaps")
    # named apart: a flatline is a stuck sensor, not an impossible value (a run said
    # "1 impossible stretch" for a strap stuck at 166 bpm, while the anomaly list said "Flatline")
    out, flat = counts.get("out_of_range", 0), counts.get("flatline", 0)
    if out:
        parts.append(f"{out} stretch{'es' if out != 1 else ''} of impossible values")
    if flat:
        parts.append(f"{flat} stuck-sensor stretch{'es' if flat != 1 else ''}")
    if not s.count_bpm:
        parts = ["no measured readings"]
    return Quality(
        per_hour,
        round(filled_pct, 2),
        round(coverage_pct, 2),
        len(s.gaps),
        longest,
        verdict,
        f"{verdict}: " + ", ".join(parts),
    )
