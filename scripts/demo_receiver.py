"""A webhook receiver for scripts/demo: prints each notification Driftwatch sends and checks
its HMAC-SHA256 signature (X-Drift-Signature over timestamp + "." + body)."""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, SECRET, LOG = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        timestamp = self.headers.get("X-Drift-Timestamp", "")
        expected = "sha256=" + hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, self.headers.get("X-Drift-Signature", ""))
        self.send_response(200 if signed else 401)
        self.end_headers()
        n = json.loads(body)
        with open(LOG, "a") as log:
            for a in n["alerts"]:
                line = (f"  webhook received: {n['status'].upper():8} {a['rule']} "
                        f"{a['labels'].get('column', '')} = {a['value']:.3f} (threshold {a['threshold']}) "
                        f"window {a['window_start'][:10]}  signature {'ok' if signed else 'BAD'}  "
                        f"dedup {self.headers.get('X-Drift-Dedup-Key')}")
                print(line, flush=True)
                log.write(line + "\n")

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
