"""Google Takeout's Fitbit heart rate: ``heart_rate-YYYY-MM-DD.json``, a list of
``{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 62, "confidence": 2}}``.

Times are UTC (Fitbit's export convention), month first, two-digit year. ``confidence`` is ignored:
Fitbit writes its 0 ("no confidence") readings too, and they are real sensor values. A day file is
a few MB, so it is parsed whole.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import BinaryIO

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.points import add, read_whole
from hrviz.core.series import Series


def read_takeout(stream: BinaryIO, source: str) -> list[Series]:
    try:
        entries = json.loads(read_whole(stream, source, "Fitbit JSON"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(source, f"malformed JSON: {err}") from None
    except RecursionError:  # [[[[… 100,000 deep: json's C decoder recurses
        raise InputError(source, "malformed JSON: nested too deeply for a Fitbit heart-rate file") from None
    if not isinstance(entries, list):
        raise InputError(source, "not a Fitbit heart-rate JSON file (expected a list of dateTime/value entries)")
    hours: dict[str, float] = {}
    c = Collector(None)
    for i, entry in enumerate(entries):
        try:
            when, bpm = entry["dateTime"], float(entry["value"]["bpm"])
            base = hours.get(when[:11])
            if base is None:
                base = hours[when[:11]] = datetime.strptime(when[:11], "%m/%d/%y %H").replace(tzinfo=UTC).timestamp()
            t = base + int(when[12:14]) * 60 + int(when[15:17])
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):  # a 400-digit bpm: OverflowError
            raise InputError(
                source, f"entry {i + 1} is not a Fitbit heart-rate reading: {json.dumps(entry)[:80]}"
            ) from None
        add(c, t, bpm if bpm > 0 and math.isfinite(bpm) else math.nan)
    if not c.rows:
        raise InputError(source, "no heart rate in this Fitbit JSON file (an empty list)")
    return [c.finish(0)]
