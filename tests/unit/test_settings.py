"""One settings object for every command: flag, else environment, else config file, else default."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrviz.core.detector import DetectorConfig
from hrviz.core.errors import SettingsError
from hrviz.wiring import load_settings


def test_a_flag_beats_the_environment_which_beats_the_default(tmp_path: Path) -> None:
    env = {"HRVIZ_DB": str(tmp_path / "env.db"), "HRVIZ_MYSQL_URL": "mysql://u@h/env", "HRVIZ_KAFKA_TOPIC": "t"}
    from_env = load_settings(config=tmp_path / "none.toml", env=env)
    assert (from_env.db, from_env.mysql, from_env.kafka, from_env.kafka_topic) == (
        tmp_path / "env.db",
        "mysql://u@h/env",
        None,
        "t",
    )
    flagged = load_settings(db=tmp_path / "flag.db", mysql="mysql://u@h/flag", config=tmp_path / "none.toml", env=env)
    assert (flagged.db, flagged.mysql) == (tmp_path / "flag.db", "mysql://u@h/flag")
    bare = load_settings(config=tmp_path / "none.toml", env={})
    assert bare.db.name == "hrviz.sqlite3" and bare.mysql is None and bare.web_dir is None
    assert bare.detector == DetectorConfig()


def test_detector_flags_override_the_config_file_named_by_flag_or_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[detector]\ndelta = 80\nlow = 20\n")
    from_env = load_settings(env={"HRVIZ_CONFIG": str(config)})
    assert (from_env.detector.delta, from_env.detector.low) == (80, 20)
    flagged = load_settings(config=config, env={}, delta=25, low=None)
    assert (flagged.detector.delta, flagged.detector.low) == (25, 20)


def test_a_bad_config_file_is_a_settings_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[detector]\nhigh = true\n")
    with pytest.raises(SettingsError, match=f"{config}.*high must be a number"):
        load_settings(config=config, env={})
