#!/usr/bin/env python3
"""Extra HLL reference cases for Driftwatch's tests, written by Apache DataSketches.

Run with the `datasketches` 5.2.0 Python package (C++ core) from PyPI:
    python3 generate_hll_extra.py > hll_extra_cases.json
Covers what the main vectors (lg k 12/14, n 10/1000/100000) do not: LIST mode, lg k 4..10
and 16, every LIST -> SET -> HLL transition, HLL_4 cur_min shifts and exception tables at
tiny lg k, "start full size" sketches, continuing to update a decoded image, and unions
(down-sampling, LIST/SET inputs into HLL gadgets and back, mixed lg k and types), each
run twice: querying the union after every update, and not querying it until the end.

Images of at most 4 KiB are stored as hex; larger ones as size + CRC-32 (zlib).
Item recipes: {"kind": "int"|"double"|"string", "start": s, "n": n} means one update per
i in range(s, s + n) with the Python int i, float(i) or str(i).
"""
import json, zlib
import datasketches as ds

TYPES = {"HLL_4": ds.tgt_hll_type.HLL_4, "HLL_6": ds.tgt_hll_type.HLL_6, "HLL_8": ds.tgt_hll_type.HLL_8}

def items(recipe):
    kind, start, n = recipe["kind"], recipe["start"], recipe["n"]
    conv = {"int": int, "double": float, "string": str}[kind]
    return [conv(i) for i in range(start, start + n)]

def image(b):
    b = bytes(b)
    if len(b) <= 4096:
        return {"hex": b.hex()}
    return {"size": len(b), "crc32": zlib.crc32(b)}

def answers(s):
    return {
        "estimate": s.get_estimate(),
        "lower_bounds": [s.get_lower_bound(k) for k in (1, 2, 3)],
        "upper_bounds": [s.get_upper_bound(k) for k in (1, 2, 3)],
        "is_empty": s.is_empty(),
        "lg_k": s.lg_config_k,
    }

def build(spec):
    s = ds.hll_sketch(spec["lg_k"], TYPES[spec["tgt_type"]], spec.get("start_full_size", False))
    for x in items(spec["items"]):
        s.update(x)
    if "then" in spec:
        then = spec["then"]
        b = s.serialize_compact() if then["decode"] == "compact" else s.serialize_updatable()
        s = ds.hll_sketch.deserialize(b)
        for x in items(then["items"]):
            s.update(x)
    return s

def sketch_case(spec):
    s = build(spec)
    out = dict(spec)
    out["compact"] = image(s.serialize_compact())
    out["updatable"] = image(s.serialize_updatable())
    out["answers"] = answers(s)
    return out

sketches = []
for lg_k in (4, 5, 7, 8, 10):
    for t in TYPES:
        for n in (1, 7, 8, 9, 24, 25, 26, 100, 1000, 20000):
            if lg_k >= 8 and n > 1000 and t != "HLL_4":
                continue
            kind = ("int", "double", "string")[(lg_k + n) % 3]
            sketches.append({"name": f"lgk{lg_k}_{t}_{kind}_n{n}", "lg_k": lg_k, "tgt_type": t,
                             "items": {"kind": kind, "start": 0, "n": n}})
for t in TYPES:
    sketches.append({"name": f"lgk16_{t}_string_n200000", "lg_k": 16, "tgt_type": t,
                     "items": {"kind": "string", "start": 0, "n": 200000}})
    sketches.append({"name": f"lgk10_{t}_fullsize_empty", "lg_k": 10, "tgt_type": t, "start_full_size": True,
                     "items": {"kind": "int", "start": 0, "n": 0}})
    sketches.append({"name": f"lgk10_{t}_fullsize_n50", "lg_k": 10, "tgt_type": t, "start_full_size": True,
                     "items": {"kind": "int", "start": 0, "n": 50}})
    sketches.append({"name": f"lgk10_{t}_fullsize_n5000", "lg_k": 10, "tgt_type": t, "start_full_size": True,
                     "items": {"kind": "string", "start": 0, "n": 5000}})
    for decode in ("compact", "updatable"):
        for lg_k, n1, n2 in ((8, 3000, 3000), (11, 20, 500), (5, 40000, 40000)):
            sketches.append({"name": f"lgk{lg_k}_{t}_decoded_{decode}_then_update", "lg_k": lg_k, "tgt_type": t,
                             "items": {"kind": "string", "start": 0, "n": n1},
                             "then": {"decode": decode, "items": {"kind": "string", "start": n1, "n": n2}}})

def sk(lg_k, t, kind, start, n, full=False):
    return {"lg_k": lg_k, "tgt_type": t, "start_full_size": full, "items": {"kind": kind, "start": start, "n": n}}

