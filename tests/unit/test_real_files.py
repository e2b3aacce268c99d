"""Every real device export in /work/shared/data/real/ reads into what PROVENANCE.md says it holds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from hrviz.core.errors import InputError
from hrviz.core.model import format_ts
from hrviz.core.reader import read_series
from hrviz.core.series import Series
from tests.real_data import REAL


@dataclass(frozen=True)
class Expect:
    """What one file must yield. ``subject``/first/last/bpm range are for the largest subject."""

    subjects: int
    rows: int  # data rows summed over subjects (PROVENANCE's row count)
    readings: int  # after de-duplication, summed over subjects
    subject: str | None
    first: str
    last: str
    tz: int | None
    bpm_min: float
    bpm_max: float
    missing: int = 0  # NaN readings (placeholders) in the largest subject


EXPECTED: dict[str, Expect | str] = {
    "apple_health_export_2015-2017.csv": Expect(
        1, 75813, 75813, None, "2015-12-01T18:00:10-05:00", "2017-02-28T00:44:00-05:00", -300, 36, 183
    ),
    "empatica_e4_stresspredict_S02_HR.csv": Expect(
        1, 3555, 3555, None, "2022-02-07T09:53:04Z", "2022-02-07T10:52:18Z", 0, 58.22, 137.1
    ),
    # Button-press times, not heart rate: refused rather than read as a bogus series.
    "empatica_e4_stresspredict_S02_tags.csv": "no heart-rate column found",
    "fitbit_google_takeout_heart_rate_2024-03-31.csv": Expect(
        1, 10511, 10511, None, "2024-03-31T00:00:10Z", "2024-03-31T23:59:57Z", 0, 47, 193
    ),
    "fitbit_kaggle_user2022484408_2016-04-01_to_04-03.csv": Expect(
        1, 8418, 8418, "2022484408", "2016-04-01T07:54:00", "2016-04-03T09:23:35", None, 49, 182
    ),
    "fitbit_kaggle_user8877689391_2016-05-10_to_05-12.csv": Expect(
        1, 17666, 17666, "8877689391", "2016-05-10T06:55:26", "2016-05-12T14:44:28", None, 48, 180
    ),
    # HEART_RATE rows only; the -1.0 sentinel becomes one missing reading.
    "garmin_flirt_mixed_metrics_2019-10-16.csv": Expect(
        1, 8748, 8748, None, "2019-10-16T12:09:00.511+02:00", "2019-10-18T10:39:51.753+02:00", 120, 40, 148, 1
    ),
    # No time in the file: one reading per `interval` (1 s by default) from the epoch.
    "physionet_mit_hr.11839.txt": Expect(
        1, 1800, 1800, None, "1970-01-01T00:00:00", "1970-01-01T00:29:59", None, 73.4366, 106.756
    ),
    "physionet_mit_hr.237.txt": Expect(
        1, 950, 950, None, "1970-01-01T00:00:00", "1970-01-01T00:15:49", None, 52.9153, 77.4244
    ),
    # Elapsed HH:MM:SS anchored at the summary's Date + Start time.
    "polar_flow_running_2015-09-06.csv": Expect(
        1, 8167, 8167, None, "2015-09-06T10:01:07", "2015-09-06T12:17:13", None, 85, 196
    ),
    # Elapsed seconds anchored at the Year/Month/Day/Hour/Minute/Second line; 0 while paused → missing.
    "wahoo_fitness_running_2016-10-07.csv": Expect(
        1, 500, 500, None, "2016-10-07T17:24:03", "2016-10-07T17:32:22", None, 128, 156, 10
    ),
    "welltory_covid19_heart_rate_2020-04-17.csv": Expect(
        14, 61273, 61273 - 194, "6be5033971", "2020-01-01T02:24:37", "2020-04-17T14:14:23", None, 29, 203
    ),
    "whoop4_openwhoop_2026-02-19.csv": Expect(
        1, 52931, 52931, None, "2026-02-19T07:02:48", "2026-02-19T22:01:11", None, 47, 172
    ),
}


def _files() -> list[str]:
    if not REAL.is_dir():
        return []
    return sorted(p.name for p in REAL.iterdir() if p.name != "PROVENANCE.md")


def _read(name: str) -> list[Series]:
    with (REAL / name).open("rb") as fh:
        return read_series(fh, name)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent: real-file tests need the shared data folder")
def test_every_real_file_has_an_expectation() -> None:
    assert set(_files()) == set(EXPECTED)


@pytest.mark.parametrize("name", _files() or ["(no real files)"])
def test_real_file(name: str) -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent: real-file tests need the shared data folder")
    expect = EXPECTED[name]
    if isinstance(expect, str):
        with pytest.raises(InputError, match=expect) as info:
            _read(name)
        assert info.value.line == 1
        return
    series = _read(name)
    assert len(series) == expect.subjects
    assert sum(s.rows for s in series) == expect.rows
    assert sum(len(s) for s in series) == expect.readings
    for s in series:
        assert all(a < b for a, b in zip(s.ts, s.ts[1:], strict=False)), "strictly ascending after de-dup"
        assert s.rows == len(s) + s.duplicates
    main = max(series, key=len)
    assert main.subject == expect.subject
    assert main.tz_offset_min == expect.tz
    assert format_ts(main.ts[0], main.tz_offset_min) == expect.first
    assert format_ts(main.ts[-1], main.tz_offset_min) == expect.last
    values = [v for v in main.bpm if not math.isnan(v)]
    assert min(values) == pytest.approx(expect.bpm_min)
    assert max(values) == pytest.approx(expect.bpm_max)
    assert len(main) - len(values) == expect.missing


def test_welltory_subject_pick() -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent: real-file tests need the shared data folder")
    name = "welltory_covid19_heart_rate_2020-04-17.csv"
    with (REAL / name).open("rb") as fh:
        (only,) = read_series(fh, name, subject="3acfbb328e")
    assert (only.subject, only.rows) == ("3acfbb328e", 20)


def test_fitbit_kaggle_spot_values() -> None:
    """Gaps and peaks named in PROVENANCE land at the right wall times."""
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent: real-file tests need the shared data folder")
    (s,) = _read("fitbit_kaggle_user2022484408_2016-04-01_to_04-03.csv")
    peak = max(range(len(s)), key=s.bpm.__getitem__)
    assert (format_ts(s.ts[peak], None), s.bpm[peak]) == ("2016-04-01T14:47:50", 182)
    steps = [(s.ts[i + 1] - s.ts[i], i) for i in range(len(s) - 1)]
    gap, at = max(steps)
    assert format_ts(s.ts[at], None) == "2016-04-01T20:43:20" and round(gap / 60) == 13 * 60 + 6
