"""explain at its edges: the severity scale of docs/anomalies.md for drops, for events that do not start at 0 and for
events without a cadence, and the rhythm report's numbers as JSON writes them."""

from __future__ import annotations

import json

import pytest

from hrviz.core import explain
from hrviz.core.cadence import Cadence, Segment
from hrviz.core.detector import DetectorConfig
from hrviz.core.model import Anomaly, Kind


@pytest.mark.parametrize(
    ("event", "severity"),
    [
        (Anomaly(Kind.SPIKE, 5.0, 5.0, 100.0, 70.0, 30.0), 0.428571),  # docs: 30 bpm from 70: 0.43
        (Anomaly(Kind.DROP, 5.0, 5.0, 40.0, 70.0, -30.0), 0.428571),  # a drop is measured the same way
        (Anomaly(Kind.DROP, 5.0, 9.0, 16.0, 72.0, -56.0), 0.777778),  # docs: 56 from 72: 0.78
    ],
)
def test_a_drop_is_as_severe_as_a_spike_of_the_same_size(event: Anomaly, severity: float) -> None:
    assert round(explain.severity(event), 6) == severity


@pytest.mark.parametrize(
    ("event", "severity"),
    [
        (Anomaly(Kind.GAP, 1000.0, 1600.0, None, 60.0), 0.333333),  # 10 × the cadence: 0.33, wherever it starts
        (Anomaly(Kind.FLATLINE, 1000.0, 1070.0, 66.0), 0.381667),  # 0.3 + 0.7 × 70 s / 10 min
        (Anomaly(Kind.GAP, 0.0, 90.0), 0.058697),  # cadence unknown: one a minute; 1.5 × it: log10(1.5) / 3
        (Anomaly(Kind.GAP, 0.0, 30.0), 0.0),  # no longer than the cadence: harmless
    ],
)
def test_a_duration_is_measured_from_the_events_start(event: Anomaly, severity: float) -> None:
    assert round(explain.severity(event), 6) == severity


def test_a_missing_run_without_a_cadence_counts_one_reading_a_second() -> None:
    event = Anomaly(Kind.MISSING, 10.0, 20.0, 70.0)
    assert explain.sentence(event) == "11 readings missing; filled with 70 bpm"
    assert round(explain.severity(event), 6) == 0.21


def iso(t: float) -> str:
    return f"T{t:g}"


def test_the_rhythm_report_writes_whole_seconds_as_integers_and_others_to_a_millisecond() -> None:
    c = Cadence(1.5, 60.0)
    c.segments = [Segment(0.0, 100.0, 5.0, 5.0, [5.0], [5.0]), Segment(100.0, 200.0, 1 / 3, 2 / 3, [1 / 3], [2 / 3])]
    report = explain.cadence_report(c, 5.0, DetectorConfig(), iso)
    assert json.dumps(report) == (
        '{"median_s": 5, "segments": ['
        '{"start": "T0", "end": "T100", "every_s": 5, "usual_max_s": 5, "notes": []}, '
        '{"start": "T100", "end": "T200", "every_s": 0.333, "usual_max_s": 0.667, "notes": []}]}'
    )


def test_a_step_is_unusual_beyond_missing_factor_cadences_even_when_the_device_is_regular() -> None:
    """With a missing factor of 3, readings every 25 s (at most 30 s apart) are unusual only past 75 s, beyond
    --max-fill: the note says so, although 1.5 × the usual step (45 s) is under it."""
    c = Cadence(3.0, 60.0)
    c.segments = [Segment(0.0, 1000.0, 25.0, 30.0, [25.0], [30.0])]
    assert explain.cadence_report(c, 25.0, DetectorConfig(missing_factor=3.0), iso)["segments"] == [
        {
            "start": "T0",
            "end": "T1000",
            "every_s": 25,
            "usual_max_s": 30,
            "notes": [
                "missing readings: never filled here, a step is only unusual beyond 1 min 15 s at one reading every "
                "25 s, longer than --max-fill (1 min); holes that are long for this part are gaps",
                "flatline: needs 10 identical readings, 4 min 10 s at one every 25 s",
            ],
        }
    ]
