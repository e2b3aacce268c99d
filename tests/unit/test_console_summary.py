"""``hrviz ingest``'s summary in an 80-column terminal: the times whole, heart rates to two decimals."""

from __future__ import annotations

import io
import re

from rich.console import Console

from hrviz.adapters.console.report import print_sessions
from hrviz.core.model import Session, Stats

FLIRT = Session(  # garmin_flirt_mixed_metrics_2019-10-16.csv as hrviz ingest stores it
    "7af726d61a42", "garmin_flirt_mixed_metrics_2019-10-16.csv", None, "fp",
    rows=8748, readings=10721, filled=1974, duplicates=0,
    start=1571220540.511, end=1571387991.753, tz_offset_min=120,
    stats=Stats(count=8748, total=8748 * 67.51, min=40.0, max=148.0),
)  # fmt: skip
PHYSIONET = Session(  # physionet_mit_hr.11839.txt: float values, no times
    "ee08f109c9a9", "physionet_mit_hr.11839.txt", None, "fp2", rows=1800, readings=1800,
    start=0.0, end=1799.0, stats=Stats(count=2, total=180.1929, min=73.4366, max=106.7563),
)  # fmt: skip


def shown(session: Session, width: int = 80) -> str:
    out = io.StringIO()
    print_sessions([session], Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_the_first_and_last_times_are_never_cut_at_80_columns() -> None:
    text = shown(FLIRT)
    assert "from  2019-10-16T12:09:00.511+02:00  to  2019-10-18T10:39:51.753+02:00" in text
    assert "…" not in text and all(len(line) <= 80 for line in text.splitlines())
    assert "rows read  8,748" in text and "filled  1,974" in text and "duplicates  0" in text


def test_min_and_max_have_at_most_two_decimals() -> None:
    text = shown(PHYSIONET)
    assert "73.44" in text and "106.76" in text and "73.4366" not in text and "106.756" not in text
    assert re.search(r"mean +90.1 ", text)  # the mean as before: rounded to two decimals by the stats


def test_a_file_without_dates_says_so_instead_of_1970() -> None:
    text = shown(PHYSIONET)
    assert "no date in the file: 00:00:00 to 00:29:59 (30 min)" in text and "1970" not in text
