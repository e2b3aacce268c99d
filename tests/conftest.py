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
