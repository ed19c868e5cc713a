#!/usr/bin/env python3
"""Anchor for the Profiler benchmarks: whylogs 1.6.4 logging the same rows in the same run.

Usage: bench_profile_anchor.py ROWS.csv REPEAT [PER_ROW_LIMIT]

Prints one JSON object per line with the benchmark names of ProfileBench:
  profiler_log_row / profiler_log_dict: `DatasetProfile.track(row=dict)` per row into one
      profile (first PER_ROW_LIMIT rows, default 2000: whylogs needs tens of µs per row),
      "median_ns" per row. (`why.log(row=...)` builds a whole new profile per call, ~30 ms.)
  profiler_log_columnar: `why.log(pandas=df)` over all rows (whylogs' fast path), for context.
"""
import json
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import whylogs as why  # noqa: E402
from whylogs.core import DatasetProfile  # noqa: E402

path, repeat = sys.argv[1], int(sys.argv[2])
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
df = pd.read_csv(path)
rows = df.head(limit).to_dict(orient="records")

# Per row into one long-lived profile: whylogs' cheapest per-row path (what its rolling logger
# does per row), rather than why.log(row=...), which builds a whole profile per call.
best = float("inf")
best_median = 0.0
for _ in range(repeat):
    times = []
    profile = DatasetProfile()
    start = time.perf_counter()
    for row in rows:
        t0 = time.perf_counter()
        profile.track(row=row)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    if total < best:
        best = total
        best_median = statistics.median(times) * 1e9
for name in ("profiler_log_row", "profiler_log_dict"):
    print(json.dumps({"name": name, "ops": len(rows), "seconds": best, "median_ns": best_median}))

# Columnar: the whole frame at once.
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    why.log(pandas=df)
    best = min(best, time.perf_counter() - start)
print(json.dumps({"name": "profiler_log_columnar", "ops": len(df), "seconds": best}))
