#!/usr/bin/env python3
"""Cross-checks Driftwatch's sketches against Apache DataSketches (Python, C++ core), both ways.

1. Images written by the reference library (KLL past many compactions, merges, every HLL type
   and mode, compact and updatable, unions, frequent items with purges) are read by
   `drift sketch inspect --json`, whose answers must equal the library's own.
2. Images written by Driftwatch (`drift sketch build` / `drift sketch merge`) are read by the
   library, whose answers must equal `drift sketch inspect --json`; where the library's
   construction is deterministic (HLL, frequent items, KLL with n <= k) the bytes must be
   identical to the library's image built from the same input.

Prints one line per failed check and a closing `N passed, M failed` line; exits 1 on failure.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import datasketches as ds

RANKS = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]
passed = 0
failed = []


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failed.append(what)
        print(f"FAIL {what}", flush=True)


def close(a, b, rel=1e-12):
    if a == b:
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b))


class Drift:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.counter = 0

    def path(self, name):
        self.counter += 1
        return os.path.join(self.workdir, f"{self.counter:03d}_{name}")

    def run(self, *args, stdin=None):
        proc = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"drift {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def inspect(self, path, *extra):
        return json.loads(self.run("sketch", "inspect", path, "--json", *extra))

    def build(self, family, lines, name, *extra):
        out = self.path(name)
        self.run("sketch", "build", "--family", family, "--out", out, *extra, stdin="\n".join(lines) + "\n")
        with open(out, "rb") as f:
            return out, f.read()

    def merge(self, paths, name):
        out = self.path(name)
        self.run("sketch", "merge", *paths, "--out", out)
        with open(out, "rb") as f:
            return out, f.read()

    def write(self, data, name):
        out = self.path(name)
        with open(out, "wb") as f:
            f.write(data)
        return out


def num(x):
    """JSON numbers and the strings NaN/Infinity/-Infinity as floats."""
    if isinstance(x, str):
        return float(x.replace("Infinity", "inf"))
    return x


# ----------------------------------------------------------------------------------------- KLL

def compare_kll(name, sk, js, inclusive=False, ranks=RANKS):
    check(js["family"] == "kll", f"{name}: family {js['family']}")
    check(js["n"] == sk.n, f"{name}: n {js['n']} != {sk.n}")
    check(js["k"] == sk.k, f"{name}: k {js['k']} != {sk.k}")
    check(js["num_retained"] == sk.num_retained, f"{name}: num_retained {js['num_retained']} != {sk.num_retained}")
    check(js["is_empty"] == sk.is_empty(), f"{name}: is_empty")
    if sk.is_empty():
        check(js["min"] is None and js["max"] is None, f"{name}: empty min/max not null")
        return
    check(num(js["min"]) == sk.get_min_value(), f"{name}: min {js['min']} != {sk.get_min_value()}")
    check(num(js["max"]) == sk.get_max_value(), f"{name}: max {js['max']} != {sk.get_max_value()}")
    check(close(js["normalized_rank_error"], sk.normalized_rank_error(False)),
          f"{name}: normalized rank error {js['normalized_rank_error']} != {sk.normalized_rank_error(False)}")
    for r in ranks:
        key = json_rank_key(r)
        ours = num(js["quantiles"][key])
        theirs = sk.get_quantile(r, inclusive)
        check(ours == theirs, f"{name}: quantile({r}, inclusive={inclusive}) {ours} != {theirs}")


def json_rank_key(r):
    return str(int(r)) if r == int(r) else repr(r)


def kll_library_to_drift(drift, rng):
    cases = []
    for cls, label in ((ds.kll_doubles_sketch, "doubles"), (ds.kll_floats_sketch, "floats")):
        for k, n in ((200, 0), (200, 1), (200, 150), (200, 1_000_000), (20, 50_000), (1000, 300_000)):
            sk = cls(k)
            values = [rng.gauss(10, 3) for _ in range(n)] if n < 100_000 else None
            if values is not None:
                for v in values:
                    sk.update(v)
            else:
                import numpy as np
                sk.update(np.random.default_rng(n + k).lognormal(size=n).astype("float64" if label == "doubles" else "float32"))
            cases.append((f"library kll {label} k={k} n={n}", sk))
        a, b = cls(200), cls(100)
        for i in range(70_000):
            a.update(rng.random())
            b.update(rng.random() * 2 + 0.5)
        a.merge(b)
        cases.append((f"library kll {label} merged k=200+k=100", a))
    for name, sk in cases:
        path = drift.write(sk.serialize(), "kll.bin")
        compare_kll(name, sk, drift.inspect(path))
        compare_kll(name + " inclusive", sk, drift.inspect(path, "--inclusive"), inclusive=True)
        js = drift.inspect(path, "--ranks", "0.001,0.333,0.999")
        compare_kll(name + " custom ranks", sk, js, ranks=[0.001, 0.333, 0.999])
        if not sk.is_empty():
            check(js["min_k"] == min(sk.k, 100) if "merged" in name else js["min_k"] == sk.k, f"{name}: min_k {js['min_k']}")


def kll_drift_to_library(drift, rng):
    for family, cls in (("kll-doubles", ds.kll_doubles_sketch), ("kll-floats", ds.kll_floats_sketch)):
        for k, n in ((200, 0), (200, 1), (200, 200), (200, 250_000), (20, 10_000)):
            values = [repr(rng.uniform(-1e3, 1e3)) for _ in range(n)]
            path, image = drift.build(family, values, "kll.bin", "--k", str(k))
            theirs = cls.deserialize(image)
            name = f"drift {family} k={k} n={n}"
            check(theirs.serialize() == image, f"{name}: library re-serialization differs from Driftwatch's bytes")
            compare_kll(name, theirs, drift.inspect(path))
            if n <= k:
                ref = cls(k)
                for v in values:
                    ref.update(float(v))
                check(ref.serialize() == image, f"{name}: bytes differ from the library's image of the same input")
        parts = []
        for k in (200, 50):
            values = [repr(rng.expovariate(1.0)) for _ in range(120_000)]
            parts.append(drift.build(family, values, "kll_part.bin", "--k", str(k))[0])
        path, image = drift.merge(parts, "kll_merged.bin")
        theirs = cls.deserialize(image)
        compare_kll(f"drift {family} merged k=200+k=50", theirs, drift.inspect(path))


# ----------------------------------------------------------------------------------------- HLL

HLL_TYPES = {4: ds.tgt_hll_type.HLL_4, 6: ds.tgt_hll_type.HLL_6, 8: ds.tgt_hll_type.HLL_8}


def compare_hll(name, sk, js, compact):
    check(js["family"] == "hll", f"{name}: family")
    check(js["lg_k"] == sk.lg_config_k, f"{name}: lg_k {js['lg_k']} != {sk.lg_config_k}")
    check(js["target_type"] == str(sk.tgt_type).split(".")[-1], f"{name}: target_type {js['target_type']} != {sk.tgt_type}")
    check(js["compact"] == compact, f"{name}: compact flag {js['compact']}")
    check(close(js["estimate"], sk.get_estimate()), f"{name}: estimate {js['estimate']} != {sk.get_estimate()}")
    for s in (1, 2, 3):
        lo, hi = js["lower_bound"][str(s)], js["upper_bound"][str(s)]
        check(close(lo, sk.get_lower_bound(s)), f"{name}: lower bound {s}σ {lo} != {sk.get_lower_bound(s)}")
        check(close(hi, sk.get_upper_bound(s)), f"{name}: upper bound {s}σ {hi} != {sk.get_upper_bound(s)}")


def hll_items(kind, n, offset=0):
    if kind == "string":
        return [f"user-{i + offset}" for i in range(n)], lambda s: s
    if kind == "int":
        return [str((i + offset) * 7919 - 500_000) for i in range(n)], int
    return [repr((i + offset) * 0.37 - 1000.5) for i in range(n)], float


def hll_library_to_drift(drift):
    for lg_k in (4, 10, 12, 14, 21):
        for t, tgt in HLL_TYPES.items():
            for n in (0, 5, 300, 40_000):
                if lg_k == 21 and n not in (0, 40_000):
                    continue
                sk = ds.hll_sketch(lg_k, tgt)
                items, conv = hll_items("string", n)
                for it in items:
                    sk.update(conv(it))
                for compact in (True, False):
                    image = sk.serialize_compact() if compact else sk.serialize_updatable()
                    path = drift.write(bytes(image), "hll.bin")
                    compare_hll(f"library hll lg_k={lg_k} HLL_{t} n={n} compact={compact}", sk, drift.inspect(path), compact)
    for t, tgt in HLL_TYPES.items():
        union = ds.hll_union(13)
        for lg_k, offset in ((12, 0), (14, 20_000), (13, 35_000)):
            part = ds.hll_sketch(lg_k, tgt)
            for i in range(30_000):
                part.update(i + offset)
            union.update(part)
        result = union.get_result(tgt)
        for compact in (True, False):
            image = result.serialize_compact() if compact else result.serialize_updatable()
            path = drift.write(bytes(image), "hll_union.bin")
            compare_hll(f"library hll union result HLL_{t} compact={compact}", result, drift.inspect(path), compact)


def hll_drift_to_library(drift):
    for t, tgt in HLL_TYPES.items():
        for kind in ("string", "int", "double"):
            for lg_k, n in ((12, 6), (12, 200), (12, 60_000), (14, 5_000), (10, 100_000)):
                items, conv = hll_items(kind, n)
                ref = ds.hll_sketch(lg_k, tgt)
                for it in items:
                    ref.update(conv(it))
                for compact in (True, False):
                    extra = ["--lg-k", str(lg_k), "--hll-type", str(t), "--item-type", kind]
                    if not compact:
                        extra.append("--updatable")
                    path, image = drift.build("hll", items, "hll.bin", *extra)
                    name = f"drift hll lg_k={lg_k} HLL_{t} {kind} n={n} compact={compact}"
                    want = ref.serialize_compact() if compact else ref.serialize_updatable()
                    check(bytes(want) == image, f"{name}: bytes differ from the library's image of the same input")
                    theirs = ds.hll_sketch.deserialize(image)
                    compare_hll(name, theirs, drift.inspect(path), compact)
        parts = []
        for lg_k, offset in ((12, 0), (11, 50_000)):
            items, _ = hll_items("string", 80_000, offset)
            parts.append(drift.build("hll", items, "hll_part.bin", "--lg-k", str(lg_k), "--hll-type", str(t))[0])
        path, image = drift.merge(parts, "hll_merged.bin")
        theirs = ds.hll_sketch.deserialize(image)
        compare_hll(f"drift hll merged HLL_{t}", theirs, drift.inspect(path), True)
        truth = 130_000
        check(abs(theirs.get_estimate() - truth) / truth < 0.05, f"drift hll merged HLL_{t}: estimate far from {truth}")

        # Three disjoint parts whose middle one folds the union's gadget down: the third must
        # not replace it. The library's union, queried after every update (a query rebuilds
        # its folded gadget's statistics; unqueried it would drop the first two parts), gives
        # the same result image byte for byte.
        specs = ((12, 0), (10, 100_000), (12, 200_000))
        parts, union = [], ds.hll_union(12)
        for lg_k, offset in specs:
            items, conv = hll_items("int", 60_000, offset)
            parts.append(drift.build("hll", items, "hll_part.bin", "--lg-k", str(lg_k), "--hll-type", str(t),
                                     "--item-type", "int")[0])
            part = ds.hll_sketch(lg_k, tgt)
            for it in items:
                part.update(conv(it))
            union.update(part)
            union.get_estimate()
        path, image = drift.merge(parts, "hll_merged3.bin")
        want = bytes(union.get_result(tgt).serialize_compact())
        name = f"drift hll merged three folded parts HLL_{t}"
        if t == 8:
            # An HLL_8 result after a library query carries the rebuilt cur_min/num_at_cur_min;
            # Driftwatch's result is the unqueried image (docs/formats.md): compare registers.
            check(bytes(image)[40:] == want[40:], f"{name}: registers differ from the library's")
        else:
            check(bytes(image) == want, f"{name}: bytes differ from the library's union queried after every update")
        theirs = ds.hll_sketch.deserialize(image)
        compare_hll(name, theirs, drift.inspect(path), True)
        truth = 180_000
        check(theirs.get_lower_bound(3) <= truth <= theirs.get_upper_bound(3), f"{name}: {theirs.get_estimate()} vs {truth}")


# ------------------------------------------------------------------------------ frequent items

def zipf_stream(rng, n, universe=5000, s=1.1):
    weights = [1 / (i + 1) ** s for i in range(universe)]
    return [f"item-{i}" for i in rng.choices(range(universe), weights=weights, k=n)]


UNTRACKED = "\x00drift-crosscheck-untracked\x00"


def fi_rows(sk, err):
    return {(r[0], r[1], r[2], r[3]) for r in sk.get_frequent_items(err)}


def compare_fi(name, sk, js, err):
    check(js["family"] == "frequent_items", f"{name}: family")
    check(js["total_weight"] == sk.total_weight, f"{name}: total_weight {js['total_weight']} != {sk.total_weight}")
    # The binding has no maximum-error accessor: an untracked item's upper bound is the offset.
    max_error = sk.get_upper_bound(UNTRACKED)
    check(js["maximum_error"] == max_error, f"{name}: maximum_error {js['maximum_error']} != {max_error}")
    check(js["num_active"] == sk.num_active_items, f"{name}: num_active {js['num_active']} != {sk.num_active_items}")
    check(close(js["epsilon"], sk.epsilon), f"{name}: epsilon {js['epsilon']} != {sk.epsilon}")
    ours = {(r["item"], r["estimate"], r["lower_bound"], r["upper_bound"]) for r in js["items"]}
    theirs = fi_rows(sk, err)
    check(ours == theirs, f"{name}: frequent items ({err}) differ in {len(ours ^ theirs)} rows")
    estimates = [r["estimate"] for r in js["items"]]
    check(estimates == sorted(estimates, reverse=True), f"{name}: items not sorted by estimate")


def fi_both_error_types(drift, name, sk, path):
    compare_fi(name, sk, drift.inspect(path), ds.frequent_items_error_type.NO_FALSE_POSITIVES)
    compare_fi(name + " (no false negatives)", sk, drift.inspect(path, "--error-type", "no-false-negatives"),
               ds.frequent_items_error_type.NO_FALSE_NEGATIVES)


def fi_library_to_drift(drift, rng):
    for lg in (3, 5, 8, 10):
        sk = ds.frequent_strings_sketch(lg)
        for it in zipf_stream(rng, 50_000):
            sk.update(it)
        path = drift.write(sk.serialize(), "fi.bin")
        fi_both_error_types(drift, f"library fi lg={lg} zipf", sk, path)
    weighted = ds.frequent_strings_sketch(6)
    for i in range(3000):
        weighted.update(f"w{i % 400}", rng.randint(1, 1000))
    other = ds.frequent_strings_sketch(6)
    for it in zipf_stream(rng, 20_000):
        other.update(it, 3)
    weighted.merge(other)
    path = drift.write(weighted.serialize(), "fi_merged.bin")
    fi_both_error_types(drift, "library fi weighted merged", weighted, path)
    empty = ds.frequent_strings_sketch(5)
    fi_both_error_types(drift, "library fi empty", empty, drift.write(empty.serialize(), "fi_empty.bin"))


def fi_drift_to_library(drift, rng):
    for lg in (4, 6, 10):
        stream = zipf_stream(rng, 60_000)
        path, image = drift.build("frequent-strings", stream, "fi.bin", "--lg-max-map-size", str(lg))
        ref = ds.frequent_strings_sketch(lg)
        for it in stream:
            ref.update(it)
        name = f"drift fi lg={lg} zipf"
        check(ref.serialize() == image, f"{name}: bytes differ from the library's image of the same input")
        theirs = ds.frequent_strings_sketch.deserialize(image)
        fi_both_error_types(drift, name, theirs, path)
    lines, ref = [], ds.frequent_strings_sketch(5)
    for i in range(5000):
        item, w = f"é-{rng.randint(0, 300)}", rng.randint(1, 50)
        lines.append(f"{item}\t{w}")
        ref.update(item, w)
    path, image = drift.build("frequent-strings", lines, "fi_weighted.bin", "--lg-max-map-size", "5")
    check(ref.serialize() == image, "drift fi weighted: bytes differ from the library's image of the same input")
    other_path, _ = drift.build("frequent-strings", zipf_stream(rng, 30_000), "fi_other.bin", "--lg-max-map-size", "5")
    merged_path, merged = drift.merge([path, other_path], "fi_merged.bin")
    theirs = ds.frequent_strings_sketch.deserialize(merged)
    fi_both_error_types(drift, "drift fi weighted merged", theirs, merged_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drift", required=True, help="path of the drift executable")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"sketch cross-check, seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="drift-crosscheck-") as work:
        drift = Drift(args.drift, work)
        for step in (lambda: kll_library_to_drift(drift, rng), lambda: kll_drift_to_library(drift, rng),
                     lambda: hll_library_to_drift(drift), lambda: hll_drift_to_library(drift),
                     lambda: fi_library_to_drift(drift, rng), lambda: fi_drift_to_library(drift, rng)):
            try:
                step()
            except Exception as error:  # a crash of one step is a failure, the others still run
                check(False, f"cross-check step raised: {error}")
    print(f"sketches: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
