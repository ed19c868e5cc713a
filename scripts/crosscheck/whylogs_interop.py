#!/usr/bin/env python3
"""whylogs <-> Driftwatch interoperability check (issue 3, "What it must show").

Run in a virtualenv with whylogs==1.6.4, numpy<2, pandas<2.3.

(a) Reading whylogs: for each input (a CSV, profiled here with `why.log(pandas_df)`, or an
    existing whylogs .bin), whylogs' own `to_pandas()` summary must match Driftwatch's
    inspection of the same .bin file: counts, types, min/max, mean/stddev (1e-9 relative),
    quantiles q_01..q_99 (exclusive ranks, exact), cardinality (estimate and 1-sigma bounds)
    and frequent items (no-false-positives at threshold = maximum error).
(b) Writing whylogs: a whylogs file written by Driftwatch must open with `whylogs.read()`
    and summarise consistently: exactly like Driftwatch's own inspection of that file, and
    within the sketches' error bounds of whylogs' own profile of the same data.

How Driftwatch is called:
  --drift PATH     the `drift` CLI: `drift profile inspect FILE --json` for (a) and
                   `drift profile CSV --format whylogs --out FILE` for (b).
  (default)        the Swift test bridge `WhylogsInteropBridge` (before the CLI exists):
                   `DRIFT_WHYLOGS_BRIDGE=in.bin:out.json[:rewritten.bin] swift test --filter
                   WhylogsInteropBridge` decodes a whylogs file into a DatasetProfile, writes
                   the inspect JSON and (optionally) re-encodes the profile as whylogs. For (b)
                   the bridge re-encodes whylogs' own profile of the CSV instead of profiling
                   the CSV itself.

Driftwatch's inspect JSON per column (the keys of `drift profile inspect --json`):
  count, null_count, nan_count, inf_count, types {integral, fractional, boolean, string,
  object}, min, max, mean, stddev, quantiles {"0": .., "0.01": .., ..., "1": ..},
  cardinality {estimate, lower_bound, upper_bound}, frequent_items [{item, estimate,
  lower_bound, upper_bound}]; columns under a top-level "columns" object. Non-finite numbers
  may be JSON null, or the strings "NaN", "Infinity", "-Infinity".

Usage:
  whylogs_interop.py [--drift PATH] [--package DIR] [--keep DIR] INPUT...
INPUT is a .csv or a whylogs .bin file. Exit status 0 when every check passed; the last line
is "N passed, M failed".
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

# The ranks Driftwatch reports (`drift sketch inspect`), and whylogs' summary names for them.
RANKS = ["0", "0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99", "1"]
WHYLOGS_QUANTILE_KEYS = {
    "0.01": "distribution/q_01", "0.05": "distribution/q_05", "0.1": "distribution/q_10",
    "0.25": "distribution/q_25", "0.5": "distribution/median", "0.75": "distribution/q_75",
    "0.9": "distribution/q_90", "0.95": "distribution/q_95", "0.99": "distribution/q_99",
}
TYPE_KEYS = ["integral", "fractional", "boolean", "string", "object"]
# KLL k=1024 single-sided normalised rank error at 99% confidence (FORMATS.md section a:
# 2.296 / k^0.9723), used to bound quantiles of two independent sketches of the same data.
KLL_1024_RANK_ERROR = 2.296 / 1024 ** 0.9723


# ---------------------------------------------------------------------------------------------
# Numbers


def num(x):
    """A JSON/pandas value as a float; None, "NaN" and pandas NaN become NaN."""
    if x is None:
        return math.nan
    if isinstance(x, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(x, float(x) if x else math.nan)
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def same(a, b, rel=0.0):
    """Equal numbers: both NaN, equal infinities, or within `rel` relative difference."""
    a, b = num(a), num(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if rel == 0.0:
        return a == b
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# ---------------------------------------------------------------------------------------------
# whylogs' summary in Driftwatch's inspect shape


def whylogs_columns(view):
    """whylogs' to_pandas() summary of a DatasetProfileView, per column in the inspect shape."""
    df = view.to_pandas()
    out = {}
    for column, row in df.iterrows():
        row = row.to_dict()
        entry = {
            "count": row.get("counts/n"),
            "null_count": row.get("counts/null"),
            "nan_count": row.get("counts/nan"),
            "inf_count": row.get("counts/inf"),
            "types": {t: row.get("types/" + t) for t in TYPE_KEYS},
            "min": row.get("distribution/min"),
            "max": row.get("distribution/max"),
            "mean": row.get("distribution/mean"),
            "stddev": row.get("distribution/stddev"),
            "kll_n": row.get("distribution/n"),
            "quantiles": {},
            "cardinality": None,
            "frequent_items": None,
        }
        if not math.isnan(num(entry["min"])):
            entry["quantiles"]["0"] = entry["min"]
            entry["quantiles"]["1"] = entry["max"]
            for rank, key in WHYLOGS_QUANTILE_KEYS.items():
                entry["quantiles"][rank] = row.get(key)
        if "cardinality/est" in row and not math.isnan(num(row.get("cardinality/est"))):
            entry["cardinality"] = {
                "estimate": row["cardinality/est"],
                "lower_bound": row["cardinality/lower_1"],
                "upper_bound": row["cardinality/upper_1"],
            }
        items = row.get("frequent_items/frequent_strings")
        if isinstance(items, list):
            entry["frequent_items"] = [
                {"item": fi.value, "estimate": fi.est, "lower_bound": fi.lower, "upper_bound": fi.upper}
                for fi in items
            ]
        out[str(column)] = entry
    return out


