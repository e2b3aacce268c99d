"""Which optional C kernels are in use, and the switch that turns them all off.

A kernel ``hrviz.….._cname`` (C, built at install time by setup.py when a compiler is there) does
exactly what a pure-Python function next to it does, only without an interpreter loop per reading.
Callers ask :func:`kernel` and fall back to the Python function when it answers ``None``: no
compiler, a failed build, or ``HRVIZ_PURE_PYTHON=1`` (tests compare both paths; mutation testing
mutates the Python one, so it runs with the switch on).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE_PYTHON = "HRVIZ_PURE_PYTHON"


def kernel(name: str) -> ModuleType | None:
    """The C module ``name`` (dotted), or None when it is not built or the switch is on."""
    if os.environ.get(PURE_PYTHON, "") not in ("", "0"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
