"""What the page says about real files: the anomaly badge of an export with over a thousand events
says "1,012" as the filter beside it does (it said "1012"); a refused file is named once."""

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
NO_HR = REAL.parent / "tcx" / "tcxparser_no_hr.tcx"


@pytest.mark.skipif(not WELLTORY.exists(), reason=f"the real recordings are not at {REAL}")
def test_the_anomaly_badge_writes_thousands_as_the_filter_does(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, WELLTORY)  # 14 subjects; the largest (6be5033971) opens first, with 1,012 events
    wait_until(page, lambda: page.is_visible("#subject"), timeout=60, what="the subject picker")
    wait_until(page, lambda: "1,012" in (page.text_content("#kind-filter") or ""), timeout=30, what="every event")
    assert page.text_content("#anomaly-count") == "1,012"
    assert page.hrviz_errors == []


@pytest.mark.skipif(not NO_HR.exists(), reason=f"the real recordings are not at {NO_HR.parent}")
def test_a_refused_file_is_named_once(page: Any, serve: ServeProcess) -> None:
    open_page(page, serve)
    upload(page, NO_HR)
    wait_until(page, lambda: page.get_attribute("#message", "data-kind") == "error", what="the refusal")
    assert page.text_content("#message") == (
        "Could not use tcxparser_no_hr.tcx: no heart rate in this TCX file (none of its 384 track points has a heart rate)"
    )
