"""ingest's sessions field by field for a file of two subjects with duplicates, a bad row and a placeholder, and its
refusal of a subject with no values: exact values, so that scripts/mutation.sh finds no field that could go missing."""

from __future__ import annotations

import io

import pytest

from hrviz.core.errors import InputError
from hrviz.core.ingest import ingest
from tests.unit.fakes import MemoryStore


def t(s: int) -> str:
    return f"2026-01-01T00:{s // 60:02d}:{s % 60:02d}Z"


ROWS = (
    ["subject,time,bpm"]
    + [f"ann,{t(i)},{70 + i % 3}" for i in range(30)]
    + [f"ann,{t(5)},99", "ann,nope,73", f"ann,{t(31)},-1"]  # a duplicate time, a bad time (line 33), a placeholder
    + [f"bob,{t(0)},80", f"bob,{t(2)},81"]
)
CSV = ("\n".join(ROWS) + "\n").encode()


def test_each_subject_is_a_session_with_its_own_counts() -> None:
    ann, bob = ingest(io.BytesIO(CSV), "two.csv", MemoryStore())
    got = [
        (s.id, s.source, s.subject, s.rows, s.duplicates, s.skipped, s.skipped_lines, s.ignored, s.warnings,
         s.readings, s.filled, s.tz_offset_min, s.fingerprint[:12])
        for s in (ann, bob)
    ]  # fmt: skip
    assert got == [
        ("eb2b823a2bca", "two.csv", "ann", 32, 1, 1, [33], {"placeholder -1": 1}, [], 32, 2, 0, "eb2b823a2bca"),
        ("0ab3a8cc1803", "two.csv", "bob", 2, 0, 0, [], {}, [], 2, 0, 0, "0ab3a8cc1803"),
    ]


def test_a_subject_without_a_single_value_is_refused_by_name() -> None:
    csv = f"subject,time,bpm\nann,{t(0)},70\nann,{t(1)},71\nbob,{t(0)},\nbob,{t(1)},\n".encode()
    with pytest.raises(InputError) as refused:
        ingest(io.BytesIO(csv), "two.csv", MemoryStore())
    assert str(refused.value) == (
        "two.csv: no usable heart-rate values for subject 'bob': every value is blank or a placeholder"
    )
