"""Connection settings of the real servers for tests (started by ``bash scripts/services.sh up``).

``bash scripts/test.sh`` exports ``HRVIZ_TEST_MYSQL_URL``, ``HRVIZ_TEST_KAFKA_BOOTSTRAP``,
``HRVIZ_SERVICES`` and ``HRVIZ_REQUIRE_SERVICES=1``. Usage::

    from tests import services

    def test_roundtrip():
        url = services.require("mysql")          # skips (or fails under test.sh) when not configured
        ...
        services.services_cmd("stop-kafka")      # stop/start one server mid-test
        services.services_cmd("start-kafka")     # returns once it answers again
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

MYSQL_ENV = "HRVIZ_TEST_MYSQL_URL"
KAFKA_ENV = "HRVIZ_TEST_KAFKA_BOOTSTRAP"
_ENV = {"mysql": MYSQL_ENV, "kafka": KAFKA_ENV}

SERVICES_SH = Path(
    os.environ.get("HRVIZ_SERVICES") or Path(__file__).resolve().parent.parent / "scripts" / "services.sh"
)


def mysql_url() -> str | None:
    """``mysql://hrviz:hrviz-pw@127.0.0.1:3306/hrviz_test`` or None when not configured."""
    return os.environ.get(MYSQL_ENV) or None


def kafka_bootstrap() -> str | None:
    """``127.0.0.1:9092`` or None when not configured."""
    return os.environ.get(KAFKA_ENV) or None


def require(name: str) -> str:
    """The setting for ``"mysql"`` or ``"kafka"``.

    When it is unset: ``pytest.fail`` if ``HRVIZ_REQUIRE_SERVICES=1`` (as in scripts/test.sh and CI),
    else ``pytest.skip``.
    """
    try:
        var = _ENV[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r}; expected one of {sorted(_ENV)}") from None
    value = os.environ.get(var)
    if value:
        return value
    msg = f"{var} is not set: the real {name} server is needed; start them with bash scripts/services.sh up"
    if os.environ.get("HRVIZ_REQUIRE_SERVICES") == "1":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def services_cmd(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/services.sh ARGS`` (e.g. ``"stop-kafka"``, ``"start-kafka"``, ``"kill", "kafka"``,
    ``"down", "mariadb"``) and return when it is done; raises CalledProcessError on failure.

    ``start``/``up`` return only once the server accepts work again (restarts reuse the data).
    """
    cmd = ["bash", str(SERVICES_SH), *args]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ServicesError(done.returncode, cmd, done.stdout, done.stderr)
    return done


class ServicesError(subprocess.CalledProcessError):
    """A failed services.sh call; unlike CalledProcessError its message shows services.sh's output
    (which includes the tail of the server's log on a failed start)."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr or ''}{self.stdout or ''}"
