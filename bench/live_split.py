"""Split a bench_live.py Kafka configuration's latency into written → produced (the driver's
publication) and produced → seen (broker, serve, WebSocket), per second of the run.

    python bench/live_split.py /tmp/hrviz-bench-live-XXXX TOPIC [--kafka 127.0.0.1:9092]

The configuration's directory keeps ids.json, written.json and seen.json; the topic is the run's
``hrviz.bench.*`` topic (bench_live.py does not delete it). "Produced" is the record's CreateTime,
which librdkafka sets when the driver hands the record to its producer.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition


def pct(values: list[float], q: float) -> int:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))]) if values else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("topic")
    ap.add_argument("--kafka", default="127.0.0.1:9092")
    args = ap.parse_args()
    k_of = {sid: k for k, sid in enumerate(json.loads((args.dir / "ids.json").read_text()))}
    written = {(k, s): t for k, s, t in json.loads((args.dir / "written.json").read_text())}
    seen = {(k, s): t for k, s, t in json.loads((args.dir / "seen.json").read_text())}
    consumer = Consumer({"bootstrap.servers": args.kafka, "group.id": "hrviz-live-split", "log_level": 0})
    parts = consumer.list_topics(args.topic, timeout=5).topics[args.topic].partitions
    consumer.assign([TopicPartition(args.topic, p, 0) for p in parts])
    produced: dict[tuple[int, int], float] = {}
    while batch := consumer.consume(10_000, timeout=2):
        for msg in batch:
            if msg.error() is None:
                value = json.loads(msg.value())
                key = (k_of.get(value["session"], -1), value["seq"])
                produced.setdefault(key, msg.timestamp()[1] / 1000)
    consumer.close()
    t0 = min(written.values())
    to_produce, to_seen = collections.defaultdict(list), collections.defaultdict(list)
    for key, t in produced.items():
        if key in written:
            second = int(written[key] - t0)
            to_produce[second].append((t - written[key]) * 1000)
            if key in seen:
                to_seen[second].append((seen[key] - t) * 1000)
    print("second | written → produced p50 / p99 ms | produced → seen p50 / p99 ms (n)")
    for second in sorted(to_produce):
        a, b = to_produce[second], to_seen[second]
        print(f"{second} | {pct(a, 0.5)} / {pct(a, 0.99)} | {pct(b, 0.5)} / {pct(b, 0.99)} ({len(b)})")
    a = [x for v in to_produce.values() for x in v]
    b = [x for v in to_seen.values() for x in v]
    print(f"all | {pct(a, 0.5)} / {pct(a, 0.99)} | {pct(b, 0.5)} / {pct(b, 0.99)} ({len(b)})")


if __name__ == "__main__":
    main()
