"""The C kernels are built, current, and can be switched off (their equality with Python is tested per kernel)."""

from __future__ import annotations

import importlib
import importlib.machinery
import shutil
from pathlib import Path

import pytest

from hrviz.core import speedups

ROOT = Path(__file__).resolve().parents[2]


def kernel_sources() -> list[Path]:
    return sorted((ROOT / "hrviz").rglob("_c*.c"))


def dotted(source: Path) -> str:
    return ".".join(source.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler: hrviz runs on its Python code")
def test_every_kernel_is_built_and_newer_than_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(speedups.PURE_PYTHON, raising=False)  # built whatever the switch says
    for source in kernel_sources():
        built = [source.with_suffix(s) for s in importlib.machinery.EXTENSION_SUFFIXES]
        built = [b for b in built if b.exists()]
        assert built, f"{source.name} is not built: run .venv/bin/pip install -e . (setup.py builds it)"
        assert built[0].stat().st_mtime >= source.stat().st_mtime, f"{built[0].name} is older than {source.name}"
        importlib.import_module(dotted(source))  # it loads (speedups.kernel() may be switched off for this run)


def test_pure_python_switch_turns_every_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speedups.PURE_PYTHON, "1")
    assert all(speedups.kernel(dotted(source)) is None for source in kernel_sources())
    assert speedups.kernel("json") is None  # any module: the switch does not look at what the name is


def test_a_missing_kernel_is_none_not_an_error() -> None:
    assert speedups.kernel("hrviz.core._cno_such_kernel") is None
