"""A recording pass-through proxy for `ci/pipeline.sh tools`: the contract suite talks to it, it
forwards every request to Prism (itself a validating proxy in front of the mock) and writes each
exchange with its `sl-violations` header, Prism's verdict, to a JSON-lines file.

    python tests/tools/violations_recorder.py --upstream http://127.0.0.1:4010 --record FILE
    python tests/tools/violations_recorder.py --check FILE [--junit REPORT.xml] [--prism-stopped]

`--check` fails when any violation is about a response (the mock answered against the spec),
when no answer was judged at all, or with `--prism-stopped` (Prism exited before the run ended);
`--junit` writes that verdict as a JUnit report: one test case per operation, failed by the
answers Prism found against the spec;
violations about requests are the contract suite's malformed requests, sent on purpose and
refused by the mock with a 400, and are only counted, as are the requests Prism answers itself
(a body that is not JSON: 400 `invalid_json`; some bodies it cannot forward: 501, its issue
#2259); the suite's own verdict on the mock is the `contract-http` step's.

A request whose path, query or body, decoded, holds a character beyond U+00FF goes straight to the
mock (`--bypass`), not through Prism: Prism 5.14.2 names such a parameter or body field in its
`sl-violations` header, which Node.js refuses ("Invalid character in header content"), and the
exception stops Prism. Those requests (malformed on purpose) are counted as not judged.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


LATIN_1_END = 0xFF


def prism_cannot_name(raw_path: bytes, query: bytes, body: bytes = b"") -> bool:
    """Whether the decoded path, query or body holds a character Node.js refuses in a header (a
    body's key or value that Prism names in a violation of a malformed request stops it too)."""
    text = unquote_to_bytes(raw_path + b"?" + query).decode("utf-8", errors="replace")
    if any(ord(char) > LATIN_1_END for char in text):
        return True
    try:  # JSON escapes (\uXXXX) name such characters as well
        decoded = json.dumps(json.loads(body), ensure_ascii=False) if body else ""
    except ValueError:
        decoded = body.decode("utf-8", errors="replace")
    return any(ord(char) > LATIN_1_END for char in decoded)


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
        bypassed = bypass is not None and prism_cannot_name(scope["raw_path"], scope["query_string"], body)
        answer = await client.send(client.build_request(request.method, httpx.URL((bypass if bypassed else upstream) + target),
                                                        headers=headers, content=body))
        violations = None if bypassed else answer.headers.get("sl-violations")
        # Prism answers some requests itself (a body that is not JSON, its issue #2259): no
        # `server` header of the mock's uvicorn then; counted, not judged
        by_prism = not bypassed and answer.headers.get("server") != "uvicorn"
        # every exchange, so that the report counts the answers judged clean too
        with record.open("a", encoding="utf-8") as sink:
            entry = {"method": request.method, "path": request.url.path, "status": answer.status_code,
                     "violations": json.loads(violations) if violations else [], "by_prism": by_prism,
                     "bypassed": bypassed}
            sink.write(json.dumps(entry) + "\n")
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        await Response(answer.content, status_code=answer.status_code, headers=out_headers)(scope, receive, send)

    return app


def entries(record: Path) -> list[dict[str, Any]]:
    lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
    return [json.loads(line) for line in lines]


def about_responses(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in entry["violations"] if v.get("location", [""])[0] == "response"]


def operation_of(entry: dict[str, Any]) -> str:
    """`METHOD /v2/<segment>/<verb>`: the path without the id, which every answer has its own of."""
    return f"{entry['method']} {'/'.join(entry['path'].split('/')[:4])}"


def junit_report(record: Path, prism_stopped: bool) -> ET.ElementTree:
    """Prism's verdict as JUnit: per operation, the answers it judged (not those it gave itself
    or never saw) and a failure listing those against the spec; one more case for Prism's run."""
    judged: dict[str, list[dict[str, Any]]] = {}
    for entry in entries(record):
        if not entry.get("by_prism") and not entry.get("bypassed"):
            judged.setdefault(operation_of(entry), []).append(entry)
    suite = ET.Element("testsuite", name="prism-proxy")
    for operation, answers in sorted(judged.items()):
        case = ET.SubElement(suite, "testcase", classname="prism", name=operation)
        bad = [entry for entry in answers if about_responses(entry)]
        ET.SubElement(case, "system-out").text = f"{len(answers)} answer(s) judged by Prism"
        if bad:
            failure = ET.SubElement(case, "failure", message=f"{len(bad)} of {len(answers)} answer(s) against the spec")
            failure.text = "\n".join(f"{e['method']} {e['path']} -> {e['status']}: {json.dumps(about_responses(e))}"
                                      for e in bad)
    run = ET.SubElement(suite, "testcase", classname="prism", name="Prism judged the whole run")
    if prism_stopped:
        ET.SubElement(run, "failure", message="Prism exited before the contract suite ended")
    elif not judged:
        ET.SubElement(run, "failure", message="no answer of the mock went through Prism")
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", "0")
    return ET.ElementTree(suite)


def response_violations(record: Path) -> tuple[list[dict[str, Any]], int, int, int]:
    """(entries with a violation about the answer, number of request violations, number of
    answers Prism gave itself, number of requests sent past Prism)."""
    bad, requests, by_prism, bypassed = [], 0, 0, 0
    for entry in entries(record):
        by_prism += entry.get("by_prism", False)
        bypassed += entry.get("bypassed", False)
        about_response = about_responses(entry)
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
    parser.add_argument("--junit", type=Path, help="with --check: write the verdict as a JUnit report")
    parser.add_argument("--prism-stopped", action="store_true", help="with --check: Prism exited before the run ended")
    args = parser.parse_args(argv)
    if args.check:
        report = junit_report(args.check, args.prism_stopped)
        if args.junit:
            report.write(args.junit, encoding="utf-8", xml_declaration=True)
        bad, requests, by_prism, bypassed = response_violations(args.check)
        print(f"Prism: {len(bad)} answer(s) of the mock with a violation; {requests} violation(s) of requests "
              f"(malformed on purpose); {by_prism} request(s) Prism answered itself; {bypassed} request(s) "
              "sent past Prism (names it cannot put in a header)")
        for entry in bad[:20]:
            print(f"  {entry['method']} {entry['path']} -> {entry['status']}: {json.dumps(entry['violations'])[:400]}")
        failures = int(report.getroot().get("failures", "0"))
        if failures and not bad:
            print("Prism did not judge the whole run (see the report's last test case)")
        return 1 if failures else 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"recorder listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(recorder_app(args.upstream, args.record, args.bypass), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
