"""``hrviz ingest`` on FIT, TCX, GPX, Apple Health, Takeout JSON and their gzip/zip wrappers: exit codes,
one-line refusals naming the file, warnings in the summary and in --json."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_cli_ingest import hrviz, session_count
from tests.real_data import FIT

pytestmark = pytest.mark.skipif(not FIT.is_dir(), reason=f"{FIT} is absent: needs the shared data folder")


def test_a_fit_file_is_ingested_and_stored(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    done = hrviz(FIT / "garmin-fenix-5-run.fit", "--json", db=db)
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    assert session["rows"] == 21 and session["warnings"] == []
    assert session["start"] == "2017-06-11T07:34:09-07:00" and session["end"] == "2017-06-11T07:35:06-07:00"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT MIN(bpm), MAX(bpm) FROM readings").fetchone() == (56.0, 112.0)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("activity-settings-corruptheader.fit", "corrupt FIT header at byte 771"),
        ("MonitoringFile.fit", "no heart rate in this FIT file (a monitoring_b file, not an activity)"),
        ("strava-android-app-201.10-b1218918.fit", "malformed FIT message definitions"),
        ("activity-unexpected-eof.fit", "no heart rate in this FIT file"),
    ],
)
def test_a_broken_fit_file_is_refused_with_one_line_and_nothing_stored(tmp_path: Path, name: str, reason: str) -> None:
    db = tmp_path / "h.db"
    done = hrviz(FIT / name, db=db)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"hrviz: error: {FIT / name}: ") and reason in line
    assert session_count(db) == 0


def test_a_truncated_fit_is_kept_up_to_the_break_and_the_warning_is_reported(tmp_path: Path) -> None:
    cut = tmp_path / "dead-battery.fit"
    cut.write_bytes((FIT / "garmin-fenix-5-run.fit").read_bytes()[:3000])
    done = hrviz(cut, "--json", db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    (warning,) = session["warnings"]
    assert "ends early (3,000 of the 5,597 bytes" in warning
    assert 0 < session["rows"] < 21
    text = hrviz(cut, db=tmp_path / "h.db")
    assert text.returncode == 0 and "warning: the file ends early" in text.stdout
