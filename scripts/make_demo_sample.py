import math, random
from datetime import datetime, timedelta, timezone
random.seed(7)
t0 = datetime(2026, 3, 14, 7, 30, 0, tzinfo=timezone(timedelta(hours=1)))
rows = []
bpm = 62.0
for i in range(600):
    t = t0 + timedelta(seconds=i)
    # warm-up ramp 120..300 s from 62 to 128, then steady with noise
    if 120 <= i < 300: target = 62 + (i - 120) * (66 / 180)
    elif i >= 300: target = 128 - max(0, i - 480) * 0.4
    else: target = 62
    bpm = target + random.uniform(-1.5, 1.5)
    v = f"{round(bpm)}"
    if i in (90, 91, 92): v = str(round(bpm) + 42)        # spike
    if i in (400, 401, 402, 403): v = str(round(bpm) - 45) # drop
    if i in (200, 201, 202, 203, 204): v = ""             # missing cells
    if i == 250: v = "0"                                   # placeholder
    if i == 350: v = "255"                                 # impossible
    if 520 <= i < 590: v = "104"                           # stuck sensor
    if 150 <= i < 240 and i % 1 == 0 and 225 <= i < 232: continue  # 7 s hole -> filled
    if 420 <= i < 500: continue                            # 80 s gap
    rows.append((t.isoformat(), v))
with open("samples/demo_run.csv", "w") as f:
    f.write("timestamp,bpm\n")
    for t, v in rows: f.write(f"{t},{v}\n")
