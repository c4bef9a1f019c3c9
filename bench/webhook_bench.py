"""Create/update throughput of certificates with a dead webhook receiver against none (not a test).

Starts the mock three times, one after another with the same settings: no `--webhook-url`, a
`--webhook-url` on a closed loopback port (every delivery is refused and retried, the queue
fills and overflows), and a live local receiver. Each run drives `--threads` clients, each on one
keep-alive connection, alternating `POST /v2/certificate/create` and `PUT /v2/certificate/update/{id}`
for `--duration` seconds, and prints writes/s, p50/p99 and the ratio to the run without receiver
(best of `--rounds` interleaved rounds).

    python bench/webhook_bench.py [--duration 10] [--threads 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run_bench import TOKEN, call, cpu_seconds, mock_argv, start_server, stop_server  # noqa: E402

CERTIFICATE = {"date_release": "2026-01-01", "name": "Bench", "action_type": "TRAINING",
               "resource_id": "e3a1f5d2-8c4b-4e7a-9f6d-2b1c3d4e5f6a",
               "tenant_id": "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01"}
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def live_receiver() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def drive(base_url: str, duration_s: float, latencies: list[float], lock: threading.Lock) -> None:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    mine: list[float] = []
    certificate_id = None
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        started = time.perf_counter()
        if certificate_id is None:
            connection.request("POST", "/v2/certificate/create", json.dumps(CERTIFICATE), HEADERS)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 201, body
            certificate_id = json.loads(body)["certificate_id"]
        else:
            connection.request("PUT", f"/v2/certificate/update/{certificate_id}",
                               json.dumps({"name": f"Bench {len(mine)}"}), HEADERS)
            response = connection.getresponse()
            assert response.status == 200, response.read()
            response.read()
            certificate_id = None
        mine.append(time.perf_counter() - started)
    connection.close()
    with lock:
        latencies.extend(mine)


def run(name: str, extra: list[str], duration_s: float, threads: int) -> dict[str, Any]:
    server = start_server(name, mock_argv(["--today", "2026-06-15", *extra]))
    try:
        latencies: list[float] = []
        lock = threading.Lock()
        cpu_before = cpu_seconds(server.pid)
        workers = [threading.Thread(target=drive, args=(server.base_url, duration_s, latencies, lock)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        cpu = cpu_seconds(server.pid) - cpu_before
        status, hooks, _ = call("GET", f"{server.base_url}/__mock/webhooks")
        assert status == 200
        latencies.sort()
        return {"name": name, "writes_per_s": len(latencies) / duration_s,
                "p50_ms": statistics.median(latencies) * 1000,
                "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000, "counts": hooks["counts"],
                "cpu_ms_per_write": cpu * 1000 / len(latencies)}
    finally:
        stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of the three runs, interleaved; the best of each is shown (default 2)")
    args = parser.parse_args()
    receiver = live_receiver()
    settings = {
        "no receiver": [],
        "dead receiver": ["--webhook-url", closed_port_url()],
        "live receiver": ["--webhook-url", f"http://127.0.0.1:{receiver.server_address[1]}/hooks"],
    }
    best: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(args.rounds):  # interleaved: a shared machine's load shifts over minutes
            for name, extra in settings.items():
                result = run(name, extra, args.duration, args.threads)
                if name not in best or result["writes_per_s"] > best[name]["writes_per_s"]:
                    best[name] = result
    finally:
        receiver.shutdown()
    runs = list(best.values())
    base = runs[0]["writes_per_s"]
    print(f"certificate create/update, {args.threads} clients, {args.duration:g} s per run, best of {args.rounds}")
    print(f"{'receiver':<15}{'writes/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>7}{'CPU ms/write':>14}  deliveries")
    for result in runs:
        counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items() if v)
        print(f"{result['name']:<15}{result['writes_per_s']:>10.0f}{result['p50_ms']:>9.1f}{result['p99_ms']:>9.1f}"
              f"{result['writes_per_s'] / base:>7.2f}{result['cpu_ms_per_write']:>14.2f}  {counts or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
