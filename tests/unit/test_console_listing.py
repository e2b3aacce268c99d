"""``hrviz sessions`` in a person's terminal: 80 columns must still show every id whole."""

from __future__ import annotations

import io

from rich.console import Console

from hrviz.adapters.console.listing import file_name, minute, print_listing

ITEMS: list[dict[str, object]] = [
    {
        "id": "2bbe8c43a9a8",
        "source": "/work/shared/data/real/fitbit_kaggle_user2022484408_2016-04-01_to_04-03.csv",
        "subject": "2022484408",
        "start": "2016-04-01T07:54:00",
        "end": "2016-04-03T09:23:35",
        "span_seconds": 178175.0,
        "readings": 8449,
        "filled": 31,
        "anomalies": 33,
        "created": "2026-11-30T01:40:59.721Z",
    },
    {
        "id": "7af726d61a42",
        "source": "/work/shared/data/real/garmin_flirt_mixed_metrics_2019-10-16.csv",
        "subject": None,
        "start": "2019-10-16T12:09:00.511+02:00",
        "end": "2019-10-18T10:39:51.753+02:00",
        "span_seconds": 167451.242,
        "readings": 10721,
        "filled": 1974,
        "anomalies": 409,
        "created": "2026-11-30T01:41:02.591Z",
    },
]


def shown(width: int) -> str:
    out = io.StringIO()
    print_listing(ITEMS, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_an_80_column_terminal_shows_whole_ids_names_and_start_minutes() -> None:
    text = shown(80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "2bbe8c43a9a8" in text and "7af726d61a42" in text  # what `sessions delete ID` needs
    assert "2016-04-01 07:54" in text and "2019-10-16 12:09" in text
    assert "/work/shared" not in text  # the folder is not what tells two files apart
    assert "8,449" in text and "409" in text and "46 h 31 min" in text
    assert "created" not in text  # no room: left out rather than cut


def test_a_wide_terminal_adds_the_upload_minute() -> None:
    text = shown(140)
    assert "created (UTC)" in text and "2026-11-30 01:40" in text
    assert "fitbit_kaggle_user2022484408_2016-04-01_to_04-03.csv" in text and "[2022484408]" in text
    assert "garmin_flirt_mixed_metrics_2019-10-16.csv" in text


def test_the_helpers() -> None:
    assert minute("2019-10-16T12:09:00.511+02:00") == "2019-10-16 12:09" and minute(None) == "–"
    assert minute("1970-01-01T00:00:00") == "no date 00:00"  # a file without dates: no 1970
    assert file_name("export_1.zip/activities/123.fit.gz") == "123.fit.gz" and file_name("run.csv") == "run.csv"
    assert file_name("-") == "-"


def test_nothing_stored_says_how_to_store() -> None:
    out = io.StringIO()
    print_listing([], Console(file=out, width=80))
    assert out.getvalue() == "No sessions stored (hrviz ingest FILE).\n"
