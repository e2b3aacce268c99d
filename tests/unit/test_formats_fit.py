"""Every real FIT file in shared/data/fit: heart rates read exactly as the decoded-record dumps say,
every broken one refused (or, when cut short, kept up to the break with a warning)."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import Unstreamable, read_series
from hrviz.core.reader.formats import kind_of
from tests.real_data import FIT

pytestmark = pytest.mark.skipif(not FIT.is_dir(), reason=f"{FIT} is absent: FIT tests need the shared data folder")

ZONES = {"PDT": -7, "PST": -8, "UTC": 0}
WITH_DUMPS = [
    "garmin-fenix-5-run",
    "garmin-fenix-5-bike",
    "garmin-fenix-5-walk",
    "garmin-edge-820-bike",
    "garmin-edge-500-activity",
]
# PROVENANCE.md's heart-rate record counts for the files without a dump
COUNTS = {
    "activity-small-fenix2-run.fit": 2808,
    "sample-activity.fit": 3098,
    "Edge810-Vector-2013-08-16-15-35-10.fit": 4671,
    "2013-02-06-12-11-14.fit": 590,
}
BROKEN = {
    "activity-unexpected-eof.fit": "no heart rate in this FIT file (its records carry no heart_rate); the file ends early (768 of the 771 bytes",
    "activity-settings-corruptheader.fit": "corrupt FIT header at byte 771",
    "strava-android-app-201.10-b1218918.fit": "malformed FIT message definitions at byte 7,472",
    "MonitoringFile.fit": "no heart rate in this FIT file (a monitoring_b file, not an activity)",
}


def read(data: bytes, name: str = "x.fit"):
    return read_series(io.BytesIO(data), name)


def dump(name: str) -> tuple[list[float], list[float]]:
    """(ts, bpm) of the dump's records with a non-zero heart rate: first of each second, in time order."""
    seen: dict[float, float] = {}
    with (FIT / f"{name}-records.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["heart_rate"] or float(row["heart_rate"]) == 0:
                continue
            parts = row["timestamp"].split()  # "Sun Jun 11 07:34:09 PDT 2017"
            local = datetime.strptime(f"{parts[1]} {parts[2]} {parts[3]} {parts[5]}", "%b %d %H:%M:%S %Y")
            t = local.replace(tzinfo=timezone(timedelta(hours=ZONES[parts[4]]))).timestamp()
            seen.setdefault(t, float(row["heart_rate"]))
    ts = sorted(seen)
    return ts, [seen[t] for t in ts]


@pytest.mark.parametrize("name", WITH_DUMPS)
def test_readings_match_the_decoded_record_dump(name: str) -> None:
    (series,) = read((FIT / f"{name}.fit").read_bytes(), f"{name}.fit")
    ts, bpm = dump(name)
    assert list(series.ts) == ts
    assert list(series.bpm) == bpm
    assert series.warnings == [] and series.subject is None


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_files_without_a_dump_give_provenances_heart_rate_count(name: str) -> None:
    (series,) = read((FIT / name).read_bytes(), name)
    assert series.rows == COUNTS[name]
    assert len(series) + series.duplicates == series.rows
    assert all(30 <= b <= 230 for b in series.bpm)
    assert list(series.ts) == sorted(set(series.ts))


def test_the_device_utc_offset_comes_from_the_activity_message() -> None:
    (series,) = read((FIT / "garmin-fenix-5-run.fit").read_bytes())
    assert series.tz_offset_min == -7 * 60  # PDT, as the dump prints it


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(InputError) as err:
        read((FIT / name).read_bytes(), name)
    assert BROKEN[name] in str(err.value)
    assert str(err.value).startswith(f"{name}: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("cut", [3000, 4000, 5500])
def test_a_file_cut_short_keeps_the_readings_before_the_break_with_a_warning(cut: int) -> None:
    whole = (FIT / "garmin-fenix-5-run.fit").read_bytes()
    (full,) = read(whole)
    (part,) = read(whole[:cut], "cut.fit")
    n = len(part)
    assert 0 < n <= len(full)
    assert list(part.ts) == list(full.ts[:n]) and list(part.bpm) == list(full.bpm[:n])
    (warning,) = part.warnings
    assert f"ends early ({cut:,} of the 5,597 bytes" in warning and f"{n} heart-rate readings" in warning


def test_a_gzipped_fit_reads_like_the_fit_and_progress_counts_compressed_bytes() -> None:
    raw = (FIT / "garmin-fenix-5-bike.fit").read_bytes()
    packed = gzip.compress(raw)
    seen: list[int] = []
    (plain,) = read(raw)
    (unpacked,) = read_series(io.BytesIO(packed), "ride.fit.gz", on_progress=seen.append)
    assert list(plain.ts) == list(unpacked.ts) and list(plain.bpm) == list(unpacked.bpm)
    assert seen[-1] == len(packed)


def test_the_content_decides_not_the_name() -> None:
    raw = (FIT / "garmin-fenix-5-bike.fit").read_bytes()
    assert kind_of(raw[:64]) == "fit"
    (series,) = read(raw, "named-like-a.csv")
    assert len(series) == 19
    (csv_series,) = read(b"time,bpm\n2024-01-01 10:00:00,70\n2024-01-01 10:00:01,71\n", "named-like-a.fit")
    assert list(csv_series.bpm) == [70.0, 71.0]


def test_a_fit_file_is_not_streamed_in_chunks() -> None:
    with pytest.raises(Unstreamable):
        read_series(io.BytesIO((FIT / "garmin-fenix-5-run.fit").read_bytes()), "r.fit", on_chunk=lambda t, b: None)


def test_subject_and_window_apply_to_fit_files() -> None:
    raw = (FIT / "garmin-fenix-5-run.fit").read_bytes()
    (full,) = read(raw)
    with pytest.raises(InputError, match="unknown subject 'x': the file has one unnamed subject"):
        read_series(io.BytesIO(raw), "r.fit", subject="x")
    (part,) = read_series(io.BytesIO(raw), "r.fit", window=(full.ts[5], full.ts[10]))
    assert list(part.ts) == list(full.ts[5:10])
    with pytest.raises(InputError, match="no heart-rate readings in the --since/--until window"):
        read_series(io.BytesIO(raw), "r.fit", window=(full.ts[-1] + 1, None))


def test_the_fixture_folder_is_what_this_test_knows() -> None:
    """A new file dropped into the folder must be given an expectation here."""
    known = {f"{n}.fit" for n in WITH_DUMPS} | set(COUNTS) | set(BROKEN)
    assert {p.name for p in Path(FIT).glob("*.fit")} == known
