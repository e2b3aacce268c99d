"""``hrviz sessions`` list / show / delete / export: real processes on SQLite and on MariaDB."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.integration.test_cli_report import DEMO, POLAR, ingest, run, store  # noqa: F401 (the fixture)


def open_store(args: list[str]):  # type: ignore[no-untyped-def]
    if args[0] == "--db":
        from hrviz.adapters.store.sqlite import SqliteStore

        return SqliteStore(args[1])
    from hrviz.adapters.store.mysql import MysqlStore

    return MysqlStore(args[1])


def test_list_filter_show_export_delete(store: list[str], tmp_path: Path) -> None:  # noqa: F811
    if not POLAR.is_file():
        pytest.skip(f"{POLAR} is absent")
    demo = ingest(DEMO, store)
    polar = ingest(POLAR, store)
    done = run("sessions", "--json", store=store)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["sessions"]
    assert [s["id"] for s in listed] == [polar, demo]  # newest first
    assert set(listed[0]) == {
        "id",
        "source",
        "subject",
        "start",
        "end",
        "span_seconds",
        "readings",
        "filled",
        "anomalies",
        "created",
    }
    assert listed[1]["readings"] == 520 and listed[1]["anomalies"] > 0
    by_source = json.loads(run("sessions", "--json", "--source", "demo_run", store=store).stdout)["sessions"]
    assert [s["id"] for s in by_source] == [demo]
    since = json.loads(run("sessions", "--json", "--since", "2020-01-01", store=store).stdout)["sessions"]
    assert [s["id"] for s in since] == [demo]  # the Polar run is from 2015
    table = run("sessions", store=store).stdout
    assert demo in table and polar in table and "2 h 16 min" in table

    shown = json.loads(run("sessions", "show", demo, "--json", store=store).stdout)
    assert shown["id"] == demo and shown["anomalies"]

    rows = list(csv.DictReader(io.StringIO(run("sessions", "export", demo, store=store).stdout)))
    assert len(rows) == 520 and list(rows[0]) == ["seq", "time", "ts", "bpm", "filled", "kinds"]
    assert sum(r["filled"] == "1" for r in rows) == 13 and any("spike" in r["kinds"] for r in rows)
    assert rows[0]["time"] == "2026-03-14T07:30:00+01:00"
    out = tmp_path / "demo.json"
    assert run("sessions", "export", demo, "--format", "json", "-o", out, store=store).returncode == 0
    doc = json.loads(out.read_text())
    assert doc["session"]["id"] == demo and len(doc["readings"]) == 520 and doc["anomalies"]
    assert doc["readings"][0][0] == 0 and float(rows[5]["ts"]) == doc["readings"][5][1]
    parquet = run("sessions", "export", demo, "--format", "parquet", store=store)
    assert parquet.returncode == 2 and "needs pyarrow" not in parquet.stdout and "pyarrow" in parquet.stderr

    asked = run("sessions", "delete", demo, store=store)  # no terminal to ask on: refused
    assert asked.returncode == 2 and "--yes" in asked.stderr
    unknown = run("sessions", "delete", demo, "nosuch", "--yes", store=store)
    assert unknown.returncode == 2 and "nosuch: no such session" in unknown.stderr
    gone = run("sessions", "delete", demo, "--yes", store=store)
    assert gone.returncode == 0 and f"deleted {demo} (520 readings)" in gone.stderr
    left = json.loads(run("sessions", "--json", store=store).stdout)["sessions"]
    assert [s["id"] for s in left] == [polar]
    opened = open_store(store)
    try:
        assert opened.get(demo) is None and list(opened.readings(demo)) == []
        assert sum(1 for _ in opened.readings(polar)) == 8167
    finally:
        opened.close()
    assert run("sessions", "show", demo, store=store).returncode == 2
