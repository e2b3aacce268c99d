"""Settings shared by every test layer."""

from __future__ import annotations

from pathlib import Path

import pytest

# A user's own configuration must never leak into a test: these select servers, files and thresholds.
USER_SETTINGS = ("HRVIZ_MYSQL_URL", "HRVIZ_KAFKA_BOOTSTRAP", "HRVIZ_KAFKA_TOPIC", "HRVIZ_DB", "HRVIZ_CONFIG")


@pytest.fixture(autouse=True)
def _isolated_from_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HRVIZ_CONFIG", str(tmp_path / "no-user-config.toml"))
    monkeypatch.setenv("HRVIZ_DB", str(tmp_path / "default-store.sqlite3"))


# --- a skip is a failure where everything must run ------------------------------------------------
# Under CI=true or HRVIZ_REQUIRE_SERVICES=1 (scripts/test.sh) every dependency is installed on purpose,
# so a skipped test means something silently did not run: the session fails and names each skip.

_SKIPPED: list[str] = []


def _skips_are_failures() -> bool:
    import os

    return os.environ.get("CI", "").lower() == "true" or os.environ.get("HRVIZ_REQUIRE_SERVICES") == "1"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED and _skips_are_failures():
        terminalreporter.section("skipped tests count as failures here (CI / HRVIZ_REQUIRE_SERVICES=1)", red=True)
        for line in _SKIPPED:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and _skips_are_failures() and exitstatus == 0:
        session.exitstatus = 1
