"""Where the mock spends its time and memory (companion of bench/run_bench.py).

  live    samples a running server under wrk load with py-spy (`pip install py-spy`) and prints
          the share of samples per package and the hottest functions, e.g.
            python bench/profile_mock.py live --server mock --scenario view
            python bench/profile_mock.py live --server empty-connexion --scenario view
  asgi    cProfile (CPU time) of whole requests sent straight into the ASGI app, in process,
          without sockets and without uvicorn, e.g.
            python bench/profile_mock.py asgi --server mock --scenario index
  search  cProfile of Domain.search over the large state (in process, no HTTP), e.g.
            python bench/profile_mock.py search --sort=-date_begin
  memory  tracemalloc of loading the large state into a Domain: what holds the memory.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baselines, large_data, run_bench  # noqa: E402

PACKAGES = (
    ("mock_server/", "mock_server"), ("connexion/", "connexion"), ("jsonschema/", "jsonschema"),
    ("referencing/", "jsonschema"), ("starlette/", "starlette"), ("uvicorn/", "uvicorn"),
    ("httptools", "uvicorn"), ("uvloop", "asyncio/uvloop"), ("asyncio/", "asyncio/uvloop"),
    ("json/", "json (stdlib)"), ("re/", "re (stdlib)"),
)

# --- live: py-spy on a server under load ---------------------------------------------------------


def package_of(frame: str) -> str:
    for marker, name in PACKAGES:
        if marker in frame:
            return name
    return "other"


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: `frame;frame;... count`, outermost frame first; frames
    by function (line numbers dropped) and with paths from the package directory on."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            frames = [_by_function(frame) for frame in stack.split(";")]
            stacks.append((frames, int(count)))
    return stacks


def _by_function(frame: str) -> str:
    frame = re.sub(r":\d+\)$", ")", frame)
    return re.sub(r"\(.*/(site-packages|python3\.\d+)/", "(", frame)


def summarize(stacks: list[tuple[list[str], int]], top: int) -> None:
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        by_package[package_of(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples\n\nself time by package (the leaf frame's):")
    for name, count in by_package.most_common():
        print(f"  {count / total:6.1%}  {name}")
    print(f"\ninclusive time, functions of mock_server (top {top}):")
    for frame, count in [(f, c) for f, c in inclusive.most_common() if "mock_server/" in f][:top]:
        print(f"  {count / total:6.1%}  {frame}")
    print(f"\nself time, all functions (top {top}):")
    for frame, count in own.most_common(top):
        print(f"  {count / total:6.1%}  {frame}")


def scenario_named(server: str, name: str, targets: run_bench.MockTargets) -> run_bench.Scenario:
    scenarios = run_bench.mock_scenarios(targets) if server == "mock" else run_bench.baseline_scenarios(targets)
    return next(s for s in scenarios if s.name == name)


def sample(args: argparse.Namespace, server: run_bench.Server, scenario: run_bench.Scenario) -> Path:
    """py-spy on `server` while wrk drives `scenario`; the raw samples' path."""
    settings = run_bench.parse_args(["--duration", str(args.seconds + 4), "--warmup", "0"])
    load = threading.Thread(target=run_bench.run_wrk,
                            args=(settings, server.base_url, scenario, settings.connections, settings.duration_s))
    load.start()
    time.sleep(2)
    out = Path(args.output)
    subprocess.run([args.py_spy, "record", "--pid", str(server.pid), "--duration", str(args.seconds),
                    "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"],
                   check=True, capture_output=True)
    load.join()
    return out


def live(args: argparse.Namespace) -> None:
    with run_bench.running("mock", run_bench.mock_argv([])) as mock:
        targets = run_bench.prepare_mock(mock)
        if args.server == "mock":
            scenario = scenario_named("mock", args.scenario, targets)
            out = sample(args, mock, scenario)
    if args.server != "mock":
        with run_bench.running(args.server, run_bench.baseline_argv(args.server)) as server:
            scenario = scenario_named(args.server, args.scenario, targets)
            out = sample(args, server, scenario)
    print(f"py-spy on {args.server}, scenario {args.scenario}: {scenario.method} {scenario.path}")
    summarize(read_raw(out), args.top)


# --- asgi: cProfile of whole requests, in process, without sockets --------------------------------


