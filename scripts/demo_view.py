"""Pretty-prints the API answers scripts/demo reads (JSON on standard input)."""
import json
import sys


def drift():
    r = json.load(sys.stdin)
    d = r["dataset_drift"]
    print(f"  dataset drift: {d['drift']} ({d['drifted_columns']} of {d['evaluated_columns']} columns)")
    for name in r["ranking"][:5]:
        c = r["columns"][name]
        method = c["method"] or "-"
        value = c["metrics"].get(c["method"] or "", {}).get("value", float("nan"))
        print(f"    {name:28} {c['status']:8} {method:18} {value:.3f}")
    for k, v in r.get("performance", {}).get("metrics", {}).items():
        if k in ("accuracy", "f1_macro", "roc_auc") and v["reference"] is not None and v["target"] is not None:
            print(f"  {k}: reference {v['reference']:.3f}, analysis {v['target']:.3f}")


def series():
    for p in json.load(sys.stdin)["points"]:
        if p["window_start"][8:10] == "01":
            print(f"    {p['window_start'][:10]}  {p['value']:.2f}  " + "#" * round(p["value"] * 40))


def count():
    print(len(json.load(sys.stdin)["points"]))


def value():
    points = json.load(sys.stdin)["points"]
    print(f"{points[0]['value']:.3f}" if points else "-")


def alerts():
    listed = json.load(sys.stdin)["alerts"]
    if not listed:
        print("  none")
    for a in listed:
        muted = f" (silenced by {', '.join(map(str, a['silencedBy']))})" if a.get("silencedBy") else ""
        print(f"  {a['status']}{muted}: {a['annotations'].get('summary', a['rule'])}")


{"drift": drift, "series": series, "count": count, "value": value, "alerts": alerts}[sys.argv[1]]()
