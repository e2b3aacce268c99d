"""Counts on the page read one way: the anomaly badge of a real export with over a thousand events
says "1,012" as the filter beside it does (it said "1012")."""

# ruff: noqa: F811 — pytest fixtures imported from browser_fixtures are parameters here

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ServeProcess,
    browser_fixture,
    page_fixture,
    serve_fixture,
    wait_until,
)
from tests.e2e.test_browser import open_page, upload
from tests.real_data import REAL

pytestmark = pytest.mark.browser
WELLTORY = REAL / "welltory_covid19_heart_rate_2020-04-17.csv"


@pytest.mark.skipif(not WELLTORY.exists(), reason=f"the real recordings are not at {REAL}")
def test_the_anomaly_badge_writes_thousands_as_the_filter_does(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, WELLTORY)  # 14 subjects; the largest (6be5033971) opens first, with 1,012 events
    wait_until(page, lambda: page.is_visible("#subject"), timeout=60, what="the subject picker")
    wait_until(page, lambda: "1,012" in (page.text_content("#kind-filter") or ""), timeout=30, what="every event")
    assert page.text_content("#anomaly-count") == "1,012"
    assert page.hrviz_errors == []
