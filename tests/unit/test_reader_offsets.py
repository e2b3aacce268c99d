"""The reader's fixed-offset fast path must agree with full ISO parsing, also when the offset changes."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from hrviz.core.reader import read_series

CASES = [
    [
        "2026-03-29T01:59:58+01:00",
        "2026-03-29T01:59:59+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:00:01+02:00",
    ],
    ["2024-03-31T00:00:10Z", "2024-03-31T00:00:15Z", "2024-03-31T02:00:20+02:00"],
    ["2015-12-01 18:00:10 -0500", "2015-12-01 19:00:10 -0500", "2016-04-01 19:00:10 -0400"],
    ["2019-10-16T12:09:00.511+02:00", "2019-10-16T12:09:01.529+02:00"],
]


@pytest.mark.parametrize("stamps", CASES, ids=["dst-switch", "z-then-offset", "space-hhmm", "fractions"])
def test_epoch_seconds_match_full_parsing(stamps: list[str]) -> None:
    text = "time,bpm\n" + "".join(f"{s},{70 + i}\n" for i, s in enumerate(stamps))
    (series,) = read_series(io.BytesIO(text.encode()), "x.csv")
    assert list(series.ts) == [datetime.fromisoformat(s).timestamp() for s in stamps]
    assert list(series.bpm) == [70.0 + i for i in range(len(stamps))]


def test_minute_cache_across_minutes_dst_fall_back_and_naive_times() -> None:
    """Rows of one minute reuse its epoch; a repeated local minute with another offset must not."""
    stamps = [f"2026-10-25T02:59:{s:02d}+02:00" for s in range(55, 60)]
    stamps += [f"2026-10-25T02:{m:02d}:{s:02d}+01:00" for m in (0, 1) for s in (0, 30, 59)]
    stamps += ["2026-10-25T02:01:59.500+01:00", "2026-10-25T02:02:00+01:00"]
    text = "time,bpm\n" + "".join(f"{s},70\n" for s in stamps)
    (series,) = read_series(io.BytesIO(text.encode()), "x.csv")
    assert list(series.ts) == [datetime.fromisoformat(s).timestamp() for s in stamps]
    naive = [f"2024-01-01 10:{m:02d}:{s:02d}" for m in (0, 1) for s in range(0, 60, 7)]
    (series,) = read_series(io.BytesIO(("time,bpm\n" + "".join(f"{s},70\n" for s in naive)).encode()), "n.csv")
    epoch = datetime(1970, 1, 1)
    assert list(series.ts) == [(datetime.fromisoformat(s) - epoch).total_seconds() for s in naive]