def asgi_scope(scenario: run_bench.Scenario) -> dict[str, Any]:
    path, _, query = scenario.path.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if scenario.body is not None:
        length = len(json.dumps(scenario.body).encode())
        headers += [(b"content-type", b"application/json"), (b"content-length", str(length).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": scenario.method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}


async def asgi_request(app: Any, scenario: run_bench.Scenario) -> int:
    """One request straight into the ASGI app; its status."""
    body = b"" if scenario.body is None else json.dumps(scenario.body).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(asgi_scope(scenario), receive, send)
    return status


def in_process_app(server: str) -> tuple[Any, run_bench.MockTargets]:
    from mock_server.app import create_app

    mock = create_app()
    client = mock.test_client()
    actions = client.post("/v2/action/index?access-token=mock-token", json={"per-page": 100}).json()
    sessions = client.post("/v2/action-session/index?access-token=mock-token", json={"per-page": 100}).json()
    action = max(actions, key=lambda a: a["countSubscribed"])
    session = sessions[0]
    targets = run_bench.MockTargets(action["action_id"], action["countSubscribed"], session["action_session_id"],
                                    len(sessions), {"subtenant_id": session["subtenant_id"],
                                                    "tenant_id": session["tenant_id"]})
    app = mock if server == "mock" else baselines.APPS[server]()
    return app, targets


def asgi(args: argparse.Namespace) -> None:
    app, targets = in_process_app(args.server)
    scenario = scenario_named(args.server, args.scenario, targets)

    async def run(count: int) -> Counter[int]:
        return Counter([await asgi_request(app, scenario) for _ in range(count)])

    print(f"warm-up statuses: {dict(asyncio.run(run(200)))}")
    started = time.process_time()
    asyncio.run(run(args.requests))
    cpu = time.process_time() - started
    print(f"{args.server} {args.scenario}: {cpu * 1e6 / args.requests:,.0f} us CPU per request "
          f"({args.requests} requests in process, not profiled)")
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run(args.requests))
    profiler.disable()
    print_profile(pstats.Stats(profiler), args.top)


def print_profile(stats: pstats.Stats, top: int) -> None:
    """Self time per package, and the mock's functions by inclusive time, as % of the total."""
    entries = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(tt for _, _, tt, _, _ in entries.values())
    by_package: Counter[str] = Counter()
    for (filename, _, _), (_, _, tt, _, _) in entries.items():
        by_package[package_of(filename)] += tt
    print("\nself time by package:")
    for name, tt in by_package.most_common():
        print(f"  {tt / total:6.1%}  {name}")
    print(f"\nfunctions of mock_server by inclusive time (top {top}):")
    mine = [(ct, f"{name} ({filename.replace(str(ROOT) + '/', '')}:{line})", nc)
            for (filename, line, name), (_, nc, _, ct, _) in entries.items() if "mock_server/" in filename]
    for ct, label, calls in sorted(mine, reverse=True)[:top]:
        print(f"  {ct / total:6.1%}  {calls:>9,} calls  {label}")
    print(f"\nall functions by self time (top {top}):")
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, name), (_, nc, tt, _, _) in ranked:
        print(f"  {tt / total:6.1%}  {nc:>9,} calls  {name} ({_by_function(f'({filename}:{line})')[1:-1]})")


# --- search and memory: in process over the large state ------------------------------------------


def large_domain(shape: large_data.Shape) -> tuple[Any, large_data.LargeState]:
    from mock_server.domain.clock import Clock
    from mock_server.domain.service import Domain
    from mock_server.resources import read_resources
    from mock_server.spec import load_spec

    domain = Domain(read_resources(load_spec()), Clock())
    state = large_data.build(shape)
    started = time.perf_counter()
    domain.load(state.data)
    print(f"Domain.load: {time.perf_counter() - started:.1f} s for {state.counts()}")
    return domain, state


def search(args: argparse.Namespace) -> None:
    domain, state = large_domain(large_data.Shape(actions=args.actions))
    body: dict[str, Any] = {"per-page": 100}
    if args.sort:
        body["sort"] = args.sort
    if args.action_filter:
        body["filter"] = {"action_id": state.action_ids[len(state.action_ids) // 2]}
    started = time.perf_counter()
    domain.search("action-session", body)
    print(f"one search {body}: {(time.perf_counter() - started) * 1000:.0f} ms")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        domain.search("action-session", body)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(text.getvalue().replace(str(ROOT) + "/", ""))


def memory(args: argparse.Namespace) -> None:
    gc.collect()
    tracemalloc.start(1)
    domain, state = large_domain(large_data.Shape(actions=args.actions))
    del state
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    print(f"held after the load, traced: {total / 2**20:,.0f} MiB\n\nby line (top {args.top}):")
    for stat in snapshot.statistics("lineno")[: args.top]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:8,.1f} MiB  {stat.count:>10,} blocks  "
              f"{frame.filename.replace(str(ROOT) + '/', '')}:{frame.lineno}")
    del domain


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/profile_mock.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=25)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("live")
    p.add_argument("--server", choices=run_bench.SERVER_NAMES, default="mock")
    p.add_argument("--scenario", choices=run_bench.SCENARIO_NAMES, default="view")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--output", default="/tmp/bench-py-spy.txt")
    p.add_argument("--py-spy", default=str(Path(sys.executable).with_name("py-spy")))
    p = sub.add_parser("asgi")
    p.add_argument("--server", choices=run_bench.SERVER_NAMES, default="mock")
    p.add_argument("--scenario", choices=run_bench.SCENARIO_NAMES, default="view")
    p.add_argument("--requests", type=int, default=3000)
    p = sub.add_parser("search")
    p.add_argument("--sort", default="-date_begin")
    p.add_argument("--action-filter", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--actions", type=int, default=1000)
    p = sub.add_parser("memory")
    p.add_argument("--actions", type=int, default=1000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    {"live": live, "asgi": asgi, "search": search, "memory": memory}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