def drift_columns(inspect_json):
    """The per-column objects of Driftwatch's inspect JSON."""
    return inspect_json.get("columns", inspect_json)


# ---------------------------------------------------------------------------------------------
# Comparisons. Each returns a list of human-readable mismatches (empty = consistent).


def compare_column(name, want, got, exact=True, rel=1e-9):
    """Compares one column of whylogs' summary (`want`, from whylogs_columns) with Driftwatch's
    inspect JSON for it (`got`).

    exact=True: both describe the same sketches (the same file): quantiles, cardinality and
    frequent items must agree exactly, mean/stddev to `rel`.
    exact=False: two independent profiles of the same data: counts, types, min/max and
    mean/stddev as above, quantiles within the KLL rank error, cardinality intervals must
    overlap, and every frequent item of one must be consistent with the bounds of the other.
    """
    bad = []

    def check(label, a, b, r=0.0):
        if not same(a, b, r):
            bad.append(f"{name}: {label}: whylogs {a!r}, driftwatch {b!r}")

    for key in ["count", "null_count", "nan_count", "inf_count"]:
        check(key, want[key], got.get(key))
    got_types = got.get("types") or {}
    for t in TYPE_KEYS:
        check(f"types.{t}", want["types"][t], got_types.get(t, 0))

    has_numbers = num(want.get("kll_n")) > 0
    if has_numbers:
        check("min", want["min"], got.get("min"))
        check("max", want["max"], got.get("max"))
        check("mean", want["mean"], got.get("mean"), rel)
        check("stddev", want["stddev"], got.get("stddev"), rel)
        got_q = {str(float(k)): v for k, v in (got.get("quantiles") or {}).items()}
        for rank, value in want["quantiles"].items():
            key = str(float(rank))
            if key not in got_q:
                bad.append(f"{name}: quantile {rank} missing")
            elif exact:
                check(f"quantile {rank}", value, got_q[key])
        if not exact:
            bad += quantiles_within_rank_error(name, want["quantiles"], got_q)

    want_card, got_card = want.get("cardinality"), got.get("cardinality")
    if want_card is not None:
        if got_card is None:
            bad.append(f"{name}: cardinality missing")
        elif exact:
            for key in ["estimate", "lower_bound", "upper_bound"]:
                check(f"cardinality.{key}", want_card[key], got_card.get(key), 1e-12)
        elif num(got_card["lower_bound"]) > num(want_card["upper_bound"]) * (1 + 3 * 0.0163) or num(
                want_card["lower_bound"]) > num(got_card["upper_bound"]) * (1 + 3 * 0.0163):
            # lg_k 12 HLL: RSE ~1.63% (FORMATS.md section b); allow 3 sigma between two sketches.
            bad.append(f"{name}: cardinality intervals disagree: whylogs {want_card}, driftwatch {got_card}")

    bad += compare_frequent_items(name, want.get("frequent_items"), got.get("frequent_items"), exact)
    return bad


def quantiles_within_rank_error(name, want, got):
    """Independent KLL sketches of the same data: each whylogs quantile must lie between
    Driftwatch's quantiles at rank ± 2·ε (ε = KLL k=1024 rank error)."""
    bad = []
    ranks = sorted((float(k), num(v)) for k, v in got.items())
    for rank, value in want.items():
        r = float(rank)
        if r in (0.0, 1.0):
            continue
        lo = [v for k, v in ranks if k <= max(0.0, r - 2 * KLL_1024_RANK_ERROR)]
        hi = [v for k, v in ranks if k >= min(1.0, r + 2 * KLL_1024_RANK_ERROR)]
        low = lo[-1] if lo else -math.inf
        high = hi[0] if hi else math.inf
        if not (low <= num(value) <= high):
            bad.append(f"{name}: quantile {rank}: whylogs {value} outside driftwatch [{low}, {high}]")
    return bad


def compare_frequent_items(name, want, got, exact):
    """Frequent items (NO_FALSE_POSITIVES at threshold = maximum error). exact: the same rows
    (item, estimate, bounds), order-insensitive. Otherwise: every item both report must have
    overlapping [lower, upper] intervals."""
    if want is None:
        return []
    if got is None:
        return [f"{name}: frequent_items missing"] if want else []
    w = {str(i["item"]): i for i in want}
    g = {str(i["item"]): i for i in got}
    bad = []
    if exact:
        if set(w) != set(g):
            bad.append(f"{name}: frequent items differ: only whylogs {sorted(set(w) - set(g))[:5]}, "
                       f"only driftwatch {sorted(set(g) - set(w))[:5]}")
        for item in set(w) & set(g):
            for key in ["estimate", "lower_bound", "upper_bound"]:
                if not same(w[item][key], g[item][key]):
                    bad.append(f"{name}: frequent item {item!r} {key}: whylogs {w[item][key]}, "
                               f"driftwatch {g[item][key]}")
    else:
        for item in set(w) & set(g):
            if num(w[item]["lower_bound"]) > num(g[item]["upper_bound"]) or num(g[item]["lower_bound"]) > num(
                    w[item]["upper_bound"]):
                bad.append(f"{name}: frequent item {item!r}: bounds disagree: whylogs {w[item]}, driftwatch {g[item]}")
    return bad


