"""The contract suite over a slow network: the mock behind a local proxy that adds latency.

Not a test (it asserts nothing): it starts the mock on a free loopback port, a TCP proxy in front
of it on 127.0.0.1 that delays every answer by the chosen latency (a fixed 100 ms, or 30-120 ms
drawn per chunk), runs the contract suite's quick profile through the proxy as a user does
(`contract-4hse run` with its default workers, both phases), and prints the wall time, the
suite's per-module request table and its summary.

    python bench/contract_latency.py                         # 100 ms, the command's 10 workers
    python bench/contract_latency.py --latency-ms 30-120 --workers 8
    python bench/contract_latency.py --workers 1 -- -k pagination   # extra pytest arguments after --
    python bench/contract_latency.py --latency-ms 0 --compare ../old-checkout --rounds 2
        # loopback (no proxy), this checkout and another side by side, alternating: the ratio

A checkout without the command runs the two pytest calls its README gave (workers, then the
`whole_dataset` tests on their own), each checkout against a mock of its own code.

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
DEFAULT_WORKERS = 10  # contract-4hse run's default, used for a checkout without the command


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


def start_mock(today: str, checkout: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """`python -m mock_server` of `checkout` (its own code: the current directory comes first on
    the import path) on a free loopback port."""
    command = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "0", "--today", today, "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1"})
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


@dataclass(frozen=True)
class SuiteRun:
    name: str
    code: int
    seconds: float
    output: str


def has_command(checkout: Path) -> bool:
    return (checkout / "tests" / "contract" / "cli.py").exists()


def run_pytest(checkout: Path, url: str, workers: int, extra: list[str], dist: str) -> tuple[int, float, str]:
    command = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider", "--target-url", url, "--hypothesis-profile", "quick"]
    if workers > 1:
        command += ["-n", str(workers), "--dist", dist]
    command += extra
    started = time.monotonic()
    finished = subprocess.run(command, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return finished.returncode, time.monotonic() - started, finished.stdout


def run_suite(checkout: Path, url: str, workers: int | None, extra: list[str], dist: str) -> list[SuiteRun]:
    """The quick profile of `checkout`'s suite against url, both phases: `contract-4hse run` where
    the checkout has the command (its default workers unless `workers`), else the two pytest calls
    that checkout's README gives (workers, then the `whole_dataset` tests on their own)."""
    if has_command(checkout):
        command = [sys.executable, "-m", "tests.contract", "run", "--target", url, "--token", "mock-token", "--profile", "quick"]
        if workers is not None:
            command += ["--workers", str(workers)]
        if extra:
            command += ["--", *extra]
        started = time.monotonic()
        finished = subprocess.run(command, cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        return [SuiteRun("contract-4hse run, both phases", finished.returncode, time.monotonic() - started, finished.stdout)]
    workers = DEFAULT_WORKERS if workers is None else workers
    code, seconds, output = run_pytest(checkout, url, workers, extra, dist)
    runs = [SuiteRun(f"pytest, {workers} workers", code, seconds, output)]
    if workers > 1:
        # the tests that compare reads of whole data sets, deselected while workers write: after,
        # on their own (they only read, so their workers may share the server)
        code, seconds, output = run_pytest(checkout, url, workers, ["-m", "whole_dataset", *extra], dist)
        runs.append(SuiteRun("pytest, whole_dataset on their own", code, seconds, output))
    return runs


def section(output: str, title: str) -> str:
    """One `=== title ===` section of pytest's terminal summary."""
    match = re.search(rf"=+ {re.escape(title)}[^=\n]* =+\n(.*?)(?=\n=+ |\Z)", output, re.DOTALL)
    return match.group(1).rstrip() if match else "(none)"


def one_pass(checkout: Path, args: argparse.Namespace) -> tuple[list[SuiteRun], int]:
    """A fresh mock of the checkout, the proxy in front unless the latency is 0, the suite through it."""
    mock, port = start_mock(args.today, checkout)
    proxy = None if args.latency_ms.high_ms == 0 else LatencyProxy(port, args.latency_ms).start()
    try:
        url = f"http://127.0.0.1:{proxy.port if proxy else port}"
        print(f"{checkout}: mock on 127.0.0.1:{port}, " + (f"proxy {url} adding {args.latency_ms} per answer" if proxy else "no proxy (loopback)"), flush=True)
        return run_suite(checkout, url, args.workers, args.pytest_args, args.dist), proxy.connections if proxy else 0
    finally:
        if proxy:
            proxy.stop()
        mock.terminate()
        mock.wait(timeout=10)


def report(runs: list[SuiteRun], keep: Path | None, label: str) -> None:
    for number, run in enumerate(runs, start=1):
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{label}-{number}.log").write_text(run.output, encoding="utf-8")
        tail = [line for line in run.output.splitlines() if re.search(r"\d+ (passed|failed)|^requests sent: |^exit \d", line)]
        print(f"\n[{run.name}] exit {run.code}; wall time {run.seconds:.1f} s; " + "; ".join(line.strip("= ") for line in tail[-3:]))
        print("requests per module (seconds summed over workers):")
        print(section(run.output, "contract requests"))
        if run.code != 0:
            failures = [line for line in run.output.splitlines() if line.startswith(("FAILED", "ERROR", "  BROKE"))]
            print("\n".join(failures[:30]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=Latency.parse, default=Latency(100, 100), help="added to every answer: N or LOW-HIGH (default 100; 0: no proxy, loopback)")
    parser.add_argument("--workers", type=int, default=None, help=f"workers (default: the command's own, {DEFAULT_WORKERS}; 1 runs without xdist)")
    # worksteal: the tests last from under a second to over a minute, so a worker that ran out takes
    # tests queued at another instead of idling while fixed shares (`load`) finish
    parser.add_argument("--dist", default="worksteal", choices=["worksteal", "load"], help="pytest-xdist's way of handing out tests in a checkout without the command (default worksteal)")
    parser.add_argument("--today", default=DEFAULT_TODAY, help="the mock's pinned date")
    parser.add_argument("--compare", type=Path, default=None, metavar="CHECKOUT", help="also run CHECKOUT's suite against its own mock, alternating with this one")
    parser.add_argument("--rounds", type=int, default=1, help="passes of each checkout (alternating with --compare)")
    parser.add_argument("--keep-output", type=Path, default=None, metavar="DIR", help="write each run's whole output to DIR")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    checkouts = [ROOT] + ([args.compare.resolve()] if args.compare else [])
    walls: dict[Path, list[float]] = {checkout: [] for checkout in checkouts}
    failed = False
    for round_number in range(1, args.rounds + 1):
        for checkout in checkouts:
            runs, connections = one_pass(checkout, args)
            report(runs, args.keep_output, f"{checkout.name}-round{round_number}")
            wall = sum(run.seconds for run in runs)
            walls[checkout].append(wall)
            failed = failed or any(run.code != 0 for run in runs)
            print(f"\n{checkout} round {round_number}: wall time in all {wall:.1f} s at {args.latency_ms}"
                  + (f"; {connections} connections through the proxy" if connections else ""), flush=True)
    print("\nwall time per pass (s):")
    for checkout, times in walls.items():
        print(f"  {checkout}: " + ", ".join(f"{t:.1f}" for t in times) + f"; best {min(times):.1f}")
    if args.compare:
        ratio = min(walls[checkouts[1]]) / min(walls[ROOT])
        print(f"  {checkouts[1].name} / {ROOT.name} (best passes): {ratio:.2f} (above 1: this checkout is faster)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
