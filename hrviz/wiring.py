"""The composition root: settings from flags, environment and config file; the adapters they choose.

The only place that knows every adapter and reads the environment: commands build one
:class:`Settings`, ask for a store and a queue (embedded by default, MySQL / Kafka when a flag or
variable names them), and then talk to the ports only.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

from hrviz.core.detector import DetectorConfig
from hrviz.core.errors import SettingsError
from hrviz.core.ingest import Ingested, IngestOptions
from hrviz.core.ports import Backends, LiveMark, LiveStore, ReadingQueue, SessionStore
from hrviz.core.staging import StagingStore

# every environment variable hrviz reads, and the only module that reads them (the CLI's options
# name the same variables so that --help shows them)
ENV_DB, ENV_CONFIG, ENV_DEBUG, ENV_WEB_DIR = "HRVIZ_DB", "HRVIZ_CONFIG", "HRVIZ_DEBUG", "HRVIZ_WEB_DIR"
ENV_MYSQL, ENV_KAFKA, ENV_KAFKA_TOPIC = "HRVIZ_MYSQL_URL", "HRVIZ_KAFKA_BOOTSTRAP", "HRVIZ_KAFKA_TOPIC"
ENV_TOKEN = "HRVIZ_TOKEN"  # serve's access token and watch --server's: read by their --token option


@dataclass(frozen=True, slots=True)
class Settings:
    """What a command runs with, resolved once by :func:`load_settings` and shared by all three."""

    db: Path  # the SQLite file, when mysql is None
    mysql: str | None
    kafka: str | None
    kafka_topic: str | None  # None: the adapter's default topic
    detector: DetectorConfig
    web_dir: Path | None = None  # None: the page shipped with hrviz
    max_hr: float | None = None  # the config file's [profile] (report's --max-hr / --age override it)
    age: float | None = None


def load_settings(
    *,
    db: Path | None = None,
    mysql: str | None = None,
    kafka: str | None = None,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    **detector_flags: float | int | None,
) -> Settings:
    """Each setting from its flag, else its environment variable, else the config file, else the default.

    The config file (``--config``, ``HRVIZ_CONFIG``, or config.toml in the user's config dir) holds
    the ``[detector]`` thresholds and the ``[profile]`` (``max_hr`` or ``age``, for the insights'
    zones); the flags given (not None) override them.
    """
    env = os.environ if env is None else env
    config = config or Path(env.get(ENV_CONFIG) or Path(user_config_dir("hrviz")) / "config.toml")
    max_hr, age = load_profile(config)
    return Settings(
        db=db or Path(env.get(ENV_DB) or Path(user_data_dir("hrviz")) / "hrviz.sqlite3"),
        mysql=mysql or env.get(ENV_MYSQL) or None,
        kafka=kafka or env.get(ENV_KAFKA) or None,
        kafka_topic=env.get(ENV_KAFKA_TOPIC) or None,
        detector=load_detector_config(config, **detector_flags),
        web_dir=Path(env[ENV_WEB_DIR]) if env.get(ENV_WEB_DIR) else None,
        max_hr=max_hr,
        age=age,
    )


def debug_enabled() -> bool:
    """``HRVIZ_DEBUG`` set: show tracebacks of unexpected errors instead of one line."""
    return bool(os.environ.get(ENV_DEBUG))


def open_store(settings: Settings) -> tuple[SessionStore, str]:
    """Only the store (commands that read what is stored: report, sessions), and where it is."""
    if settings.mysql:
        from hrviz.adapters.store.mysql import MysqlStore

        return MysqlStore(settings.mysql), f"MySQL {redact(settings.mysql)}"
    from hrviz.adapters.store.sqlite import SqliteStore

    return SqliteStore(settings.db), f"SQLite {settings.db}"


def open_backends(settings: Settings) -> Backends:
    """Open the store and the queue; raises BackendUnavailable with one clear message."""
    kafka = settings.kafka
    store, where = open_store(settings)
    queue: ReadingQueue
    try:
        if kafka:
            from hrviz.adapters.queue.kafka import KafkaQueue

            queue = KafkaQueue(kafka, settings.kafka_topic)
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
    raw = store

    def live_ids() -> dict[str, LiveMark]:  # serve asks; ingest never does, nor imports the live store
        from hrviz.adapters.store.live import live_ids_of

        return live_ids_of(raw)  # type: ignore[arg-type]

    if needs_position:  # a queue that encodes records: let it stage them while the store writes them
        store = StagingStore(store, queue)
    return Backends(
        store,
        queue,
        where,
        replay_needs_position=needs_position,
        live_ids=live_ids,
    )


def open_live(backends: Backends) -> LiveStore:
    """The live-session writer on the store ``backends`` opened (docs/live.md)."""
    from hrviz.adapters.store.live import MysqlLive, SqliteLive
    from hrviz.adapters.store.mysql import MysqlStore

    store = backends.store
    if isinstance(store, StagingStore):
        store = store.store
    if isinstance(store, MysqlStore):
        return MysqlLive(store)
    from hrviz.adapters.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return SqliteLive(store)
    raise TypeError(f"no live sessions on {type(store).__name__}")


def ingest_upload(
    path: Path, name: str, store: SessionStore, options: IngestOptions, progress: Callable[[int], None]
) -> Ingested:
    """How ``hrviz serve`` stores an upload: the entry point ``ingest`` and ``watch`` use, one process.

    Any format, every file of a zip. One process, not the two-process reader of big files: the
    server's viewers and replay threads already want the second core, two uploads may ingest at
    once, and timing a 29 MB upload in serve's ingest thread showed no gain from a reader process
    (median of 3: 5.9 s one process vs 6.1 s two; the event loop's p99 lateness 35 ms vs 81 ms, on
    the shared 2-core machine). Publication follows separately (serve replays while it publishes).
    """
    from hrviz.adapters.ingest.archives import ingest_path

    return ingest_path(path, store, options, progress, parallel=False, source=name)


def redact(url: str) -> str:
    """A URL fit for messages: the password replaced by ***."""
    head, sep, tail = url.rpartition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, creds = head.partition("//")
    user = creds.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


def load_profile(path: Path) -> tuple[float | None, float | None]:
    """``max_hr`` and ``age`` of the config file's ``[profile]`` section (both optional)."""
    if not path.is_file():
        return None, None
    try:
        with path.open("rb") as f:
            section = tomllib.load(f).get("profile", {})
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path}: not valid TOML: {err}") from None
    unknown = set(section) - {"max_hr", "age"}
    if unknown:
        raise SettingsError(f"{path}: unknown [profile] keys {sorted(unknown)}; known: ['age', 'max_hr']")
    for key, value in section.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{path}: [profile] {key} must be a number, not {value!r}")
    return section.get("max_hr"), section.get("age")


def load_detector_config(path: Path, **overrides: float | int | None) -> DetectorConfig:
    """Defaults ← ``[detector]`` of the config file ← command-line flags (those not None).

    Raises :class:`SettingsError` naming the file for bad TOML, unknown keys or non-numbers.
    """
    config = DetectorConfig()
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
