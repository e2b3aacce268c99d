"""Column-name vocabularies: how devices name the heart-rate, time, subject and metric-type columns.

Names are compared after :func:`norm` (lower case, letters and digits only), so ``heartRate``,
``heart_rate``, ``Heart Rate`` and ``"HR (bpm)"`` all meet the same entry.
"""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def norm(name: str) -> str:
    """``"HR (bpm)"`` → ``"hrbpm"``: the spelling-insensitive key used for every name lookup."""
    return _NON_ALNUM.sub("", name.lower())


# Ordered by preference: when a header has several, the earliest in this list wins.
HR_NAMES: tuple[str, ...] = (
    "bpm",
    "hr",
    "heartrate",
    "heartratebpm",
    "hrbpm",
    "hrheartrate",
    "beatsperminute",
    "heartrateinbeatsperminute",
    "heartratecountmin",
    "pulse",
    "pulserate",
    "pulsebpm",
    "puls",
    "heartbeat",
    "heartratevalue",
    "hrvalue",
    "ihr",
    "instantaneoushr",
    "value",
)

# Words that make a heart-rate-looking name a summary or another signal (``HR max``, ``Average
# heart rate (bpm)``, ``heart_rate_variability``) rather than the per-sample column.
_HR_EXCLUDE = frozenset(
    {
        "avg",
        "average",
        "mean",
        "max",
        "maximum",
        "min",
        "minimum",
        "variability",
        "hrv",
        "zone",
        "zones",
        "rest",
        "resting",
        "sit",
        "reserve",
        "target",
        "limit",
        "threshold",
        "recovery",
        "rr",
        "peak",
    }
)
_WORD = re.compile(r"[a-z]+")

TIME_NAMES: tuple[str, ...] = (
    "timestamp",
    "datetime",
    "datetimeutc",
    "time",
    "date",
    "datetimelocal",
    "localtime",
    "utctime",
    "timeutc",
    "ts",
    "start",
    "starttime",
    "startdate",
    "startdatetime",
    "epoch",
    "unixtime",
    "timestampms",
    "phonetimestamp",
    "sampletime",
    "recordedat",
    "createdat",
    "measuredat",
)

SUBJECT_NAMES: frozenset[str] = frozenset(
    {
        "id",
        "userid",
        "user",
        "usercode",
        "username",
        "subject",
        "subjectid",
        "participant",
        "participantid",
        "patient",
        "patientid",
        "person",
        "personid",
        "uid",
        "pid",
        "sid",
    }
)

# Cell values of a metric-type column that mean "this row is a heart rate".
HR_TYPES: frozenset[str] = frozenset(
    {
        "heartrate",
        "hr",
        "hkquantitytypeidentifierheartrate",
        "pulse",
        "heartratebpm",
        "bpm",
        "comgooglehearratebpm",
        "comgoogleheartratebpm",
    }
)


def hr_rank(name: str) -> int | None:
    """Preference rank of a heart-rate column name (lower is better), None when it is not one.

    Exact vocabulary entries rank first; otherwise names containing ``heartrate``/``bpm``/``pulse``
    count unless they name a summary (``Average heart rate (bpm)``).
    """
    key = norm(name)
    if not key:
        return None
    if key in HR_NAMES:
        return HR_NAMES.index(key)
    if any(word in key for word in ("heartrate", "bpm", "pulse")) and _HR_EXCLUDE.isdisjoint(
        _WORD.findall(name.lower())
    ):
        return len(HR_NAMES)
    return None


def time_rank(name: str) -> int | None:
    """Preference rank of a time column name, None when it is not one."""
    key = norm(name)
    if key in TIME_NAMES:
        return TIME_NAMES.index(key)
    if key.endswith(("timestamp", "datetime")) or key.startswith(("timestamp", "datetime")):
        return len(TIME_NAMES)
    return None


def is_subject_name(name: str) -> bool:
    return norm(name) in SUBJECT_NAMES


def is_hr_type(cell: str) -> bool:
    return norm(cell) in HR_TYPES
