"""Choosing the adapters: embedded default, or MySQL / Kafka when a flag or variable names them.

The only place that knows every adapter; commands ask it for a store and a queue and then talk
to the ports only.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields, replace
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

from hrviz.core.detector import DetectorConfig
from hrviz.core.errors import SettingsError
from hrviz.core.ports import Backends, ReadingQueue, SessionStore


def default_db_path() -> Path:
    return Path(os.environ.get("HRVIZ_DB") or Path(user_data_dir("hrviz")) / "hrviz.sqlite3")


def default_config_path() -> Path:
    return Path(os.environ.get("HRVIZ_CONFIG") or Path(user_config_dir("hrviz")) / "config.toml")


def open_backends(db: Path | None, mysql: str | None, kafka: str | None) -> Backends:
    """Open the store and the queue; raises BackendUnavailable with one clear message."""
    mysql = mysql or os.environ.get("HRVIZ_MYSQL_URL") or None
    kafka = kafka or os.environ.get("HRVIZ_KAFKA_BOOTSTRAP") or None
    store: SessionStore
    if mysql:
        from hrviz.adapters.store.mysql import MysqlStore

        store = MysqlStore(mysql)
        where = f"MySQL {redact(mysql)}"
    else:
        from hrviz.adapters.store.sqlite import SqliteStore

        path = db or default_db_path()
        store = SqliteStore(path)
        where = f"SQLite {path}"
    queue: ReadingQueue
    try:
        if kafka:
            from hrviz.adapters.queue.kafka import KafkaQueue

            queue = KafkaQueue(kafka)
            where += f" + Kafka {kafka}"
            needs_position = True
        else:
            from hrviz.adapters.queue.local import LocalQueue

            queue = LocalQueue(store)
            where += " + in-process queue"
            needs_position = False
    except BaseException:
        store.close()
        raise
    return Backends(store, queue, where, replay_needs_position=needs_position)


def redact(url: str) -> str:
    """A URL fit for messages: the password replaced by ***."""
    head, sep, tail = url.rpartition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, creds = head.partition("//")
    user = creds.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


def load_detector_config(path: Path | None, **overrides: float | int | None) -> DetectorConfig:
    """Defaults ← ``[detector]`` of the config file ← command-line flags (those not None).

    Raises :class:`SettingsError` naming the file for bad TOML, unknown keys or non-numbers.
    """
    config = DetectorConfig()
    path = path or default_config_path()
    if path.is_file():
        try:
            with path.open("rb") as f:
                section = tomllib.load(f).get("detector", {})
        except tomllib.TOMLDecodeError as err:
            raise SettingsError(f"{path}: not valid TOML: {err}") from None
        known = {f.name for f in fields(DetectorConfig)}
        unknown = set(section) - known
        if unknown:
            raise SettingsError(f"{path}: unknown [detector] keys {sorted(unknown)}; known: {sorted(known)}")
        for key, value in section.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"{path}: [detector] {key} must be a number, not {value!r}")
        config = replace(config, **section)
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
