"""After a fuzz run: the mock still answers every resource's index and its state export with 200.

    python ci/check_mock_serves.py BASE_URL TOKEN

The resources are the `/v2/<segment>/index` paths of the spec the mock serves (`/openapi.json`),
so this list never drifts from the spec. Each index gets `{}`; the export is `GET /__mock/state`.
Exits 1 naming every call that did not answer 200 (a fuzzer can leave a value stored that later
breaks reads: the run's own checks only see the answers to its own requests).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request

INDEX_PATH = re.compile(r"^/v2/([a-z-]+)/index$")
TIMEOUT_S = 60.0
EXCERPT_CHARS = 300


def answer(method: str, url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def index_paths(base_url: str) -> list[str]:
    status, body = answer("GET", f"{base_url}/openapi.json")
    if status != 200:
        raise SystemExit(f"GET /openapi.json answered {status}")
    paths = sorted(path for path in json.loads(body)["paths"] if INDEX_PATH.match(path))
    if not paths:
        raise SystemExit("the served spec has no /v2/<segment>/index path")
    return paths


def failures(base_url: str, token: str) -> list[str]:
    calls = [("POST", path, token, b"{}") for path in index_paths(base_url)]
    calls.append(("GET", "/__mock/state", None, None))
    failed = []
    for method, path, call_token, body in calls:
        try:
            status, payload = answer(method, f"{base_url}{path}", call_token, body)
        except OSError as error:  # the server died or hangs: say so rather than a traceback
            failed.append(f"{method} {path}: no answer ({error})")
            continue
        verdict = "ok" if status == 200 else "FAILED"
        print(f"  {verdict:<6} {status} {method} {path}")
        if status != 200:
            failed.append(f"{method} {path} answered {status}: {payload[:EXCERPT_CHARS].decode(errors='replace')}")
    return failed


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    failed = failures(argv[1].rstrip("/"), argv[2])
    for line in failed:
        print(f"mock broken after the run: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
