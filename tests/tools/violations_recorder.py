"""A recording pass-through proxy for `ci/pipeline.sh tools`: the contract suite talks to it, it
forwards every request to Prism (itself a validating proxy in front of the mock) and writes each
answer's `sl-violations` header, Prism's verdict, to a JSON-lines file.

    python tests/tools/violations_recorder.py --upstream http://127.0.0.1:4010 --record FILE
    python tests/tools/violations_recorder.py --check FILE

`--check` fails when any violation is about a response (the mock answered against the spec);
violations about requests are the contract suite's malformed requests, sent on purpose and
refused by the mock with a 400, and are only counted, as are the requests Prism answers itself
(a body that is not JSON: 400 `invalid_json`; some bodies it cannot forward: 501, its issue
#2259); the suite's own verdict on the mock is the `contract-http` step's.

A request whose path or query, decoded, holds a character beyond U+00FF goes straight to the mock
(`--bypass`), not through Prism: Prism 5.14.2 names such a parameter in its `sl-violations`
header, which Node.js refuses ("Invalid character in header content"), and the exception stops
Prism. Those requests (malformed on purpose) are counted as not judged.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


LATIN_1_END = 0xFF


def prism_cannot_name(raw_path: bytes, query: bytes) -> bool:
    """Whether the decoded path or query holds a character Node.js refuses in a header."""
    text = unquote_to_bytes(raw_path + b"?" + query).decode("utf-8", errors="replace")
    return any(ord(char) > LATIN_1_END for char in text)


def recorder_app(upstream: str, record: Path, bypass: str | None = None):
    client = httpx.AsyncClient(timeout=60.0, trust_env=False)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        # the path as sent, still percent-encoded: the suite's probes hold control characters
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        bypassed = bypass is not None and prism_cannot_name(scope["raw_path"], scope["query_string"])
        answer = await client.send(client.build_request(request.method, httpx.URL((bypass if bypassed else upstream) + target),
                                                        headers=headers, content=body))
        violations = None if bypassed else answer.headers.get("sl-violations")
        # Prism answers some requests itself (a body that is not JSON, its issue #2259): no
        # `server` header of the mock's uvicorn then; counted, not judged
        by_prism = not bypassed and answer.headers.get("server") != "uvicorn"
        if violations or by_prism or bypassed:
            with record.open("a", encoding="utf-8") as sink:
                entry = {"method": request.method, "path": request.url.path, "status": answer.status_code,
                         "violations": json.loads(violations) if violations else [], "by_prism": by_prism,
                         "bypassed": bypassed}
                sink.write(json.dumps(entry) + "\n")
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        await Response(answer.content, status_code=answer.status_code, headers=out_headers)(scope, receive, send)

    return app


def response_violations(record: Path) -> tuple[list[dict[str, Any]], int, int, int]:
    """(entries with a violation about the answer, number of request violations, number of
    answers Prism gave itself, number of requests sent past Prism)."""
    bad, requests, by_prism, bypassed = [], 0, 0, 0
    lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
    for line in lines:
        entry = json.loads(line)
        by_prism += entry.get("by_prism", False)
        bypassed += entry.get("bypassed", False)
        about_response = [v for v in entry["violations"] if v.get("location", [""])[0] == "response"]
        requests += len(entry["violations"]) - len(about_response)
        if about_response:
            bad.append({**entry, "violations": about_response})
    return bad, requests, by_prism, bypassed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream")
    parser.add_argument("--record", type=Path)
    parser.add_argument("--check", type=Path)
    parser.add_argument("--bypass", help="the mock's URL, for the requests Prism cannot judge without stopping")
    args = parser.parse_args(argv)
    if args.check:
        bad, requests, by_prism, bypassed = response_violations(args.check)
        print(f"Prism: {len(bad)} answer(s) of the mock with a violation; {requests} violation(s) of requests "
              f"(malformed on purpose); {by_prism} request(s) Prism answered itself; {bypassed} request(s) "
              "sent past Prism (names it cannot put in a header)")
        for entry in bad[:20]:
            print(f"  {entry['method']} {entry['path']} -> {entry['status']}: {json.dumps(entry['violations'])[:400]}")
        return 1 if bad else 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"recorder listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(recorder_app(args.upstream, args.record, args.bypass), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
