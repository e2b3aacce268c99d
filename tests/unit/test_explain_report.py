"""explain's reports of a session's rhythm and of the rows it left out, exactly as ingest and the API print them."""

from __future__ import annotations

from hrviz.core import explain
from hrviz.core.cadence import Cadence, Segment
from hrviz.core.detector import DetectorConfig


def iso(t: float) -> str:
    return f"T{t:g}"


def test_the_rules_a_rhythm_changes_are_noted_per_segment() -> None:
    c = Cadence(1.5, 60.0)
    c.segments = [
        Segment(0.0, 100.0, 1.0, 1.0, [1.0], [1.0]),
        Segment(100.0, 7300.0, 3600.0, 3600.0, [3600.0], [3600.0]),
        Segment(7300.0, 7400.0, 7.5, 12.25, [7.5], [12.25]),
    ]
    assert explain.cadence_report(c, 1.0, DetectorConfig(), iso) == {
        "median_s": 1,
        "segments": [
            {"start": "T0", "end": "T100", "every_s": 1, "usual_max_s": 1, "notes": []},
            {"start": "T100", "end": "T7300", "every_s": 3600, "usual_max_s": 3600, "notes": [
                "missing readings: never filled here, a step is only unusual beyond 1 h 30 min at one reading every "
                "1 h, longer than --max-fill (1 min); holes that are long for this part are gaps",
                "spike, drop: not looked for, too few readings here (one every 1 h) to know a level",
                "flatline: needs 10 identical readings, 10 h at one every 1 h",
            ]},
            {"start": "T7300", "end": "T7400", "every_s": 7.5, "usual_max_s": 12.25, "notes": [
                "flatline: needs 10 identical readings, 1 min 15 s at one every 7.5 s",
            ]},
        ],
    }  # fmt: skip
    assert explain.cadence_report(c, 2.5, DetectorConfig(), iso)["median_s"] == 2.5


def test_each_note_at_its_boundary() -> None:
    c = Cadence(1.5, 60.0)
    c.segments = [
        Segment(0.0, 18.0, 6.0, 40.0, [6.0], [40.0]),  # 1.5 x 40 = 60 s: exactly --max-fill; 3 steps; 10 x 6 = 60 s
        Segment(18.0, 35.9, 6.0, 39.9, [6.0], [39.9]),  # just under: filled; under 3 steps
        Segment(36.0, 54.0, 6.1, 6.1, [6.1], [6.1]),  # 10 x 6.1 s: over a minute
    ]
    notes = [s["notes"] for s in explain.cadence_report(c, 6.0, DetectorConfig(), iso)["segments"]]  # type: ignore[attr-defined]
    assert notes == [
        [
            "missing readings: never filled here, a step is only unusual beyond 1 min at one reading every 6 s, "
            "longer than --max-fill (1 min); holes that are long for this part are gaps"
        ],
        ["spike, drop: not looked for, too few readings here (one every 6 s) to know a level"],
        [
            "spike, drop: not looked for, too few readings here (one every 6.1 s) to know a level",
            "flatline: needs 10 identical readings, 1 min 1 s at one every 6.1 s",
        ],
    ]


def test_ignored_rows_in_words() -> None:
    ignored = {"metric STRESS": 2111, "metric SPO2": 3, "placeholder -1": 1, "placeholder 0": 12, "other": 5}
    assert explain.ignored_rows(ignored) == [
        "rows of other metrics left out: 2,111 STRESS, 3 SPO2",
        "placeholder values read as missing readings: -1 (1 row), 0 (12 rows)",
    ]
    assert explain.ignored_rows({}) == []
