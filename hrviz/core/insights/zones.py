"""Heart-rate zones: five bands by % of maximum heart rate, or of heart-rate reserve (Karvonen).

50–60, 60–70, 70–80, 80–90 and 90–100 % are the Garmin/Polar defaults; a value above the maximum
is zone 5, one below 50 % is in no zone. Zones are drawn from the measured seconds at each value
(``Summary.seconds_at``), so filled readings and gaps never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from hrviz.core.errors import SettingsError

BOUNDS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
DEFAULT_AGE = 30  # without --max-hr, --age or a [profile]: 220 − 30 = 190, an assumption that is said


@dataclass(frozen=True, slots=True)
class Profile:
    """Where the maximum heart rate comes from, and which zone model to use."""

    max_hr: float
    source: str  # "max-hr" | "age" | "config" | "config age" | "default"
    model: str = "max"  # "max" (% of maximum) | "hrr" (% of reserve, Karvonen)

    @property
    def estimated(self) -> bool:
        return self.source in ("age", "config age", "default")


def profile(
    max_hr: float | None = None, age: float | None = None, model: str = "max", *, source: str | None = None
) -> Profile:
    """The maximum from ``max_hr``, else 220 − ``age`` (an estimate), else 220 − 30 (said so)."""
    if model not in ("max", "hrr"):
        raise SettingsError(f"zones must be 'max' or 'hrr', not {model!r}")
    if max_hr is not None:
        if not 80 <= max_hr <= 250:
            raise SettingsError(f"max heart rate {max_hr:g} is not plausible (80–250 bpm)")
        return Profile(float(max_hr), source or "max-hr", model)
    if age is not None:
        if not 5 <= age <= 110:
            raise SettingsError(f"age {age:g} is not plausible (5–110)")
        return Profile(220.0 - age, source or "age", model)
    return Profile(220.0 - DEFAULT_AGE, "default", model)


@dataclass(frozen=True, slots=True)
class Zone:
    zone: int
    low_bpm: float
    high_bpm: float  # exclusive, except zone 5 which has no ceiling
    seconds: float


def bounds(p: Profile, resting: float | None) -> list[tuple[float, float]]:
    """The five (low, high) bpm ranges; Karvonen needs the resting rate (falls back to % of max)."""
    if p.model == "hrr" and resting is not None and resting < p.max_hr:
        edges = [resting + f * (p.max_hr - resting) for f in BOUNDS]
    else:
        edges = [f * p.max_hr for f in BOUNDS]
    return [(round(edges[i], 1), round(edges[i + 1], 1)) for i in range(5)]


def zones(seconds_at: dict[float, float], p: Profile, resting: float | None) -> list[Zone]:
    ranges = bounds(p, resting)
    totals = [0.0] * 5
    for bpm, seconds in seconds_at.items():
        for i in range(4, -1, -1):
            if bpm >= ranges[i][0]:
                totals[i] += seconds
                break
    return [Zone(i + 1, lo, hi, totals[i]) for i, (lo, hi) in enumerate(ranges)]
