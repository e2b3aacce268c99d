"""Where the real device recordings are (the team's shared, read-only data folder), if anywhere.

``HRVIZ_REAL_DATA`` wins; else ``shared/data/real`` beside the checkout (as in the team's
workspace), else the workspace's fixed path. Tests that need it skip, saying why, when it is
absent — as it is on a user's machine.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _find() -> Path:
    candidates = [os.environ.get("HRVIZ_REAL_DATA"), ROOT.parent / "shared" / "data" / "real", "/work/shared/data/real"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared" / "data" / "real"


REAL = _find()
FIT = REAL.parent / "fit"  # real FIT files + their decoded records (PROVENANCE.md there)
TCX = REAL.parent / "tcx"  # real TCX files
