"""The page against a shared ``hrviz serve`` (``--host 0.0.0.0`` with a token), in real chromium.

The token comes in the address once, is kept for the tab (a reload still works), and leaves the
address bar; without it, or with a wrong one, the page says so instead of retrying forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser_fixtures import (  # noqa: F401 — fixtures
    ROOT,
    ServeProcess,
    browser_fixture,
    clean_env,
    number,
    page_fixture,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser

DEMO = ROOT / "samples" / "demo_run.csv"
TOKEN = "e2e-shared-token-0123456789abcdef"


@pytest.fixture(name="shared")
def shared_fixture(tmp_path: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(
        ["--host", "0.0.0.0", "--db", str(tmp_path / "hrviz.sqlite3")],
        clean_env(HRVIZ_TOKEN=TOKEN),
        tmp_path / "serve.log",
    )
    yield server
    server.stop()
    assert TOKEN not in server.log.read_text(errors="replace")


def state(page: Any) -> str | None:
    return page.get_attribute("#status", "data-state")


def shown(page: Any) -> int:
    return number(page, "#readings-shown")


def last_seq(page: Any) -> int:
    return int(page.get_attribute("#readings-shown", "data-last-seq") or "-1")


def test_opens_with_the_token_then_keeps_it_for_the_tab(page: Any, shared: ServeProcess) -> None:
    page.goto(f"{shared.url}?token={TOKEN}")
    wait_until(page, lambda: state(page) == "online", what="connected with the token")
    assert TOKEN not in page.url and page.url == shared.url  # stripped from the address bar
    assert page.evaluate("sessionStorage.getItem('hrviz.token')") == TOKEN
    page.set_input_files("#file", str(DEMO))
    wait_until(page, lambda: shown(page) >= 1, what="the first reading")
    page.select_option("#speed", "60")
    wait_until(page, lambda: shown(page) >= 60, what="a minute of readings")
    shot(page, "11-shared-with-token")
    before = last_seq(page)
    page.reload()
    wait_until(page, lambda: state(page) == "online", what="connected again after a reload, from sessionStorage")
    assert page.url == shared.url
    wait_until(page, lambda: page.locator("#sessions li .s-play").count() == 1, what="the stored session listed")
    wait_until(page, lambda: last_seq(page) > before + 2, what="the replay resumed after the reload")
    assert page.text_content("#session-title") == "demo_run.csv"
    assert page.hrviz_errors == []


def test_the_token_may_come_in_the_fragment(page: Any, shared: ServeProcess) -> None:
    page.goto(f"{shared.url}#token={TOKEN}")
    wait_until(page, lambda: state(page) == "online", what="connected with the token from the fragment")
    assert TOKEN not in page.url


@pytest.mark.parametrize(("query", "says"), [("", "needs its access token"), ("?token=wrong", "does not accept")])
def test_without_the_right_token_the_page_says_so_and_shows_nothing(
    page: Any, shared: ServeProcess, query: str, says: str
) -> None:
    # a session exists on the server; this tab must not see it
    page.goto(f"{shared.url}?token={TOKEN}")
    wait_until(page, lambda: state(page) == "online", what="the owner connected")
    page.set_input_files("#file", str(DEMO))
    wait_until(page, lambda: shown(page) >= 1, what="the owner's first reading")
    other = page.context.browser.new_context()  # another tab with its own sessionStorage
    stranger = other.new_page()
    try:
        stranger.goto(shared.url + query)
        wait_until(stranger, lambda: state(stranger) == "locked", what="the locked status")
        assert says in (stranger.text_content("#status") or "") and "?token=" in (
            stranger.text_content("#status") or ""
        )
        stranger.wait_for_timeout(2500)  # no retry loop brings anything in
        assert state(stranger) == "locked"
        assert stranger.locator("#sessions li").count() == 0 and number(stranger, "#readings-shown") == 0
        stranger.set_input_files("#file", str(DEMO))  # an upload is refused with the same reason
        row = stranger.locator("#uploads li[data-state='error']")
        wait_until(stranger, lambda: row.count() == 1, what="the refused upload's row")
        assert says in (row.text_content() or "")
        shot(stranger, "12-shared-without-token")
    finally:
        other.close()