def compare_profile(want_columns, inspect_json, exact=True, rel=1e-9):
    """All columns of whylogs' summary against Driftwatch's inspect JSON."""
    got_columns = drift_columns(inspect_json)
    bad = []
    if set(want_columns) != set(got_columns):
        bad.append(f"columns differ: whylogs {sorted(want_columns)}, driftwatch {sorted(got_columns)}")
    for name in sorted(set(want_columns) & set(got_columns)):
        bad += compare_column(name, want_columns[name], got_columns[name], exact, rel)
    return bad


# ---------------------------------------------------------------------------------------------
# Calling Driftwatch


class Driftwatch:
    def __init__(self, drift=None, package=None):
        self.drift = drift
        self.package = package

    def inspect(self, bin_path, work):
        """Driftwatch's inspect JSON of a profile file."""
        if self.drift:
            out = subprocess.run([self.drift, "profile", "inspect", bin_path, "--json"], check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out)
        out_json = os.path.join(work, os.path.basename(bin_path) + ".inspect.json")
        self._bridge(f"{bin_path}:{out_json}")
        with open(out_json) as f:
            return json.load(f)

    def write_whylogs(self, csv_path, whylogs_bin, work):
        """A whylogs file written by Driftwatch for the data of `csv_path`."""
        out = os.path.join(work, os.path.basename(csv_path) + ".driftwatch.bin")
        if self.drift:
            subprocess.run([self.drift, "profile", csv_path, "--format", "whylogs", "--out", out], check=True,
                           capture_output=True)
        else:
            self._bridge(f"{whylogs_bin}:{out}.inspect.json:{out}")
        return out

    @property
    def independent_profiles(self):
        """True when (b) compares two independently built profiles of the same CSV."""
        return self.drift is not None

    def _bridge(self, spec):
        env = dict(os.environ, DRIFT_WHYLOGS_BRIDGE=spec)
        result = subprocess.run(["swift", "test", "--filter", "WhylogsInteropBridge"], cwd=self.package, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"swift test bridge failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


# ---------------------------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help=".csv files (profiled with whylogs here) or whylogs .bin files")
    parser.add_argument("--drift", help="path of the drift CLI (default: the swift test bridge)")
    parser.add_argument("--package", default=os.path.normpath(os.path.join(here, "..", "..")),
                        help="the Driftwatch package directory (for the swift test bridge)")
    parser.add_argument("--keep", help="keep the intermediate files in this directory")
    args = parser.parse_args()

    import pandas as pd
    import whylogs as why

    driftwatch = Driftwatch(os.path.abspath(args.drift) if args.drift else None, args.package)
    work = args.keep or tempfile.mkdtemp(prefix="whylogs-interop-")
    os.makedirs(work, exist_ok=True)
    passed = failed = 0

    def report(label, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {label}")
            for p in problems[:40]:
                print(f"  {p}")
            if len(problems) > 40:
                print(f"  ... {len(problems) - 40} more")
        else:
            passed += 1
            print(f"ok   {label}")

    try:
        for path in args.inputs:
            path = os.path.abspath(path)
            base = os.path.basename(path)
            csv = None
            if path.endswith(".csv"):
                csv = path
                whylogs_bin = os.path.join(work, base + ".whylogs.bin")
                why.log(pd.read_csv(path)).view().write(whylogs_bin)
            else:
                whylogs_bin = path
            whylogs_view = why.read(whylogs_bin).view()
            want = whylogs_columns(whylogs_view)

            # (a) Driftwatch reads whylogs' file exactly as whylogs summarises it.
            try:
                report(f"(a) read {base}", compare_profile(want, driftwatch.inspect(whylogs_bin, work)))
            except Exception as e:  # a crash of one check must not hide the others
                report(f"(a) read {base}", [f"error: {e}"])

            # (b) whylogs reads Driftwatch's file consistently.
            if csv is None and driftwatch.drift:
                continue  # the CLI profiles CSVs only
            try:
                ours = driftwatch.write_whylogs(csv or whylogs_bin, whylogs_bin, work)
                ours_view = why.read(ours).view()
                theirs = whylogs_columns(ours_view)
                problems = compare_profile(theirs, driftwatch.inspect(ours, work))
                # Against whylogs' own profile of the same data (converted to the inspect shape).
                problems += compare_profile(want, {"columns": theirs}, exact=not driftwatch.independent_profiles)
                report(f"(b) whylogs.read(driftwatch's {base})", problems)
            except Exception as e:
                report(f"(b) whylogs.read(driftwatch's {base})", [f"error: {e}"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
