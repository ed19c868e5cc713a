#!/usr/bin/env python3
"""Writes the whylogs v0 fixtures (profiles with model-performance metrics) used by
Tests/ProfilesTests/WhylogsV0Tests.swift into Tests/Fixtures/whylogs/.

whylogs 1.6.4 writes a profile that carries model-performance metrics as a single delimited
v0 DatasetProfileMessage instead of the WHY1 container. Each NAME.bin gets a NAME.json with the
input and what whylogs itself reads back (whylogs.migration.converters.read_v0_to_view):
the column summary (to_pandas) and the performance metrics.

Run in a virtualenv with whylogs==1.6.4, numpy<2, pandas<2.3:
    python scripts/crosscheck/make_whylogs_v0_fixtures.py [OUT_DIR]
"""
import datetime
import json
import math
import os
import sys

import numpy as np
import pandas as pd
import whylogs as why
from whylogs.migration.converters import read_v0_to_view

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "whylogs")
TS = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def clean(x):
    """JSON-safe: NaN/inf as strings, numpy scalars as Python numbers."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def summary(view):
    df = view.to_pandas()
    out = {}
    for col, row in df.iterrows():
        entry = {}
        for k, v in row.items():
            if isinstance(v, list):
                v = [{"value": fi.value, "est": fi.est, "upper": fi.upper, "lower": fi.lower} for fi in v]
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                v = float("nan")
            entry[k] = v
        out[col] = entry
    return clean(out)


def performance(view):
    perf = view.model_performance_metrics
    out = {}
    if perf.confusion_matrix is not None:
        cm = perf.confusion_matrix
        labels = [str(l) for l in cm.labels]
        cells = []
        for i in range(len(labels)):
            for j in range(len(labels)):
                d = cm.confusion_matrix.get((i, j))
                if d is None or d.kll.value.is_empty():
                    cells.append({"prediction": labels[i], "target": labels[j], "count": 0})
                else:
                    cells.append({"prediction": labels[i], "target": labels[j], "count": int(d.n),
                                  "mean": d.mean.value, "m2": d.m2.value,
                                  "kll_min": d.kll.value.get_min_value(), "kll_max": d.kll.value.get_max_value()})
        out["confusion_matrix"] = {"labels": labels, "cells": cells}
    if perf.regression_metrics is not None:
        r = perf.regression_metrics
        out["regression"] = {"count": r.count, "sum_abs_diff": r.sum_abs_diff, "sum_diff": r.sum_diff,
                             "sum2_diff": r.sum2_diff}
    return clean(out)


def write(name, result, df, recipe):
    result.set_dataset_timestamp(TS)
    path = os.path.join(OUT, name + ".bin")
    result.view().write(path)
    with open(path, "rb") as f:
        raw = f.read()
    assert not raw.startswith(b"WHY1"), "expected a v0 message"
    view = read_v0_to_view(path)
    sidecar = {
        "family": "whylogs-v0",
        "whylogs_version": why.__version__ if hasattr(why, "__version__") else "1.6.4",
        "input": {"description": recipe, "columns": clean({c: df[c].tolist() for c in df.columns})},
        "procedure": "why.log_*_metrics(df, ..., log_full_data=True); set_dataset_timestamp(2024-01-01T00:00Z); "
                     "view().write(path) (v0 because of the performance metrics); "
                     "read back with whylogs.migration.converters.read_v0_to_view",
        "dataset_timestamp_ms": int(TS.timestamp() * 1000),
        "read_v0_to_view_to_pandas": summary(view),
        "performance": performance(view),
        "size_bytes": len(raw),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(sidecar, f, indent=1, sort_keys=True)
    print(f"wrote {path} ({len(raw)} bytes)")


def main():
    rng = np.random.default_rng(7)
    n = 60
    target = rng.choice(["cat", "dog", "fish"], size=n)
    prediction = np.where(rng.random(n) < 0.7, target, rng.choice(["cat", "dog", "fish"], size=n))
    df = pd.DataFrame({
        "target": target,
        "prediction": prediction,
        "score": np.round(rng.random(n), 3),
        "age": rng.integers(18, 80, size=n),
    })
    result = why.log_classification_metrics(df, target_column="target", prediction_column="prediction",
                                            score_column="score", log_full_data=True)
    write("whylogs_v0_classification", result, df,
          "60 rows, numpy default_rng(7): target/prediction in {cat,dog,fish} (70% correct), score, age int")

    x = np.round(rng.normal(10, 3, size=40), 4)
    df = pd.DataFrame({"target": x, "prediction": np.round(x + rng.normal(0, 1, size=40), 4)})
    result = why.log_regression_metrics(df, target_column="target", prediction_column="prediction",
                                        log_full_data=True)
    write("whylogs_v0_regression", result, df, "40 rows, numpy default_rng(7) continued: normal targets")


if __name__ == "__main__":
    main()
