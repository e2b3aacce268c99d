"""Times written the way ``date`` and Java's ``Date.toString()`` write them: ``Sun Jun 11 07:34:09
PDT 2017``. fitparse's CSV dumps of real Garmin files (shared/data/fit/*-records.csv) use it, and
every one was refused: "cannot read the time 'Sun Jun 11 07:34:09 PDT 2017' in column 'timestamp'"."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from tests.real_data import REAL

FIT = REAL.parent / "fit"


def read(text: str) -> tuple[list[float], list[float], int | None]:
    (series,) = read_series(io.BytesIO(text.encode()), "records.csv")
    return list(series.ts), list(series.bpm), series.tz_offset_min


def test_a_named_zone_gives_the_offset_and_the_instant() -> None:
    ts, bpm, tz = read(
        "timestamp,heart_rate,cadence\n"
        "Sun Jun 11 07:34:09 PDT 2017,61,0\n"
        "Sun Jun 11 07:34:10 PDT 2017,62,0\n"
        "Sun Jun 11 07:34:12 PDT 2017,64,0\n"
    )
    first = datetime.fromisoformat("2017-06-11T07:34:09-07:00").timestamp()
    assert ts == [first, first + 1, first + 3] and bpm == [61.0, 62.0, 64.0] and tz == -420


def test_utc_and_a_change_of_daylight_saving_time_keep_the_instants() -> None:
    ts, _, tz = read("time,bpm\nSat Mar 12 23:59:59 UTC 2016,70\nSun Mar 13 00:00:01 GMT 2016,71\n")
    assert tz == 0 and ts == [datetime.fromisoformat("2016-03-12T23:59:59+00:00").timestamp(), ts[0] + 2]
    ts, _, tz = read("time,bpm\nSun Nov 06 01:59:59 EDT 2016,70\nSun Nov 06 01:00:00 EST 2016,71\n")
    assert tz == -240 and ts[1] - ts[0] == 1  # the clock went back an hour, the instants one second on


def test_without_a_zone_the_time_is_the_files_own_clock() -> None:
    ts, _, tz = read("time,bpm\nSun Jun 11 07:34:09 2017,61\nSun Jun 11 07:34:10 2017,62\n")
    assert tz is None and ts[0] == datetime.fromisoformat("2017-06-11T07:34:09+00:00").timestamp()


def test_an_unknown_zone_name_is_not_guessed() -> None:
    with pytest.raises(InputError, match="cannot read the time 'Sun Jun 11 07:34:09 XYZ 2017'"):
        read("timestamp,bpm\nSun Jun 11 07:34:09 XYZ 2017,61\nSun Jun 11 07:34:10 XYZ 2017,62\n")


@pytest.mark.skipif(not FIT.is_dir(), reason=f"the real recordings are not at {FIT}")
@pytest.mark.parametrize("name", ["garmin-fenix-5-run", "garmin-edge-820-bike"])
def test_a_fitparse_dump_reads_as_its_fit_file(name: str) -> None:
    with (FIT / f"{name}.fit").open("rb") as f:
        (fit,) = read_series(f, f"{name}.fit")
    with (FIT / f"{name}-records.csv").open("rb") as f:
        (dump,) = read_series(f, f"{name}-records.csv")
    assert list(dump.ts) == list(fit.ts) and list(dump.bpm) == list(fit.bpm)
    assert dump.tz_offset_min == fit.tz_offset_min == -420
