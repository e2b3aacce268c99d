"""``hrviz report`` as a user runs it: a real process on a real SQLite file and on MariaDB."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"
from tests.real_data import REAL  # noqa: E402

POLAR = REAL / "polar_flow_running_2015-09-06.csv"


def run(*args: str | Path, store: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | {"COLUMNS": "160"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "hrviz", *map(str, args), *store],
        capture_output=True, text=True, timeout=120, env=full_env,
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    if request.param == "sqlite":
        return ["--db", str(tmp_path / "h.sqlite3")]
    return ["--mysql", request.getfixturevalue("mysql_url")]


def ingest(path: Path, store: list[str]) -> str:
    done = run("ingest", path, "--json", store=store)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["sessions"][0]["id"])


def test_json_report_of_a_real_run_on_both_stores(store: list[str]) -> None:
    if not POLAR.is_file():
        pytest.skip(f"{POLAR} is absent")
    sid = ingest(POLAR, store)
    done = run("report", sid, "--json", "--max-hr", "195", store=store)
    assert done.returncode == 0, done.stderr
    (s,) = json.loads(done.stdout)["sessions"]
    assert s["id"] == sid and s["max_hr"] == {"bpm": 195.0, "source": "max-hr", "estimate": False}
    assert [z["zone"] for z in s["zones"]] == [1, 2, 3, 4, 5]
    assert (s["zones"][3]["low_bpm"], s["zones"][3]["high_bpm"]) == (156.0, 175.5)
    assert sum(z["seconds"] for z in s["zones"]) <= s["covered_seconds"]
    assert 0 < s["below_zones_seconds"] <= s["covered_seconds"] - sum(z["seconds"] for z in s["zones"])
    assert s["max_bpm"] == 196 and s["quality"]["verdict"] == "good"
    assert [e["kind"] for e in s["episodes"]] == ["high"] * len(s["episodes"]) and s["episodes"]
    assert all(e["seconds"] >= 600 for e in s["episodes"])


def test_no_id_reports_the_latest_and_the_terminal_shows_zone_bars(tmp_path: Path) -> None:
    store = ["--db", str(tmp_path / "h.sqlite3")]
    ingest(DEMO, store)
    done = run("report", "--age", "40", store=store)
    assert done.returncode == 0, done.stderr
    assert "max 180 bpm (age, an estimate)" in done.stdout
    assert re.search(r"zone 1 +90–108 ", done.stdout) and "Data quality" in done.stdout


def test_html_is_one_self_contained_file(tmp_path: Path) -> None:
    store = ["--db", str(tmp_path / "h.sqlite3")]
    first = ingest(DEMO, store)
    second = ingest(POLAR, store) if POLAR.is_file() else first
    out = tmp_path / "report.html"
    done = run("report", first, second, "--html", out, "--json", store=store)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 4
    assert not re.search(r"(src|href)=|url\(|@import|https?:", html)  # nothing fetched from anywhere
    assert "Filled readings and gaps never count as time in a zone" in html


def test_profile_from_the_config_file_and_bad_input(tmp_path: Path) -> None:
    store = ["--db", str(tmp_path / "h.sqlite3")]
    config = tmp_path / "c.toml"
    config.write_text("[profile]\nmax_hr = 200\n")
    done = run("report", "--json", "--config", config, store=store)
    assert done.returncode == 2 and "no session is stored yet" in done.stderr
    ingest(DEMO, store)
    done = run("report", "--json", "--config", config, store=store)
    assert json.loads(done.stdout)["sessions"][0]["max_hr"]["source"] == "config"
    for args, message in (
        (("nosuchsession",), "nosuchsession: no such session"),
        (("--max-hr", "190", "--age", "30"), "not both"),
        (("--zones", "lactate"), "--zones must be max or hrr"),
        (("--max-hr", "20"), "not plausible"),
    ):
        done = run("report", *args, store=store)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1
    config.write_text("[profile]\nweight = 70\n")
    done = run("report", "--config", config, store=store)
    assert done.returncode == 1 and "unknown [profile] keys ['weight']" in done.stderr
