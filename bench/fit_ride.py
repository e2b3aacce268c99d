"""A 4-hour, 1 Hz ride as a FIT file, written with Garmin's SDK encoder from a real ride's records.

The Edge 500 ride of shared/data/fit (3 h, ~10,700 records with heart rate, speed, cadence,
position, altitude, temperature) is decoded, its records retimed to one per second and repeated
until the ride lasts ``--hours``; a file_id, an activity message (with the device's UTC offset)
and the records are encoded as a real device would write them.

    python bench/fit_ride.py --out bench/data/ride_4h.fit
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from garmin_fit_sdk import Decoder, Encoder, Profile, Stream

HERE = Path(__file__).resolve().parent
RIDE = Path("fit") / "garmin-edge-500-activity.fit"
SOURCE = next(
    (d / RIDE for d in (HERE.parent.parent / "shared" / "data", Path("/work/shared/data")) if (d / RIDE).is_file()),
    HERE.parent.parent / "shared" / "data" / RIDE,
)
KEEP = ("heart_rate", "cadence", "speed", "distance", "position_lat", "position_long", "altitude", "temperature")


def ride(source: Path, hours: float) -> bytes:
    messages, errors = Decoder(Stream.from_file(str(source))).read()
    assert not errors, errors
    records = [r for r in messages["record_mesgs"] if r.get("heart_rate")]
    start = records[0]["timestamp"]
    n = int(hours * 3600)
    numbers = Profile["mesg_num"]
    encoder = Encoder()
    encoder.write_mesg(
        {"mesg_num": numbers["FILE_ID"], "type": "activity", "manufacturer": "garmin", "product": 1036,
         "serial_number": 1234567890, "time_created": start}
    )  # fmt: skip
    for i in range(n):
        real = records[i % len(records)]
        mesg = {k: real[k] for k in KEEP if real.get(k) is not None}
        mesg["mesg_num"] = numbers["RECORD"]
        mesg["timestamp"] = start + timedelta(seconds=i)
        encoder.write_mesg(mesg)
    end = start + timedelta(seconds=n - 1)
    encoder.write_mesg(
        {"mesg_num": numbers["ACTIVITY"], "timestamp": end, "local_timestamp": end - timedelta(hours=7),
         "num_sessions": 1, "type": "manual", "event": "activity", "event_type": "stop",
         "total_timer_time": float(n)}
    )  # fmt: skip
    return bytes(encoder.close())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "data" / "ride_4h.fit")
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = ride(args.source, args.hours)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data):,} bytes, {int(args.hours * 3600):,} records")


if __name__ == "__main__":
    main()
