#!/usr/bin/env python3
"""Profile a pandas DataFrame with whylogs and upload the profile to a Driftwatch server.

    python upload.py --server http://127.0.0.1:8080 --token "$DRIFT_TOKEN" [--csv data.csv]

The profile is a standard whylogs v1 ``.bin``; Driftwatch reads it as is. Three metadata keys
tell Driftwatch what whylogs has no field for: the model name, the window length and the upload
id (sent again as ``Idempotency-Key``, so a retried upload is stored once). The HTTP contract:
``POST /v1/profiles`` answers ``202 {"id": ..., "duplicate": bool}`` or
``{"error": {"code": ..., "message": ...}}``.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

import numpy as np
import pandas as pd
import whylogs as why


def sample_frame(rows: int, seed: int) -> pd.DataFrame:
    """A small synthetic inference log: features, a prediction and the ground truth."""
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.0, 1.0, rows)
    return pd.DataFrame(
        {
            "amount": amount,
            "country": rng.choice(["DE", "FR", "US", "BR"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "new_user": rng.random(rows) < 0.2,
            "score": np.clip(amount / 100 + rng.normal(0, 0.1, rows), 0, 1),
        }
    )


def profile_bytes(frame: pd.DataFrame, model: str, window: dt.timedelta, upload_id: str) -> bytes:
    """Profiles `frame` with whylogs; returns the serialized v1 profile."""
    now = dt.datetime.now(dt.timezone.utc)
    window_start = dt.datetime.fromtimestamp(
        now.timestamp() // window.total_seconds() * window.total_seconds(), dt.timezone.utc
    )
    profile = why.log(frame).profile()
    profile.set_dataset_timestamp(window_start)
    profile.metadata.update(
        {
            "driftwatch.model": model,
            "driftwatch.window_ms": str(int(window.total_seconds() * 1000)),
            "driftwatch.upload_id": upload_id,
        }
    )
    return profile.view().serialize()


def upload(server: str, token: str | None, body: bytes, upload_id: str, retries: int = 3) -> dict:
    """POSTs the profile; retries network errors, 5xx and 429 (honouring Retry-After)."""
    url = server.rstrip("/") + "/v1/profiles"
    headers = {"Content-Type": "application/octet-stream", "Idempotency-Key": upload_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = text[:200]
            retryable = error.code in (408, 429) or error.code >= 500
            if not retryable or attempt == retries:
                raise SystemExit(f"upload failed: HTTP {error.code}: {message}")
            retry_after = error.headers.get("Retry-After", "")
            delay = float(retry_after) if retry_after.isdigit() else 0  # HTTP-dates: use the backoff
        except urllib.error.URLError as error:
            if attempt == retries:
                raise SystemExit(f"upload failed: {error.reason}")
            delay = 0
        time.sleep(max(delay, min(30, 0.5 * 2**attempt)))
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="Driftwatch base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", default=os.environ.get("DRIFT_TOKEN"), help="ingest token (default: $DRIFT_TOKEN)")
    parser.add_argument("--model", default="fraud")
    parser.add_argument("--csv", help="profile this CSV instead of a synthetic frame")
    parser.add_argument("--window-minutes", type=int, default=60)
    parser.add_argument("--out", default="profile.bin", help="where to keep a copy of the profile")
    args = parser.parse_args()

    frame = pd.read_csv(args.csv) if args.csv else sample_frame(1000, seed=7)
    upload_id = str(uuid.uuid4())
    body = profile_bytes(frame, args.model, dt.timedelta(minutes=args.window_minutes), upload_id)
    with open(args.out, "wb") as f:
        f.write(body)
    answer = upload(args.server, args.token, body, upload_id)
    print(f"{args.out}: {len(frame)} rows, {len(body)} bytes -> id={answer.get('id')} duplicate={answer.get('duplicate')}")


if __name__ == "__main__":
    sys.exit(main())
