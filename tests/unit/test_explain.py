"""Events in words: durations and numbers for people, one sentence per kind, the severity scale."""

from __future__ import annotations

import pytest

from hrviz.core.explain import bpm, duration, most_significant, sentence, severity
from hrviz.core.model import Anomaly, Kind


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "0.5 s"), (3, "3 s"), (2.9994, "3 s"), (4.01867, "4 s"), (59, "59 s"), (60, "1 min"), (150, "2 min 30 s"),
     (840, "14 min"), (7500, "2 h 5 min"), (36000, "10 h"), (3 * 86400 + 4 * 3600, "3 d 4 h")],
)  # fmt: skip
def test_durations_read_like_people_write_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(("value", "text"), [(72.0, "72"), (73.4366, "73.44"), (58.2, "58.2"), (106.756, "106.76")])
def test_bpm_keeps_at_most_two_decimals_and_none_when_whole(value: float, text: str) -> None:
    assert bpm(value) == text


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (Anomaly(Kind.SPIKE, 10, 12, 128, 72, 56), "Rose 56 bpm from a 72 bpm baseline to 128 bpm for 2 s, then came back"),
        (Anomaly(Kind.DROP, 10, 10, 40, 70, -30), "Fell 30 bpm from a 70 bpm baseline to 40 bpm for one reading, then came back"),
        (Anomaly(Kind.GAP, 0, 840, baseline=5), "No readings for 14 min where this file has one every 5 s"),
        (Anomaly(Kind.MISSING, 10, 14, 71, 1), "5 readings missing where this file has one every 1 s; filled with 71 bpm"),
        (Anomaly(Kind.MISSING, 0, 0, None, 1), "1 reading missing where this file has one every 1 s; nothing before them to fill with"),
        (Anomaly(Kind.OUT_OF_RANGE, 5, 5, 255), "Impossible value 255 bpm (one reading): no human heart beats that fast"),
        (Anomaly(Kind.OUT_OF_RANGE, 5, 7, 12), "Impossible value 12 bpm (for 2 s): no human heart beats that slowly"),
        (Anomaly(Kind.FLATLINE, 0, 69, 104), "Stuck at exactly 104 bpm for 1 min 9 s: a real heart rate wobbles"),
    ],
)  # fmt: skip
def test_one_sentence_per_event(event: Anomaly, text: str) -> None:
    assert sentence(event) == text


def test_severity_follows_the_documented_scale() -> None:
    assert severity(Anomaly(Kind.SPIKE, 0, 0, 100, 70, 30)) == pytest.approx(30 / 70)
    assert severity(Anomaly(Kind.SPIKE, 0, 0, 200, 70, 130)) == 1.0
    assert severity(Anomaly(Kind.GAP, 0, 50, baseline=5)) == pytest.approx(1 / 3)  # 10 cadences
    assert severity(Anomaly(Kind.GAP, 0, 5000, baseline=5)) == 1.0  # 1000 cadences
    assert severity(Anomaly(Kind.MISSING, 0, 0, 70, 1)) == pytest.approx(0.11)
    assert severity(Anomaly(Kind.MISSING, 0, 99, 70, 1)) == 0.5
    assert severity(Anomaly(Kind.OUT_OF_RANGE, 0, 0, 221)) == pytest.approx(0.8 + 0.2 / 50)
    assert severity(Anomaly(Kind.OUT_OF_RANGE, 0, 0, 280)) == 1.0
    assert severity(Anomaly(Kind.FLATLINE, 0, 60, 70)) == pytest.approx(0.37)
    assert severity(Anomaly(Kind.FLATLINE, 0, 600, 70)) == 1.0


def test_the_most_significant_come_first_ties_in_time_order() -> None:
    small = Anomaly(Kind.MISSING, 0, 0, 70, 1)
    big = Anomaly(Kind.OUT_OF_RANGE, 50, 50, 250)
    spike_a = Anomaly(Kind.SPIKE, 10, 10, 100, 70, 30)
    spike_b = Anomaly(Kind.SPIKE, 20, 20, 100, 70, 30)
    assert most_significant([small, spike_b, big, spike_a]) == [big, spike_a, spike_b, small]
