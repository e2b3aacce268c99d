"""The page takes FIT (and other binary) files: a FIT upload replays, several files get a row each
with their own progress and result, a broken one says why. Real chromium, `hrviz serve` as a user runs it."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ServeProcess,
    browser_fixture,
    number,
    page_fixture,
    serve_fixture,
    shot,
    wait_until,
)
from tests.real_data import FIT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not FIT.is_dir(), reason=f"{FIT} is absent: needs the shared data folder"),
]


def open_page(page: Any, server: ServeProcess) -> None:
    page.goto(server.url)
    wait_until(page, lambda: page.get_attribute("#status", "data-state") == "online", what="connected status")


def rows(page: Any) -> list[list[str]]:
    return page.locator("#uploads > li").evaluate_all(
        "els => els.map(e => [e.querySelector('.u-name').textContent, e.dataset.state,"
        " e.querySelector('.u-status').textContent])"
    )


def test_the_drop_zone_lists_the_accepted_types(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    text = page.text_content("#drop") or ""
    for kind in ("CSV", "FIT", ".fit.gz", "TCX", "GPX", "Apple Health", "export.zip", "Takeout", ".zip"):
        assert kind in text
    accept = page.get_attribute("#file", "accept") or ""
    assert {".fit", ".tcx", ".gpx", ".xml", ".json", ".gz", ".zip"} <= set(accept.split(","))
    assert page.get_attribute("#file", "multiple") is not None


def test_a_fit_file_uploads_and_replays(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    page.set_input_files("#file", str(FIT / "garmin-fenix-5-run.fit"))
    wait_until(page, lambda: number(page, "#readings-shown") >= 3, what="readings of the FIT file")
    assert page.text_content("#session-title") == "garmin-fenix-5-run.fit"
    assert "11 Jun 2017, 07:34:09 UTC-07:00" in (page.text_content("#session-meta") or "")
    assert rows(page) == [["garmin-fenix-5-run.fit", "done", "1 session"]]
    shot(page, "20-fit-upload")
    assert page.hrviz_errors == []


def test_several_files_get_a_row_each_with_their_result(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    files = [
        {"name": "ride.fit.gz", "mimeType": "application/gzip",
         "buffer": gzip.compress((FIT / "garmin-fenix-5-bike.fit").read_bytes())},
        {"name": "settings.fit", "mimeType": "application/octet-stream",
         "buffer": (FIT / "activity-settings-corruptheader.fit").read_bytes()},
        {"name": "dead-battery.fit", "mimeType": "application/octet-stream",
         "buffer": (FIT / "garmin-fenix-5-walk.fit").read_bytes()[:3000]},
    ]  # fmt: skip
    page.set_input_files("#file", files)
    wait_until(page, lambda: all(state in ("done", "error") for _, state, _ in rows(page)) and len(rows(page)) == 3,
               what="every upload settled")  # fmt: skip
    got = rows(page)
    assert [(n, s) for n, s, _ in got] == [
        ("ride.fit.gz", "done"),
        ("settings.fit", "error"),
        ("dead-battery.fit", "done"),
    ]
    details = page.locator("#uploads .u-detail").all_text_contents()
    assert "settings.fit: corrupt FIT header at byte 771" in details[1]
    assert "ends early (3,000 of the" in details[2]
    assert all(v == m for v, m in page.locator("#uploads > li[data-state=done] progress").evaluate_all(
        "els => els.map(e => [e.value, e.max])"))  # fmt: skip
    shot(page, "21-several-uploads")
