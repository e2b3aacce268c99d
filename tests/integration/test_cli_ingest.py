"""``hrviz ingest`` as a user runs it: a real process, a real SQLite file, real exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"
from tests.real_data import REAL  # noqa: E402


def hrviz(*args: str | Path, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "hrviz", "ingest", *map(str, args), "--db", str(db)],
        capture_output=True, text=True, timeout=120, env=full_env,
    )  # fmt: skip


def session_count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]


def test_json_output_has_the_documented_shape(tmp_path: Path) -> None:
    done = hrviz(DEMO, "--json", db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    assert set(session) >= {
        "id",
        "source",
        "subject",
        "rows",
        "readings",
        "filled",
        "start",
        "end",
        "stats",
        "anomalies",
    }
    assert session["rows"] == 513 and session["readings"] == 520 and session["filled"] == 13
    assert session["start"] == "2026-03-14T07:30:00+01:00"
    kinds = sorted({a["kind"] for a in session["anomalies"]})
    assert kinds == ["drop", "flatline", "gap", "missing", "out_of_range", "spike"]
    for a in session["anomalies"]:
        assert set(a) == {"kind", "start", "end", "bpm", "baseline", "delta", "severity", "sentence"}
        assert 0 <= a["severity"] <= 1 and a["sentence"]
    spike = next(a for a in session["anomalies"] if a["kind"] == "spike")
    assert spike["delta"] >= 30 and spike["baseline"] is not None
    assert spike["sentence"] == "Rose 43 bpm from a 62 bpm baseline to 105 bpm for 2 s, then came back"
    # measured, in-range readings only: the 255 and the filled readings are left out
    assert session["stats"] == {"min": 61.0, "mean": 96.46, "max": 129.0}
    assert session["cadence"] == {
        "median_s": 1,
        "segments": [{"start": session["start"], "end": session["end"], "every_s": 1, "usual_max_s": 1, "notes": []}],
    }
    assert session["ignored"] == {"placeholder 0": 1}  # the demo has one 0 (a paused strap)


def test_rich_summary_lists_the_most_severe_events_first_in_words(tmp_path: Path) -> None:
    done = hrviz(DEMO, db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("severity"))
    assert "Impossible value 255 bpm (one reading)" in lines[first + 1]  # 0.94: the most severe
    assert "Rose 43 bpm from a 62 bpm baseline" in lines[first + 2]
    assert "ms" not in done.stdout and "2.9994" not in done.stdout


def test_rich_summary_names_the_counts(tmp_path: Path) -> None:
    done = hrviz(DEMO, db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    assert "520" in done.stdout and "spike 1" in done.stdout and "stored" in done.stdout


def test_reingest_reports_the_existing_session_without_duplicating(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    first = json.loads(hrviz(DEMO, "--json", db=db).stdout)["sessions"][0]
    again = json.loads(hrviz(DEMO, "--json", db=db).stdout)["sessions"][0]
    assert again["id"] == first["id"] and again["existing"] is True
    assert again["anomalies"] == first["anomalies"]
    assert session_count(db) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0] == 520


def test_fail_on_anomaly_exits_3_only_when_there_are_anomalies(tmp_path: Path) -> None:
    assert hrviz(DEMO, "--fail-on-anomaly", "--json", db=tmp_path / "h.db").returncode == 3
    calm = tmp_path / "calm.csv"
    calm.write_text("time,hr\n" + "".join(f"2024-01-01 10:00:{i:02d},{70 + i % 3}\n" for i in range(30)))
    assert hrviz(calm, "--fail-on-anomaly", db=tmp_path / "h.db").returncode == 0


BAD_FILES = [
    ("empty.csv", b"", "empty"),
    ("header.csv", b"timestamp,bpm\n", "header"),
    ("binary.csv", bytes(range(256)) * 10, "binary"),
    ("nohr.csv", b"name,city\nann,paris\nbob,rome\n", "no heart-rate column"),
    # issue 8: each of these was exit 1 (a traceback, or "unexpected Error"), some stored anyway
    (
        "mixed_tz.csv",
        "".join(f"2026-01-01T10:00:{i:02d}{'+01:00' if i % 2 else ''},70\n" for i in range(40)).encode(),
        "line 2: the time '2026-01-01t10:00:01+01:00' in column 'column 1' has a utc offset",
    ),
    ("far_epoch.csv", b"time,bpm\n" + b"".join(b"%d,70\n" % (253402300800 + i) for i in range(50)), "out of range"),
    ("long_line.csv", b"time,bpm\n1767225600,70\n1767225601," + b"7" * 10_000_000 + b"\n", "line 3"),
    ("wide.csv", b"time,bpm\n1767225600,70\n" + b",".join([b"1"] * 100_000) + b"\n", "line 3: 100,000 fields"),
    ("first_row_1e300.csv", b"time,bpm\n1e300,70\n1767225601,71\n", "line 2"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_input_exits_2_with_one_clear_message_and_stores_nothing(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    db = tmp_path / "h.db"
    done = hrviz(bad, db=db)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert str(bad) in done.stderr and message in done.stderr.lower()
    assert len(done.stderr.strip().splitlines()) == 1
    assert session_count(db) == 0


def test_a_file_name_that_is_not_utf8_is_bad_input_printed_escaped(tmp_path: Path) -> None:
    bad = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff\xfe.csv"))
    bad.write_bytes(DEMO.read_bytes())
    db = tmp_path / "h.db"
    done = hrviz(bad, db=db)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "bad\\xff\\xfe.csv: the file name is not valid UTF-8" in done.stderr
    assert session_count(db) == 0


def test_a_stray_row_is_skipped_reported_and_the_session_lists(tmp_path: Path) -> None:
    stray = tmp_path / "stray.csv"
    rows = [str(1_767_225_600 + i) for i in range(3_000)]
    rows[1_234] = "1767225602000"  # milliseconds in a seconds file: year 57971 before the fix
    stray.write_text("time,bpm\n" + "".join(f"{t},{60 + i % 9}\n" for i, t in enumerate(rows)))
    db = tmp_path / "h.db"
    done = hrviz(stray, "--json", db=db)
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    assert (session["skipped_rows"], session["skipped_lines"]) == (1, [1_236])
    assert (session["start"], session["end"]) == ("2026-01-01T00:00:00Z", "2026-01-01T00:49:59Z")
    human = hrviz(stray, db=tmp_path / "other.db")
    assert "skipped 1 row(s) with an unusable time (line 1236" in human.stdout
    store = SqliteStore(db)
    try:
        assert [s.as_dict()["end"] for s in store.list_sessions()] == ["2026-01-01T00:49:59Z"]
    finally:
        store.close()


def test_watch_warns_of_skipped_rows_too(tmp_path: Path) -> None:
    stray = tmp_path / "stray.csv"
    stray.write_text("time,bpm\n" + "".join(f"{'1e300' if i == 40 else 1_767_225_600 + i},70\n" for i in range(3_000)))
    done = subprocess.run(
        [sys.executable, "-m", "hrviz", "watch", str(stray), "--no-pace", "--plain", "--db", str(tmp_path / "h.db")],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"hrviz: warning: {stray}: skipped 1 row(s) with an unusable time (line 42)" in done.stderr


def test_a_bad_file_among_good_ones_stores_nothing_from_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    done = hrviz(DEMO, missing, db=tmp_path / "h.db")
    assert done.returncode == 2 and "nope.csv: no such file" in done.stderr
    assert session_count(tmp_path / "h.db") == 0  # files are checked before anything is written


def test_subjects_become_sessions_and_subject_picks_one(tmp_path: Path) -> None:
    multi = tmp_path / "multi.csv"
    multi.write_text(
        "user,time,bpm\n"
        + "".join(f"{u},2024-01-01 10:00:{i:02d},{60 + i}\n" for u in ("ann", "bob") for i in range(10))
    )
    both = json.loads(hrviz(multi, "--json", db=tmp_path / "a.db").stdout)["sessions"]
    assert [(s["subject"], s["readings"]) for s in both] == [("ann", 10), ("bob", 10)]
    one = json.loads(hrviz(multi, "--json", "--subject", "bob", db=tmp_path / "b.db").stdout)["sessions"]
    assert [s["subject"] for s in one] == ["bob"]
    unknown = hrviz(multi, "--subject", "zed", db=tmp_path / "c.db")
    assert unknown.returncode == 2 and "zed" in unknown.stderr


def test_interval_spaces_files_without_times(tmp_path: Path) -> None:
    values = tmp_path / "values.txt"
    values.write_text("".join(f"{70 + i % 2}\n" for i in range(20)))
    (s,) = json.loads(hrviz(values, "--json", "--interval", "0.5", db=tmp_path / "h.db").stdout)["sessions"]
    assert s["readings"] == 20
    assert s["end"].endswith("00:00:09.500")


def test_config_file_and_flags_set_thresholds(tmp_path: Path) -> None:
    config = tmp_path / "hrviz.toml"
    config.write_text("[detector]\ndelta = 80\n")
    (s,) = json.loads(hrviz(DEMO, "--json", "--config", config, db=tmp_path / "a.db").stdout)["sessions"]
    assert not any(a["kind"] in ("spike", "drop") for a in s["anomalies"])
    (s,) = json.loads(hrviz(DEMO, "--json", "--config", config, "--delta", "30", db=tmp_path / "b.db").stdout)[
        "sessions"
    ]
    assert any(a["kind"] == "spike" for a in s["anomalies"])
    config.write_text("[detector]\ndelat = 80\n")
    typo = hrviz(DEMO, "--config", config, db=tmp_path / "c.db")
    assert typo.returncode == 1 and "delat" in typo.stderr and "Traceback" not in typo.stderr
    for text, says in [("[detector]\ndelta = 'big'\n", "must be a number"), ("[detector\n", "not valid TOML")]:
        config.write_text(text)
        bad = hrviz(DEMO, "--config", config, db=tmp_path / "d.db")
        assert bad.returncode == 1 and says in bad.stderr and str(config) in bad.stderr, bad.stderr
        assert "unexpected" not in bad.stderr and not (tmp_path / "d.db").exists()


def test_a_bad_mysql_url_is_a_setting_error_not_a_crash(tmp_path: Path) -> None:
    done = hrviz(DEMO, "--mysql", "postgres://u:p@h/db", db=tmp_path / "a.db")
    assert done.returncode == 1 and "not a MySQL URL" in done.stderr and "unexpected" not in done.stderr


def real_files() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.iterdir() if p.suffix in (".csv", ".txt") and "_tags" not in p.name)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not present at {REAL}")
@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_every_real_recording_ingests_into_sensible_sessions(tmp_path: Path, path: Path) -> None:
    store = SqliteStore(tmp_path / "h.db")
    with path.open("rb") as f:
        sessions = ingest(f, path.name, store)
    assert sessions
    for s in sessions:
        assert s.readings >= s.rows - s.duplicates - 10  # blank leading cells are the only loss
        assert (s.stats.min or 0) >= 25 and (s.stats.max or 0) <= 250
        assert s.start is not None and s.end is not None and s.start <= s.end
        stored = list(store.readings(s.id))
        assert len(stored) == s.readings and all(a.ts < b.ts for a, b in zip(stored, stored[1:], strict=False))
    store.close()


def test_a_store_file_of_another_schema_version_is_refused_not_misread(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 7")
    done = hrviz(DEMO, db=db)
    assert done.returncode == 1 and "schema 7" in done.stderr and "Traceback" not in done.stderr


def test_watch_takes_the_detector_flags_like_ingest(tmp_path: Path) -> None:
    def spikes(*flags: str, db: Path) -> int:
        done = subprocess.run(
            [sys.executable, "-m", "hrviz", "watch", str(DEMO), "--no-pace", "--db", str(db), *flags],
            capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
            | {"HRVIZ_CONFIG": str(tmp_path / "none.toml")},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.count("spike")

    assert spikes(db=tmp_path / "a.db") > 0
    assert spikes("--delta", "200", db=tmp_path / "b.db") == 0


def test_a_store_file_from_before_the_summary_tables_gets_them_and_keeps_its_sessions(tmp_path: Path) -> None:
    """A file written at this schema version before the insights tables were added to it (an
    hrviz of a day before) is completed on open, not refused as "another hrviz (schema 1, this one
    reads 1)": the first command a returning user runs must work, and their sessions stay."""
    db = tmp_path / "older.db"
    first = hrviz(DEMO, db=db)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(db) as conn:
        conn.executescript("DROP TABLE session_bpm_seconds; DROP TABLE session_summaries;")
    again = hrviz(DEMO, db=db)  # the same file: found again, from the completed store
    assert again.returncode == 0, again.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "hrviz", "sessions", "--db", str(db), "--json"],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")},
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["sessions"]) == 1
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert {"session_summaries", "session_bpm_seconds"} <= tables
