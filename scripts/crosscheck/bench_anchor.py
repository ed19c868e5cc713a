#!/usr/bin/env python3
"""The anchor side of scripts/bench: Apache DataSketches' Python package (C++ core) on the same
data files as Benchmarks/SketchBench, with the same names and best-of-N timing.

KLL has array updates, so its update figures are the C++ loop itself. HLL and frequent items
have only per-item updates from Python; for those a second figure subtracts the cost of an
empty pybind11 method call measured in the same loop shape (`*_core_est`), an estimate of the
C++ core's own per-item cost. The subtracted calls are `get_lower_bound(1)` for HLL and
`get_lower_bound(item)` (a hash probe) for frequent items; both do a little C++ work, so the
estimate errs towards a faster anchor (a conservative ratio for Driftwatch).
"""
import json
import sys
import time

import numpy as np
import datasketches as ds


def best(repeats, body):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def emit(name, ops, seconds):
    print(json.dumps({"name": name, "ops": ops, "seconds": seconds}), flush=True)


def main():
    data, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    doubles = np.fromfile(f"{data}/doubles.f64", dtype="<f8")
    floats = doubles.astype(np.float32)
    with open(f"{data}/strings.txt", encoding="utf-8") as f:
        strings = f.read().split("\n")[:-1]
    with open(f"{data}/zipf.txt", encoding="utf-8") as f:
        zipf = f.read().split("\n")[:-1]
    doubles_list = doubles.tolist()

    def kll_update(values, cls):
        def body():
            sk = cls(200)
            sk.update(values)
        return body

    emit("kll_doubles_update", len(doubles), best(repeats, kll_update(doubles, ds.kll_doubles_sketch)))
    emit("kll_floats_update", len(floats), best(repeats, kll_update(floats, ds.kll_floats_sketch)))
    kll = ds.kll_doubles_sketch(200)
    kll.update(doubles)
    image = kll.serialize()
    rounds = 2000
    emit("kll_doubles_serialize", rounds, best(repeats, lambda: [kll.serialize() for _ in range(rounds)]))
    emit("kll_doubles_deserialize", rounds,
         best(repeats, lambda: [ds.kll_doubles_sketch.deserialize(image) for _ in range(rounds)]))
    part = len(doubles) // 100
    parts = []
    for p in range(100):
        sk = ds.kll_doubles_sketch(200)
        sk.update(doubles[p * part:(p + 1) * part])
        parts.append(sk)

    def kll_merge():
        merged = ds.kll_doubles_sketch(200)
        for sk in parts:
            merged.merge(sk)
    emit("kll_doubles_merge100", 100, best(repeats, kll_merge))
    emit("kll_doubles_quantiles", 1000, best(repeats, lambda: [kll.get_quantile(i / 1000) for i in range(1000)]))

    def per_item(make, values):
        def body():
            sk = make()
            update = sk.update
            for v in values:
                update(v)
        return body

    def call_overhead(make, values):
        # The same loop shape calling a near-free bound method with one argument.
        def body():
            sk = make()
            noop = sk.get_lower_bound
            for _ in values:
                noop(1)
        return body

    hll4 = lambda: ds.hll_sketch(12, ds.tgt_hll_type.HLL_4)
    hll8 = lambda: ds.hll_sketch(12, ds.tgt_hll_type.HLL_8)
    overhead_doubles = best(repeats, call_overhead(hll4, doubles_list))
    overhead_strings = best(repeats, call_overhead(hll4, strings))
    for name, make, values, overhead in (("hll4_doubles_update", hll4, doubles_list, overhead_doubles),
                                         ("hll8_doubles_update", hll8, doubles_list, overhead_doubles),
                                         ("hll4_strings_update", hll4, strings, overhead_strings)):
        seconds = best(repeats, per_item(make, values))
        emit(name, len(values), seconds)
        emit(name + "_core_est", len(values), max(seconds - overhead, 1e-9))
    hll = hll4()
    for s in strings:
        hll.update(s)
    himage = hll.serialize_compact()
    emit("hll4_serialize", rounds, best(repeats, lambda: [hll.serialize_compact() for _ in range(rounds)]))
    emit("hll4_deserialize", rounds, best(repeats, lambda: [ds.hll_sketch.deserialize(himage) for _ in range(rounds)]))
    hparts = []
    for p in range(100):
        sk = hll4()
        for s in strings[p * len(strings) // 100:(p + 1) * len(strings) // 100]:
            sk.update(s)
        hparts.append(sk)

    def hll_union():
        union = ds.hll_union(12)
        for sk in hparts:
            union.update(sk)
        union.get_result(ds.tgt_hll_type.HLL_4)
    emit("hll4_union100", 100, best(repeats, hll_union))

    fi = lambda: ds.frequent_strings_sketch(10)
    for name, values in (("fi_zipf_update", zipf), ("fi_distinct_update", strings)):
        seconds = best(repeats, per_item(fi, values))
        overhead = best(repeats, call_overhead_fi(fi, values))
        emit(name, len(values), seconds)
        emit(name + "_core_est", len(values), max(seconds - overhead, 1e-9))
    sk = fi()
    for s in zipf:
        sk.update(s)
    fimage = sk.serialize()
    frounds = 500
    emit("fi_serialize", frounds, best(repeats, lambda: [sk.serialize() for _ in range(frounds)]))
    emit("fi_deserialize", frounds, best(repeats, lambda: [ds.frequent_strings_sketch.deserialize(fimage) for _ in range(frounds)]))
    fparts = []
    for p in range(100):
        part_sk = fi()
        for s in zipf[p * len(zipf) // 100:(p + 1) * len(zipf) // 100]:
            part_sk.update(s)
        fparts.append(part_sk)

    def fi_merge():
        merged = fi()
        for part_sk in fparts:
            merged.merge(part_sk)
    emit("fi_merge100", 100, best(repeats, fi_merge))


def call_overhead_fi(make, values):
    def body():
        sk = make()
        noop = sk.get_lower_bound  # a lookup taking one string: C++ work ~ a hash probe
        for v in values:
            noop(v)
    return body


if __name__ == "__main__":
    main()
