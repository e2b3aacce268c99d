"""explain's words and numbers at their boundaries: durations, each kind's sentence and severity (written out)."""

from __future__ import annotations

import pytest

from hrviz.core import explain
from hrviz.core.model import Anomaly, Kind


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "0.5 s"),
        (9.94, "9.9 s"),
        (9.96, "10 s"),
        (10.4, "10 s"),
        (10.6, "11 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (599.4, "9 min 59 s"),
        (599.6, "10 min"),
        (600, "10 min"),
        (630, "10 min"),
        (3599, "1 h"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (170999, "47 h 30 min"),
        (171000, "47 h 30 min"),
        (172800, "2 d"),
        (176400, "2 d 1 h"),
        (181801, "2 d 2 h"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert explain.duration(seconds) == text


@pytest.mark.parametrize(
    ("event", "text", "severity"),
    [
        (
            Anomaly(Kind.SPIKE, 1.0, 1.5, 110.0, 70.0, 40.0),
            "Rose 40 bpm from a 70 bpm baseline to 110 bpm for 0.5 s, then came back",
            0.571429,
        ),
        (
            Anomaly(Kind.SPIKE, 1.0, 2.0, 110.0, 70.0, 40.0),
            "Rose 40 bpm from a 70 bpm baseline to 110 bpm for 1 s, then came back",
            0.571429,
        ),
        (Anomaly(Kind.GAP, 0.0, 600.0), "No readings for 10 min", 0.333333),
        (Anomaly(Kind.GAP, 0.0, 600.0, None, 5.0), "No readings for 10 min where this file has one every 5 s", 0.69306),
        (Anomaly(Kind.MISSING, 10.0, 10.0, 70.0), "1 reading missing; filled with 70 bpm", 0.11),
        (
            Anomaly(Kind.MISSING, 10.0, 20.0, 70.0, 2.0),
            "6 readings missing where this file has one every 2 s; filled with 70 bpm",
            0.16,
        ),
        (
            Anomaly(Kind.MISSING, 0.0, 1.0, None, 0.5),
            "3 readings missing where this file has one every 0.5 s; nothing before them to fill with",
            0.13,
        ),
        (
            Anomaly(Kind.OUT_OF_RANGE, 1.0, 1.0, 125.0),
            "Impossible value 125 bpm (one reading): no human heart beats that slowly",
            0.8,
        ),
        (
            Anomaly(Kind.OUT_OF_RANGE, 1.0, 1.5, 125.5),
            "Impossible value 125.5 bpm (for 0.5 s): no human heart beats that fast",
            0.8,
        ),
        (
            Anomaly(Kind.OUT_OF_RANGE, 1.0, 3.0, 12.0),
            "Impossible value 12 bpm (for 2 s): no human heart beats that slowly",
            0.872,
        ),
        (
            Anomaly(Kind.FLATLINE, 0.0, 70.0, 66.0),
            "Stuck at exactly 66 bpm for 1 min 10 s: a real heart rate wobbles",
            0.381667,
        ),
        (Anomaly(Kind.FLATLINE, 0.0, 70.0), "flatline", 0.381667),
        (Anomaly(Kind.SPIKE, 1.0, 2.0, None, 70.0), "spike", 0.0),
        (
            Anomaly(Kind.SPIKE, 1.0, 2.0, 110.0, 0.0, 40.0),
            "Rose 40 bpm from a 0 bpm baseline to 110 bpm for 1 s, then came back",
            1.0,
        ),
        (
            Anomaly(Kind.SPIKE, 1.0, 2.0, 110.0, 0.5, 0.75),
            "Rose 0.75 bpm from a 0.5 bpm baseline to 110 bpm for 1 s, then came back",
            0.75,
        ),
    ],
)
def test_sentence_and_severity(event: Anomaly, text: str, severity: float) -> None:
    assert explain.sentence(event) == text
    assert round(explain.severity(event), 6) == severity


def test_one_placeholder_row_is_a_row() -> None:
    assert explain.ignored_rows({"placeholder 0": 2, "placeholder -1": 1}) == [
        "placeholder values read as missing readings: -1 (1 row), 0 (2 rows)"
    ]