unions = [
    {"name": "downsample_two_hll", "lg_max_k": 10,
     "inputs": [sk(12, "HLL_8", "string", 0, 100000), sk(12, "HLL_8", "string", 100000, 100000)]},
    {"name": "list_then_hll", "lg_max_k": 12, "inputs": [sk(12, "HLL_4", "int", 0, 5), sk(12, "HLL_6", "int", 3, 20000)]},
    {"name": "hll_then_list", "lg_max_k": 12, "inputs": [sk(12, "HLL_6", "int", 3, 20000), sk(12, "HLL_4", "int", 0, 5)]},
    {"name": "set_then_set_promotes", "lg_max_k": 12,
     "inputs": [sk(12, "HLL_4", "string", 0, 300), sk(12, "HLL_8", "string", 200, 300)]},
    {"name": "set_other_lgk_into_empty", "lg_max_k": 12,
     "inputs": [sk(11, "HLL_4", "string", 0, 100), sk(12, "HLL_8", "string", 50, 100)]},
    {"name": "downsample_hll4_then_list", "lg_max_k": 10,
     "inputs": [sk(14, "HLL_4", "string", 0, 50000), sk(10, "HLL_4", "string", 60000, 7)]},
    {"name": "downsample_hll4_then_set", "lg_max_k": 10,
     "inputs": [sk(14, "HLL_4", "double", 0, 50000), sk(12, "HLL_8", "double", 60000, 200)]},
    {"name": "shrink_to_smallest_lgk", "lg_max_k": 8,
     "inputs": [sk(10, "HLL_4", "int", 0, 30000), sk(4, "HLL_6", "int", 1000, 2000), sk(7, "HLL_8", "int", 5000, 9000)]},
    {"name": "mixed_types_and_lgk", "lg_max_k": 12,
     "inputs": [sk(12, "HLL_4", "string", 0, 40000), sk(11, "HLL_6", "string", 20000, 40000),
                sk(13, "HLL_8", "string", 50000, 40000), sk(12, "HLL_4", "string", 0, 3)]},
    {"name": "small_lgk_lists_promote", "lg_max_k": 6,
     "inputs": [sk(6, "HLL_4", "int", 0, 5), sk(6, "HLL_6", "int", 10, 5), sk(6, "HLL_8", "int", 20, 5)]},
    {"name": "hll4_heavy_aux", "lg_max_k": 5,
     "inputs": [sk(5, "HLL_4", "string", 0, 100000), sk(5, "HLL_4", "string", 50000, 100000)]},
    {"name": "single_hll_input_keeps_hip", "lg_max_k": 12, "inputs": [sk(12, "HLL_4", "double", 0, 10000)]},
    {"name": "full_size_inputs", "lg_max_k": 10,
     "inputs": [sk(10, "HLL_8", "int", 0, 50, True), sk(10, "HLL_4", "int", 25, 50, True)]},
]

# Regression cases for unions whose gadget is folded down or merged (added on branch
# sketch-fixes): disjoint inputs, so the true distinct count is the sum of the inputs'.
for t in TYPES:
    unions.append({"name": f"fold_two_disjoint_{t}", "lg_max_k": 10,
                   "inputs": [sk(12, t, "int", 0, 100000), sk(12, t, "int", 100000, 100000)]})
unions += [
    {"name": "fold_four_inputs_90k", "lg_max_k": 10,
     "inputs": [sk(12, "HLL_4", "int", j * 22500, 22500) for j in range(4)]},
    {"name": "lg_max_k_above_inputs", "lg_max_k": 14,
     "inputs": [sk(10, "HLL_4", "string", 0, 50000), sk(12, "HLL_6", "string", 50000, 50000),
                sk(11, "HLL_8", "string", 100000, 50000)]},
    # An HLL input with fewer registers folds the gadget down; the LIST input that follows
    # has the folded gadget's lg k (the library replaces its gadget with it).
    {"name": "fold_gadget_then_list_same_lgk", "lg_max_k": 12,
     "inputs": [sk(12, "HLL_8", "int", 0, 30000), sk(10, "HLL_4", "int", 30000, 30000),
                sk(10, "HLL_6", "int", 60000, 5), sk(12, "HLL_4", "int", 70000, 30000)]},
    {"name": "many_inputs_mixed_modes", "lg_max_k": 11,
     "inputs": [sk((12, 11, 13)[j % 3], ("HLL_4", "HLL_6", "HLL_8")[j % 3 if j % 2 else (j + 1) % 3], "int",
                   j * 100000, (5, 300, 20000, 1)[j % 4]) for j in range(16)]},
    # HLL inputs folded into a LIST/SET gadget: Driftwatch recomputes the folded array's
    # statistics before replaying the gadget's coupons (HIP differs from the library's).
    # The offsets are chosen so that some replayed coupon raises a register.
    {"name": "hll_folded_into_list_gadget", "lg_max_k": 10,
     "inputs": [sk(12, "HLL_4", "int", 60000000, 5), sk(13, "HLL_8", "int", 60001000, 40000)]},
    {"name": "hll_folded_into_set_gadget", "lg_max_k": 10,
     "inputs": [sk(10, "HLL_6", "int", 10000000, 90), sk(14, "HLL_4", "int", 11000000, 50000)]},
]

def union_flow(spec, query_each):
    u = ds.hll_union(spec["lg_max_k"])
    for inp in spec["inputs"]:
        u.update(build(inp))
        if query_each:
            u.get_estimate()
    out = {"results": {}}
    for t in TYPES:
        r = u.get_result(TYPES[t])
        out["results"][t] = {"answers": answers(r)}
        if query_each or t == "HLL_8":
            out["results"][t]["compact"] = image(r.serialize_compact())
            out["results"][t]["updatable"] = image(r.serialize_updatable())
    out["union_answers"] = {"estimate": u.get_estimate(),
                            "lower_bounds": [u.get_lower_bound(k) for k in (1, 2, 3)],
                            "upper_bounds": [u.get_upper_bound(k) for k in (1, 2, 3)]}
    r = u.get_result(ds.tgt_hll_type.HLL_8)
    out["hll8_result_after_final_query"] = {"compact": image(r.serialize_compact()),
                                            "updatable": image(r.serialize_updatable())}
    return out

def union_case(spec):
    out = dict(spec)
    # "query_each": get_estimate() after every update (the query rebuilds the gadget's
    # cur_min/kxq); "no_query": results taken before any query, then the union queried.
    out["query_each"] = union_flow(spec, True)
    out["no_query"] = union_flow(spec, False)
    return out

print(json.dumps({
    "what": "extra HLL reference cases (see generate_hll_extra.py)",
    "datasketches": "5.2.0",
    "sketches": [sketch_case(s) for s in sketches],
    "unions": [union_case(u) for u in unions],
}, indent=1))
