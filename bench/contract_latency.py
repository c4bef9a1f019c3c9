"""The contract suite over a slow network: the mock behind a local proxy that adds latency.

Not a test (it asserts nothing): it starts the mock on a free loopback port, a TCP proxy in front
of it on 127.0.0.1 that delays every answer by the chosen latency (a fixed 100 ms, or 30-120 ms
drawn per chunk), runs the contract suite's quick profile through the proxy with pytest-xdist
workers, and prints the wall time, the suite's per-module request table and its retries.

    python bench/contract_latency.py                         # 100 ms, 10 workers
    python bench/contract_latency.py --latency-ms 30-120 --workers 8
    python bench/contract_latency.py --workers 1 -- -k pagination   # extra pytest arguments after --

The latency is added once per answer (the server -> client direction), so every request costs
at least one latency, as a round trip to a server that far away does; a new connection costs
one more. Bytes keep their order: each chunk is released at (arrival + latency), never earlier
than the chunk before it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT_S = 60.0
READ_CHUNK = 65536
DEFAULT_TODAY = "2026-06-15"


@dataclass(frozen=True)
class Latency:
    low_ms: float
    high_ms: float

    @classmethod
    def parse(cls, text: str) -> Latency:
        low, _, high = text.partition("-")
        return cls(float(low), float(high or low))

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low_ms, self.high_ms) / 1000.0

    def __str__(self) -> str:
        return f"{self.low_ms:g} ms" if self.low_ms == self.high_ms else f"{self.low_ms:g}-{self.high_ms:g} ms"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: Callable[[], float]) -> None:
    """Copy bytes, each chunk released `delay()` after it arrived, in order."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while data := await reader.read(READ_CHUNK):
            queue.put_nowait((time.monotonic() + delay(), data))
        queue.put_nowait((0.0, b""))

    async def write() -> None:
        released = 0.0
        while True:
            due, data = await queue.get()
            if not data:
                break
            released = max(released, due)
            await asyncio.sleep(max(0.0, released - time.monotonic()))
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


class LatencyProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<upstream>, answers delayed by the latency."""

    def __init__(self, upstream_port: int, latency: Latency, seed: int = 7) -> None:
        self.upstream_port, self.latency, self.rng = upstream_port, latency, random.Random(seed)
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pump(client_reader, upstream_writer, lambda: 0.0),
            _pump(upstream_reader, client_writer, lambda: self.latency.draw(self.rng)),
        )

    def start(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def start_mock(today: str) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "0", "--today", today, "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = LISTENING.search(line)
        if match:
            # keep draining its output so that the pipe never fills
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
            return process, int(match.group(2))
    process.kill()
    raise RuntimeError("the mock did not start")


def run_suite(url: str, workers: int, extra: list[str], dist: str) -> tuple[int, float, str]:
    command = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider", "--target-url", url, "--hypothesis-profile", "quick"]
    if workers > 1:
        command += ["-n", str(workers), "--dist", dist]
    command += extra
    started = time.monotonic()
    finished = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return finished.returncode, time.monotonic() - started, finished.stdout


def section(output: str, title: str) -> str:
    """One `=== title ===` section of pytest's terminal summary."""
    match = re.search(rf"=+ {re.escape(title)}[^=\n]* =+\n(.*?)(?=\n=+ |\Z)", output, re.DOTALL)
    return match.group(1).rstrip() if match else "(none)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=Latency.parse, default=Latency(100, 100), help="added to every answer: N or LOW-HIGH (default 100)")
    parser.add_argument("--workers", type=int, default=10, help="pytest-xdist workers (default 10; 1 runs without xdist)")
    # worksteal: the tests last from under a second to over a minute, so a worker that ran out takes
    # tests queued at another instead of idling while fixed shares (`load`) finish
    parser.add_argument("--dist", default="worksteal", choices=["worksteal", "load"], help="pytest-xdist's way of handing out tests (default worksteal)")
    parser.add_argument("--today", default=DEFAULT_TODAY, help="the mock's pinned date")
    parser.add_argument("--keep-output", type=Path, default=None, metavar="DIR", help="write each pytest run's whole output to DIR")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    mock, port = start_mock(args.today)
    proxy = LatencyProxy(port, args.latency_ms).start()
    runs: list[tuple[str, int, float, str]] = []
    try:
        url = f"http://127.0.0.1:{proxy.port}"
        print(f"mock on 127.0.0.1:{port}, proxy {url} adding {args.latency_ms} per answer; {args.workers} workers", flush=True)
        code, seconds, output = run_suite(url, args.workers, args.pytest_args, args.dist)
        runs.append((f"{args.workers} workers", code, seconds, output))
        if args.workers > 1:
            # the tests that compare reads of whole data sets, deselected while workers write: after,
            # on their own (they only read, so their workers may share the server)
            code, seconds, output = run_suite(url, args.workers, ["-m", "whole_dataset", *args.pytest_args], args.dist)
            runs.append(("whole_dataset, on their own", code, seconds, output))
    finally:
        proxy.stop()
        mock.terminate()
        mock.wait(timeout=10)
    total = sum(seconds for _, _, seconds, _ in runs)
    for number, (name, code, seconds, output) in enumerate(runs, start=1):
        if args.keep_output is not None:
            args.keep_output.mkdir(parents=True, exist_ok=True)
            (args.keep_output / f"run{number}.log").write_text(output, encoding="utf-8")
        tail = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
        print(f"\n[{name}] pytest exit {code}; wall time {seconds:.1f} s; {tail[-1].strip('= ') if tail else 'no result line'}")
        print("requests per module (seconds summed over workers):")
        print(section(output, "contract requests"))
        print("retries:", section(output, "contract retries"))
        if code != 0:
            failures = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
            print("\n".join(failures[:30]))
    print(f"\nwall time in all: {total:.1f} s at {args.latency_ms}; {proxy.connections} connections through the proxy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
