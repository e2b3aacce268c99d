"""``hrviz ingest a.csv bad.csv b.csv``: a refused file among several is named, the others are
stored and summarised, and the exit code says bad input. Before, the run stopped at the bad file
with only its error: the file before it was stored without a word and the one after never read."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_ingest import DEMO, hrviz, session_count


def files(tmp_path: Path) -> tuple[Path, Path]:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,comment\n2026-01-01 07:00:00,hello\n")
    later = tmp_path / "later.csv"
    later.write_text("time,bpm\n" + "".join(f"{1_767_250_800 + i},{70 + i % 5}\n" for i in range(120)))
    return bad, later


def test_a_refused_file_among_several_is_named_and_the_others_are_stored(tmp_path: Path) -> None:
    bad, later = files(tmp_path)
    db = tmp_path / "h.db"
    done = hrviz(DEMO, bad, later, db=db)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"hrviz: error: {bad}, line 1: no heart-rate column found")
    assert f"{DEMO}  session" in done.stdout and f"{later}  session" in done.stdout
    assert session_count(db) == 2


def test_json_lists_the_refused_file_beside_the_stored_sessions(tmp_path: Path) -> None:
    bad, later = files(tmp_path)
    done = hrviz(bad, later, "--json", db=tmp_path / "h.db")
    assert done.returncode == 2
    out = json.loads(done.stdout)
    assert [s["source"] for s in out["sessions"]] == [str(later)]
    ((refused),) = out["refused"]
    assert refused["file"] == str(bad) and refused["line"] == 1
    assert refused["reason"].startswith("no heart-rate column found")


def test_one_bad_file_alone_is_still_one_line_and_nothing_on_stdout(tmp_path: Path) -> None:
    bad, _ = files(tmp_path)
    done = hrviz(bad, db=tmp_path / "h.db")
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
