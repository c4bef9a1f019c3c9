"""Benchmark of the mock server against two baselines, and of the mock with a large state.

Part 1 starts, one after another, with the same server settings (uvicorn, one process,
127.0.0.1, access log off, log level warning):

  mock              `python -m mock_server` with its seed data
  empty-connexion   a Connexion AsyncApp with the mock's middleware over a minimal spec
  starlette         bare Starlette routes answering constant JSON

and drives each with wrk on loopback: view (GET), index (POST, per-page 100), create (POST).
It prints requests/s, p50 and p99 per server and scenario, the server's CPU time per request,
and the ratios of the mock to the two baselines. Part 1 runs `--rounds` times (default 3) and
shows each server and scenario's best round (highest req/s): other load on the host only ever
slows a round down. CPU time per request moves much less with it than req/s.

Part 2 loads the mock with 100,000 action-sessions (with dates and enrollments), times the
load, measures index at per-page 100 (unfiltered, filtered by action_id, sorted by
-date_begin) and the mock process's resident memory.

Part 3 (skewed) loads, by PUT /__mock/state, the 100,000 sessions plus a skewed set
(`bench/skewed_data.py`: 42,000 action-subscriptions and 42,000 certificates over 35 people,
31,500 certificate-actions, statuses NEW/VALID/EXPIRING/EXPIRED), with the clock fixed. It times
action-subscription/index at per-page 100 with `{"sort": "office_name"}` and with
`{"filter": {"status": "EXPIRING"}}`: the first call after a write (cold) apart, then repeated
calls (p50/p99); then /__mock/health latency at rest and while a ~50 MB PUT /__mock/state runs in
another thread (p50/p99 and their ratios). Every call has a timeout and is reported "timed out"
when it runs over; the part stops at a total budget (`--skewed-budget`, default 600 s). It needs
no wrk.

Usage (from the repository root, in its virtualenv; parts 1 and 2 need `wrk`):

    python bench/run_bench.py            # 10 s per scenario, then the skewed part
    python bench/run_bench.py --quick    # 3 s per scenario
    python bench/run_bench.py --skewed   # only part 3 (the same as --part skewed)
    python bench/run_bench.py --help

Targets are printed as PASS/MISS and never fail the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baselines, large_data, skewed_data  # noqa: E402

TOKEN = baselines.DEFAULT_TOKEN
DEFAULT_SEED = ROOT / "mock_server" / "seed" / "default.yaml"
SERVER_NAMES = ("mock", "empty-connexion", "starlette")
SCENARIO_NAMES = ("view", "index", "create")
THROUGHPUT_TARGET = 0.60  # mock view and index >= 60 % of the empty Connexion app's req/s
LATENCY_TARGET_MS = 50.0  # index over the large state, per-page 100, p50
RSS_TARGET_MB = 500.0  # the mock's resident memory with the large state
SKEWED_TARGET_MS = 100.0  # part 3: searches on computed fields p50, and health p99 during an import
START_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 1800.0

# --- settings and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    wrk: str
    threads: int
    connections: int
    duration_s: float
    warmup_s: float
    timeout_s: float
    large_connections: int
    large_duration_s: float
    large_load: str  # "put" or "seed"
    rounds: int  # part 1 runs this many times; each server and scenario's best round is shown
    shape: large_data.Shape
    parts: tuple[str, ...]
    skew: skewed_data.SkewShape = skewed_data.SkewShape()
    skew_call_timeout_s: float = 120.0  # one index or health call of part 3
    skew_budget_s: float = 600.0  # the whole of part 3
    skew_repeats: int = 30  # repeated calls per query, at most ...
    skew_repeat_s: float = 30.0  # ... and for at most this long
    import_mb: float = 50.0  # size of the import that runs while health is measured


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # with its query string
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    bytes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors and non-2xx/3xx answers
    timeouts: int
    server_cpu_s: float = 0.0  # CPU time (user + system) the server process spent meanwhile

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU per request: unlike req/s, barely moved by other load on the host."""
        return self.server_cpu_s * 1e6 / self.requests if self.requests else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base_url: str
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class LargeReport:
    counts: dict[str, int]
    json_mb: float
    generate_s: float
    load_s: float
    load_how: str
    rss_before_load_mb: float
    rss_after_load_mb: float
    results: dict[str, WrkResult] = field(default_factory=dict)
    rss_after_queries_mb: float = 0.0
    peak_rss_mb: float = 0.0


# --- servers ------------------------------------------------------------------------------------


def _read_url(process: subprocess.Popen, deadline: float) -> str | None:
    """The first `http://...` the server prints on stdout, or None if it exits or times out."""
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if not line:
                return None
            for word in line.split():
                if word.startswith("http://"):
                    return word.rstrip("/")
        elif process.poll() is not None:
            return None
    return None


def _wait_listening(url: str, process: subprocess.Popen, deadline: float) -> bool:
    """The servers print their URL once bound, a moment before they listen."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_server(name: str, argv: list[str]) -> Server:
    stderr_path = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    url = _read_url(process, deadline)
    server = Server(name, process, url or "", stderr_path)
    if url is None or not _wait_listening(url, process, deadline):
        log = stderr_path.read_text(errors="replace")[-2000:]
        stop_server(server)
        raise RuntimeError(f"{name} did not start:\n{log}")
    return server


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if server.process.stdout is not None:
        server.process.stdout.close()
    server.stderr_path.unlink(missing_ok=True)


SERVER_SETTINGS = ["--host", "127.0.0.1", "--port", "0", "--log-level", "warning"]


def mock_argv(data_args: list[str]) -> list[str]:
    return ["-m", "mock_server", *SERVER_SETTINGS, *data_args]


def baseline_argv(name: str) -> list[str]:
    return ["-m", "bench.baselines", name, *SERVER_SETTINGS]


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """A memory line of /proc/<pid>/status (VmRSS: now, VmHWM: peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- HTTP setup calls (urllib) -----------------------------------------------------------------


def call(method: str, url: str, body: Any = None, raw: bytes | None = None,
         timeout: float = 60.0) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            return response.status, json.loads(payload or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers)


def api(server: Server, method: str, path: str, body: Any = None) -> Any:
    """An API call of the mock that must succeed."""
    status, data, _ = call(method, f"{server.base_url}{path}?access-token={TOKEN}", body)
    if status >= 300:
        raise RuntimeError(f"{method} {path} answered {status}: {data}")
    return data


# --- wrk --------------------------------------------------------------------------------------

LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%.1f,"p99_us":%.1f,'
    .. '"max_us":%.1f,"errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status, e.timeout))
end
"""


def find_wrk(explicit: str | None) -> str:
    found = explicit or shutil.which("wrk")
    if not found:
        sys.exit(
            "wrk is not installed. Install it and run again:\n"
            "  Debian/Ubuntu: sudo apt-get install -y wrk\n"
            "  macOS:         brew install wrk\n"
            "or pass --wrk /path/to/wrk"
        )
    return found


def lua_script(scenario: Scenario) -> str:
    lines = [f'wrk.method = "{scenario.method}"']
    if scenario.body is not None:
        lines.append(f"wrk.body = [==[{json.dumps(scenario.body)}]==]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    return "\n".join(lines) + "\n" + LUA_DONE


def run_wrk(settings: Settings, base_url: str, scenario: Scenario, connections: int, duration_s: float) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(scenario))
    try:
        argv = [
            settings.wrk, f"-t{min(settings.threads, connections)}", f"-c{connections}",
            f"-d{max(1, round(duration_s))}s", f"--timeout={int(settings.timeout_s)}s",
            "-s", script.name, f"{base_url}{scenario.path}",
        ]
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(output)


def parse_wrk(output: str) -> WrkResult:
    line = next((row for row in output.splitlines() if row.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    return WrkResult(
        requests=raw["requests"], duration_s=raw["duration_us"] / 1e6, bytes=raw["bytes"],
        p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000, max_ms=raw["max_us"] / 1000,
        errors=raw["errors"], timeouts=raw["timeouts"],
    )


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(settings: Settings, server: Server, scenario: Scenario, connections: int, duration_s: float,
            warmup_s: float) -> WrkResult:
    if warmup_s > 0:
        run_wrk(settings, server.base_url, scenario, connections, warmup_s)
    cpu_before = cpu_seconds(server.pid)
    result = run_wrk(settings, server.base_url, scenario, connections, duration_s)
    return replace(result, server_cpu_s=cpu_seconds(server.pid) - cpu_before)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- part 1: the mock against the baselines ---------------------------------------------------


@dataclass(frozen=True)
class MockTargets:
    view_action_id: str
    count_subscribed: int
    session_id: str
    sessions_on_page: int
    tenancy: dict[str, str]


def _ensure_entities(server: Server) -> None:
    """When the mock started without entities, create a small world through the API."""
    if api(server, "POST", "/v2/action/index", {"per-page": 1}):
        return
    state = call("GET", f"{server.base_url}/__mock/state")[1]
    office = state["directory"]["offices"][0]
    tenancy = {"subtenant_id": office["office_id"], "tenant_id": office["project_id"]}
    people = [r["resource_id"] for r in state["directory"]["resources"]][:5]
    action = api(server, "POST", "/v2/action/create", {"action_type": "TRAINING", "name": "Benchmark course",
                                                       "validity_unit": "YEAR", "validity": 5, **tenancy})
    subscriptions = [
        api(server, "POST", "/v2/action-subscription/create",
            {"action_id": action["action_id"], "subscriber_id": p, "subscriber_type": "PERSON", **tenancy})
        for p in people
    ]
    for day in ("2026-01-12", "2026-02-16", "2026-03-16"):
        session = api(server, "POST", "/v2/action-session/create", {"action_id": action["action_id"], **tenancy})
        api(server, "POST", "/v2/action-session-date/create", {
            "action_session_id": session["action_session_id"], "date_begin": f"{day}T09:00:00",
            "date_end": f"{day}T17:00:00", **tenancy})
        for subscription in subscriptions[:3]:
            api(server, "POST", "/v2/action-session-subscription/create", {
                "action_session_id": session["action_session_id"],
                "action_subscription_id": subscription["action_subscription_id"], **tenancy})


def prepare_mock(server: Server) -> MockTargets:
    """The ids the scenarios use: the action with the most compliance schedule entries (the
    costliest view of the seed) and the first session of the index page."""
    _ensure_entities(server)
    actions = api(server, "POST", "/v2/action/index", {"per-page": 100})
    action = max(actions, key=lambda a: a["countSubscribed"])
    sessions = api(server, "POST", "/v2/action-session/index", {"per-page": 100})
    session = sessions[0]
    tenancy = {"subtenant_id": session["subtenant_id"], "tenant_id": session["tenant_id"]}
    return MockTargets(action["action_id"], action["countSubscribed"], session["action_session_id"],
                       len(sessions), tenancy)


def create_body(targets: MockTargets) -> dict[str, Any]:
    return {"action_session_id": targets.session_id, "date_begin": "2026-06-01T09:00:00",
            "date_end": "2026-06-01T17:00:00", **targets.tenancy}


def mock_scenarios(targets: MockTargets) -> list[Scenario]:
    query = f"?access-token={TOKEN}"
    return [
        Scenario("view", "GET", f"/v2/action/view/{targets.view_action_id}{query}"),
        Scenario("index", "POST", f"/v2/action-session/index{query}", {"per-page": 100}),
        Scenario("create", "POST", f"/v2/action-session-date/create{query}", create_body(targets)),
    ]


def baseline_scenarios(targets: MockTargets) -> list[Scenario]:
    query = f"?access-token={TOKEN}"
    view_path = baselines.VIEW_PATH.replace("{id}", targets.view_action_id)
    return [
        Scenario("view", "GET", f"{view_path}{query}"),
        Scenario("index", "POST", f"{baselines.INDEX_PATH}{query}", {"per-page": 100}),
        Scenario("create", "POST", f"{baselines.INDEX_PATH}{query}", create_body(targets)),
    ]


def mock_data_args(workdir: Path) -> tuple[list[str], str]:
    """How the mock is started in part 1, and a line saying so."""
    if DEFAULT_SEED.exists():
        return [], f"bundled seed {DEFAULT_SEED.relative_to(ROOT)}"
    seed = workdir / "directory-only.json"
    seed.write_text(json.dumps(large_data.directory_only_seed()))
    return ["--seed", str(seed)], "no bundled seed: reference data only, plus a few entities created by the bench"


def check_scenario(server: Server, scenario: Scenario) -> int:
    """One request before measuring: it must succeed (wrk counts failures but does not stop)."""
    status, data, _ = call(scenario.method, f"{server.base_url}{scenario.path}", scenario.body)
    if status >= 300:
        what = f"{server.name} {scenario.name}: {scenario.method} {scenario.path}"
        raise RuntimeError(f"{what} answered {status}: {data}")
    return len(data) if isinstance(data, list) else 1



@contextmanager
def running(name: str, argv: list[str]) -> Iterator[Server]:
    server = start_server(name, argv)
    try:
        yield server
    finally:
        stop_server(server)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


Runs = dict[tuple[str, str], list[WrkResult]]  # (server, scenario) -> one result per round


def run_scenarios(settings: Settings, server: Server, scenarios: list[Scenario], runs: Runs) -> dict[str, int]:
    """Measures each scenario; returns how many items each one's answer holds."""
    items: dict[str, int] = {}
    for scenario in scenarios:
        items[scenario.name] = check_scenario(server, scenario)
        result = measure(settings, server, scenario, settings.connections, settings.duration_s, settings.warmup_s)
        runs.setdefault((server.name, scenario.name), []).append(result)
        progress(f"{server.name:<16} {scenario.name:<7} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                 f"server CPU {result.cpu_us_per_request:6.0f} us/req")
    return items


def best_run(results: list[WrkResult]) -> WrkResult:
    """The round with the highest req/s: the one least disturbed by other load on the host."""
    return max(results, key=lambda r: r.rps)


@dataclass
class ServersReport:
    runs: Runs
    targets: MockTargets
    mock_data: str
    items: dict[str, int]
    load_before: str
    load_after: str

    def best(self, server: str, scenario: str) -> WrkResult:
        return best_run(self.runs[(server, scenario)])

    def spread(self, server: str, scenario: str) -> str:
        rates = [r.rps for r in self.runs[(server, scenario)]]
        return f"{min(rates):,.0f}-{max(rates):,.0f}"


def run_round(settings: Settings, mock_args: list[str], runs: Runs) -> tuple[MockTargets, dict[str, int]]:
    """Each server in turn: started, measured on every scenario, stopped (the mock anew each
    round, so that every round starts from the seed)."""
    with running("mock", mock_argv(mock_args)) as mock:
        targets = prepare_mock(mock)
        items = run_scenarios(settings, mock, mock_scenarios(targets), runs)
    for name in SERVER_NAMES[1:]:
        with running(name, baseline_argv(name)) as server:
            run_scenarios(settings, server, baseline_scenarios(targets), runs)
    return targets, items


def run_servers(settings: Settings, workdir: Path) -> ServersReport:
    mock_args, how = mock_data_args(workdir)
    runs: Runs = {}
    load_before = load_average()
    for round_number in range(1, settings.rounds + 1):
        progress(f"round {round_number} of {settings.rounds}")
        targets, items = run_round(settings, mock_args, runs)
    return ServersReport(runs, targets, how, items, load_before, load_average())


# --- part 2: the mock with a large state ------------------------------------------------------


def large_scenarios(action_id: str) -> list[Scenario]:
    path = f"/v2/action-session/index?access-token={TOKEN}"
    by_action = {"action_id": action_id}
    return [
        Scenario("unfiltered", "POST", path, {"per-page": 100}),
        Scenario("filter action_id", "POST", path, {"filter": by_action, "per-page": 100}),
        Scenario("sort -date_begin", "POST", path, {"per-page": 100, "sort": "-date_begin"}),
        Scenario("filter action_id, sort -date_begin", "POST", path,
                 {"filter": by_action, "per-page": 100, "sort": "-date_begin"}),
    ]


def _empty_mock_args(workdir: Path) -> list[str]:
    if DEFAULT_SEED.exists():
        return ["--empty"]
    seed = workdir / "directory-only.json"
    seed.write_text(json.dumps(large_data.directory_only_seed()))
    return ["--seed", str(seed)]


def load_large(settings: Settings, workdir: Path, payload: bytes) -> tuple[Server, float, str, float]:
    """Starts the mock holding the large state; returns it, the load time, how it loaded and
    the RSS of the mock before the load (the seed route has no "before": 0)."""
    if settings.large_load == "seed":
        seed = workdir / "large-seed.json"
        seed.write_bytes(payload)
        started = time.perf_counter()
        server = start_server("mock", mock_argv(["--seed", str(seed)]))
        return server, time.perf_counter() - started, "python -m mock_server --seed FILE (process start included)", 0.0
    server = start_server("mock", mock_argv(_empty_mock_args(workdir)))
    rss_before = rss_mb(server.pid)
    started = time.perf_counter()
    status, answer, _ = call("PUT", f"{server.base_url}/__mock/state", raw=payload, timeout=LOAD_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    if status != 200:
        stop_server(server)
        raise RuntimeError(f"PUT /__mock/state answered {status}: {str(answer)[:500]}")
    return server, elapsed, "PUT /__mock/state", rss_before


def run_large(settings: Settings, workdir: Path) -> LargeReport:
    started = time.perf_counter()
    state = large_data.build(settings.shape)
    payload = state.to_json()
    generate_s = time.perf_counter() - started
    counts, action_id = state.counts(), state.action_ids[len(state.action_ids) // 2]
    del state
    progress(f"state generated: {len(payload) / 1e6:.1f} MB JSON in {generate_s:.1f} s; loading ...")
    server, load_s, how, rss_before = load_large(settings, workdir, payload)
    json_mb = len(payload) / 1e6
    del payload
    try:
        loaded = call("GET", f"{server.base_url}/__mock/health")[1]["entities"]
        if any(loaded.get(segment) != count for segment, count in counts.items()):
            raise RuntimeError(f"the mock holds {loaded}, expected {counts}")
        report = LargeReport(counts, json_mb, generate_s, load_s, how, rss_before, rss_mb(server.pid))
        progress(f"loaded in {load_s:.1f} s; RSS {report.rss_after_load_mb:,.0f} MB")
        for scenario in large_scenarios(action_id):
            check_scenario(server, scenario)
            result = measure(settings, server, scenario, settings.large_connections, settings.large_duration_s, 0.0)
            report.results[scenario.name] = result
            progress(f"large {scenario.name:<36} p50 {result.p50_ms:,.1f} ms ({result.requests} requests)")
        report.rss_after_queries_mb = rss_mb(server.pid)
        report.peak_rss_mb = rss_mb(server.pid, "VmHWM")
        return report
    finally:
        stop_server(server)


# --- part 3: the skewed state -----------------------------------------------------------------

SKEW_TODAY = dt.date(2026, 6, 15)  # the mock's fixed clock, and the generator's `today`
# `office_name` is computed (from the directory); the spec may not allow it as a sort of
# action-subscription, so the filter on it is measured too: both are searches on a computed field.
SKEW_QUERIES = {
    "sort office_name": {"sort": "office_name", "per-page": 100},
    "filter office_name": {"filter": {"office_name": "Rome North Site"}, "per-page": 100},
    "filter status EXPIRING": {"filter": {"status": "EXPIRING"}, "per-page": 100},
}
HEALTH_AT_REST_CALLS = 200
HEALTH_POLL_INTERVAL_S = 0.01


class Budget:
    """The time left to part 3; every call's timeout is bounded by it."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def timeout(self, per_call_s: float) -> float:
        return max(min(per_call_s, self.remaining()), 0.1)


def timed(method: str, url: str, body: Any = None, raw: bytes | None = None,
          timeout: float = 60.0) -> tuple[float | None, int | None, dict[str, str]]:
    # (the body of a 4xx is parsed by `call` too: every answer of the mock is JSON)
    """(milliseconds, status, headers) of one call; (None, None, {}) when it timed out."""
    started = time.perf_counter()
    try:
        status, _, headers = call(method, url, body, raw=raw, timeout=timeout)
    except (TimeoutError, socket.timeout):
        return None, None, {}
    except urllib.error.URLError as error:
        if isinstance(error.reason, (TimeoutError, socket.timeout)):
            return None, None, {}
        raise
    return (time.perf_counter() - started) * 1000, status, headers


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share / 100 * len(ordered)) - 1, 0)]


@dataclass
class QueryTiming:
    cold_ms: float | None  # None: timed out
    repeats_ms: list[float] = field(default_factory=list)
    total: str = "-"  # X-Pagination-Total-Count of the answer
    note: str = ""


@dataclass
class HealthTiming:
    calls_ms: list[float] = field(default_factory=list)
    timed_out: int = 0

    def p(self, share: float) -> float | None:
        return percentile(self.calls_ms, share) if self.calls_ms else None


@dataclass
class SkewedReport:
    counts: dict[str, int]
    expected_statuses: dict[str, int]
    json_mb: float
    generate_s: float
    load_s: float | None
    queries: dict[str, QueryTiming] = field(default_factory=dict)
    health_rest: HealthTiming = field(default_factory=HealthTiming)
    health_import: HealthTiming = field(default_factory=HealthTiming)
    import_mb: float = 0.0
    import_s: float | None = None
    import_status: str = "-"
    skipped: list[str] = field(default_factory=list)


def wait_until_answering(server: Server, budget: Budget) -> str:
    """After a call timed out the mock is still busy with it: wait (within the budget) until
    health answers, so that the next figure is not that call's tail. Says how long that took
    (the call's true duration is at least its timeout plus that)."""
    started = time.perf_counter()
    while budget.remaining() > 0:
        elapsed, _, _ = timed("GET", f"{server.base_url}/__mock/health", timeout=budget.timeout(30.0))
        if elapsed is not None:
            return f"the mock answered health again {time.perf_counter() - started:,.0f} s later"
    return "the mock was still busy at the end of the budget"


def invalidate_derived(server: Server, action_id: str, round_number: int, budget: Budget) -> None:
    """A write of a stored field: the mock drops what it keeps of derived values and orders, so
    the next search is cold."""
    url = f"{server.base_url}/v2/action/update/{action_id}?access-token={TOKEN}"
    elapsed, status, _ = timed("PUT", url, {"description": f"bench write {round_number}"},
                               timeout=budget.timeout(120.0))
    if elapsed is None or status != 200:
        raise RuntimeError(f"the invalidating write answered {status if elapsed is not None else 'nothing (timed out)'}")


def measure_query(settings: Settings, server: Server, body: dict[str, Any], budget: Budget) -> QueryTiming:
    url = f"{server.base_url}/v2/action-subscription/index?access-token={TOKEN}"
    allowed_s = budget.timeout(settings.skew_call_timeout_s)
    cold, status, headers = timed("POST", url, body, timeout=allowed_s)
    if cold is None:
        return QueryTiming(None, note=f"cold call timed out (> {allowed_s:g} s); {wait_until_answering(server, budget)}")
    if status != 200:  # e.g. a sort the spec does not allow: say so, measure nothing more
        return QueryTiming(cold, note=f"answered {status}, not 200: not measured")
    total = next((value for name, value in headers.items() if name.lower() == "x-pagination-total-count"), "-")
    timing = QueryTiming(cold, total=total)
    until = time.monotonic() + settings.skew_repeat_s
    while len(timing.repeats_ms) < settings.skew_repeats and time.monotonic() < until and budget.remaining() > 0:
        elapsed, _, _ = timed("POST", url, body, timeout=budget.timeout(settings.skew_call_timeout_s))
        if elapsed is None:
            timing.note = f"a repeated call timed out; {wait_until_answering(server, budget)}"
            break
        timing.repeats_ms.append(elapsed)
    return timing


def health_at_rest(server: Server, budget: Budget) -> HealthTiming:
    timing = HealthTiming()
    for _ in range(HEALTH_AT_REST_CALLS):
        elapsed, _, _ = timed("GET", f"{server.base_url}/__mock/health", timeout=budget.timeout(30.0))
        if elapsed is None:
            timing.timed_out += 1
        else:
            timing.calls_ms.append(elapsed)
    return timing


def import_payload(import_mb: float) -> bytes:
    """A sessions state of about `import_mb` MB (large_data's shape, fewer actions)."""
    per_action = len(large_data.build(large_data.Shape(actions=10)).to_json()) / 10
    actions = max(1, round(import_mb * 1e6 / per_action))
    return large_data.build(large_data.Shape(actions=actions)).to_json()


def health_during_import(settings: Settings, server: Server, payload: bytes, budget: Budget,
                         report: SkewedReport) -> None:
    """Health polled every 10 ms from this thread while another thread PUTs `payload`."""
    outcome: dict[str, Any] = {}

    def put() -> None:
        started = time.perf_counter()
        try:
            status = call("PUT", f"{server.base_url}/__mock/state", raw=payload, timeout=budget.timeout(LOAD_TIMEOUT_S))[0]
            outcome["status"] = str(status)
        except (TimeoutError, socket.timeout, urllib.error.URLError) as error:
            outcome["status"] = f"no answer ({error})"
        outcome["seconds"] = time.perf_counter() - started

    importer = threading.Thread(target=put, daemon=True)
    importer.start()
    while importer.is_alive() and budget.remaining() > 0:
        elapsed, _, _ = timed("GET", f"{server.base_url}/__mock/health", timeout=budget.timeout(settings.skew_call_timeout_s))
        if elapsed is None:
            report.health_import.timed_out += 1
        else:
            report.health_import.calls_ms.append(elapsed)
        time.sleep(HEALTH_POLL_INTERVAL_S)
    importer.join(timeout=budget.remaining())
    report.import_s = outcome.get("seconds")
    report.import_status = outcome.get("status", "still running at the end of the budget")


def run_skewed(settings: Settings, workdir: Path) -> SkewedReport:
    budget = Budget(settings.skew_budget_s)
    started = time.perf_counter()
    state = skewed_data.build(SKEW_TODAY, settings.skew, settings.shape)
    payload = state.to_json()
    report = SkewedReport(state.counts(), dict(state.expected_statuses), len(payload) / 1e6,
                          time.perf_counter() - started, None)
    action_id = state.action_ids[0]
    del state
    progress(f"skewed state generated: {report.json_mb:.1f} MB JSON in {report.generate_s:.1f} s; loading ...")
    server = start_server("mock", mock_argv([*_empty_mock_args(workdir), "--today", SKEW_TODAY.isoformat()]))
    try:
        load_started = time.perf_counter()
        try:
            status, answer, _ = call("PUT", f"{server.base_url}/__mock/state", raw=payload,
                                     timeout=budget.timeout(LOAD_TIMEOUT_S))
        except (TimeoutError, socket.timeout, urllib.error.URLError):
            report.skipped.append("everything: the load timed out")
            return report
        del payload
        if status != 200:
            raise RuntimeError(f"PUT /__mock/state answered {status}: {str(answer)[:500]}")
        report.load_s = time.perf_counter() - load_started
        progress(f"loaded in {report.load_s:.1f} s")
        report.health_rest = health_at_rest(server, budget)
        for round_number, (name, body) in enumerate(SKEW_QUERIES.items()):
            if budget.remaining() <= 0:
                report.skipped.append(name)
                continue
            invalidate_derived(server, action_id, round_number, budget)
            report.queries[name] = timing = measure_query(settings, server, body, budget)
            cold = f"{timing.cold_ms:,.0f} ms" if timing.cold_ms is not None else "timed out"
            progress(f"skewed {name:<24} cold {cold}, {len(timing.repeats_ms)} repeated calls")
        if budget.remaining() <= 0:
            report.skipped.append("health during an import")
            return report
        progress(f"building a ~{settings.import_mb:g} MB import ...")
        import_document = import_payload(settings.import_mb)
        report.import_mb = len(import_document) / 1e6
        health_during_import(settings, server, import_document, budget, report)
        return report
    finally:
        stop_server(server)


def _ms(value: float | None) -> str:
    return "timed out" if value is None else f"{value:,.1f}"


def print_skewed(settings: Settings, report: SkewedReport) -> None:
    print(f"\n== Part 3: skewed data ({settings.skew.actions:,} actions x {settings.skew.persons} people, "
          f"plus {settings.shape.actions:,} actions x {settings.shape.sessions_per_action} sessions); "
          f"clock fixed at {SKEW_TODAY}")
    print("entities: " + ", ".join(f"{segment} {count:,}" for segment, count in report.counts.items()))
    print("skewed subscriptions by status (as generated): "
          + ", ".join(f"{status} {count:,}" for status, count in sorted(report.expected_statuses.items())))
    print(f"state JSON: {report.json_mb:,.1f} MB, generated in {report.generate_s:.1f} s; "
          f"load (PUT /__mock/state): {_ms(report.load_s * 1000 if report.load_s is not None else None)} ms")
    print(f"per call timeout {settings.skew_call_timeout_s:g} s; repeated calls: up to {settings.skew_repeats} "
          f"within {settings.skew_repeat_s:g} s; budget {settings.skew_budget_s:g} s\n")
    rows = []
    for name, timing in report.queries.items():
        repeats = timing.repeats_ms
        rows.append([name, _ms(timing.cold_ms), str(len(repeats)),
                     _ms(percentile(repeats, 50)) if repeats else "-", _ms(percentile(repeats, 99)) if repeats else "-",
                     timing.total, timing.note or "-"])
    print(table(["action-subscription/index, per-page 100", "cold ms", "repeats", "p50 ms", "p99 ms",
                 "total count", "note"], rows))
    print()
    rest, busy = report.health_rest, report.health_import
    rows = [["at rest", str(len(rest.calls_ms)), _ms(rest.p(50)), _ms(rest.p(99)),
             _ms(max(rest.calls_ms) if rest.calls_ms else None), str(rest.timed_out)],
            [f"during a {report.import_mb:,.1f} MB import", str(len(busy.calls_ms)), _ms(busy.p(50)), _ms(busy.p(99)),
             _ms(max(busy.calls_ms) if busy.calls_ms else None), str(busy.timed_out)]]
    print(table(["GET /__mock/health", "calls", "p50 ms", "p99 ms", "max ms", "timed out"], rows))
    if rest.calls_ms and busy.calls_ms:
        print(f"ratio during import / at rest: p50 {busy.p(50) / rest.p(50):,.1f}x, "
              f"p99 {busy.p(99) / rest.p(99):,.1f}x")
    print(f"the import: {report.import_status} in "
          f"{_ms(report.import_s * 1000 if report.import_s is not None else None)} ms")
    if report.skipped:
        print("not measured (budget spent): " + ", ".join(report.skipped))


# --- printing ---------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """Columns padded to their widest cell; the first `text_columns` left-aligned, the others right."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = zip(cells, widths, strict=True)
        return "  ".join(c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(padded))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def wrk_version(wrk: str) -> str:
    output = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    return (output.stdout or output.stderr).splitlines()[0].split(" Copyright")[0]


def print_environment(settings: Settings) -> None:
    from importlib.metadata import version

    packages = ", ".join(f"{p} {version(p)}" for p in ("connexion", "starlette", "uvicorn", "uvloop", "httptools"))
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; {packages}")
    if settings.wrk:
        print(f"load generator: {wrk_version(settings.wrk)}")
    print("servers: uvicorn, 1 process, 127.0.0.1, access log off, log level warning")


def print_servers(settings: Settings, report: ServersReport) -> None:
    targets = report.targets
    print(f"\n== Part 1: mock vs baselines (wrk -t{settings.threads} -c{settings.connections}, "
          f"{settings.duration_s:g} s per scenario after {settings.warmup_s:g} s warm-up; "
          f"best of {settings.rounds} round{'s' if settings.rounds > 1 else ''})")
    print(f"host load average (1/5/15 min) before: {report.load_before}, after: {report.load_after} "
          f"on {os.cpu_count()} CPUs")
    print(f"mock data: {report.mock_data}")
    print(f"view   GET  /v2/action/view/{targets.view_action_id} (countSubscribed {targets.count_subscribed})")
    print(f"index  POST /v2/action-session/index {{\"per-page\":100}} ({report.items['index']} items per page)")
    print("create POST /v2/action-session-date/create (baselines: the same body to their index-like POST)\n")
    rows = []
    for name in SERVER_NAMES:
        for scenario in SCENARIO_NAMES:
            r = report.best(name, scenario)
            errors = sum(x.errors + x.timeouts for x in report.runs[(name, scenario)])
            rows.append([name, scenario, f"{r.rps:,.0f}", report.spread(name, scenario), f"{r.p50_ms:.2f}",
                         f"{r.p99_ms:.2f}", f"{r.cpu_us_per_request:,.0f}", f"{r.bytes_per_response:,.0f}",
                         str(errors)])
    headers = ["server", "scenario", "req/s", "req/s min-max", "p50 ms", "p99 ms", "CPU us/req", "bytes/resp", "errors"]
    print(table(headers, rows, text_columns=2))
    print("(CPU us/req: user+system time of the server process per request, from /proc/<pid>/stat)\n")
    rows = []
    for scenario in SCENARIO_NAMES:
        mock, empty, bare = (report.best(name, scenario) for name in SERVER_NAMES)
        ratio = mock.rps / empty.rps
        target = f"{verdict(ratio >= THROUGHPUT_TARGET)} (>= {THROUGHPUT_TARGET:.2f})" if scenario != "create" else "-"
        rows.append([scenario, f"{ratio:.2f}", f"{mock.rps / bare.rps:.2f}",
                     f"{empty.cpu_us_per_request / mock.cpu_us_per_request:.2f}",
                     f"{bare.cpu_us_per_request / mock.cpu_us_per_request:.2f}", target])
    headers = ["scenario", "req/s mock/empty-connexion", "req/s mock/starlette",
               "by CPU mock/empty-connexion", "by CPU mock/starlette", "target (req/s)"]
    print(table(headers, rows))
    print("(by CPU: the inverse ratio of CPU us/req: the throughput ratio on a core of each server's own)")


def print_large(settings: Settings, report: LargeReport) -> None:
    shape, counts = settings.shape, report.counts
    print(f"\n== Part 2: large data ({shape.actions:,} actions x {shape.sessions_per_action} sessions)")
    print("entities: " + ", ".join(f"{segment} {count:,}" for segment, count in counts.items()))
    print(f"state JSON: {report.json_mb:,.1f} MB, generated in {report.generate_s:.1f} s")
    print(f"load: {report.load_s:.1f} s via {report.load_how}")
    print(f"index, per-page 100, wrk -t1 -c{settings.large_connections}, {settings.large_duration_s:g} s per query\n")
    rows = []
    for name, r in report.results.items():
        target = f"{verdict(r.p50_ms < LATENCY_TARGET_MS)} (p50 < {LATENCY_TARGET_MS:g} ms)"
        rows.append([name, str(r.requests), f"{r.rps:,.1f}", f"{r.p50_ms:,.2f}", f"{r.p99_ms:,.2f}",
                     str(r.errors + r.timeouts), target])
    print(table(["query", "requests", "req/s", "p50 ms", "p99 ms", "errors", "target"], rows))
    print()
    def against_target(mb: float) -> str:
        return f"{verdict(mb < RSS_TARGET_MB)} (< {RSS_TARGET_MB:g} MB)"

    rss_rows = [
        ["before load (no entities)", f"{report.rss_before_load_mb:,.0f}" if report.rss_before_load_mb else "-", "-"],
        ["after load", f"{report.rss_after_load_mb:,.0f}", against_target(report.rss_after_load_mb)],
        ["after the queries", f"{report.rss_after_queries_mb:,.0f}", against_target(report.rss_after_queries_mb)],
        ["peak (VmHWM)", f"{report.peak_rss_mb:,.0f}", "-"],
    ]
    print(table(["mock RSS (VmRSS)", "MB", "target"], rss_rows))


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="python bench/run_bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario")
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 10; --quick 3)")
    parser.add_argument("--warmup", type=float,
                        help="warm-up seconds before each part-1 scenario, whole seconds (default 1; 0: none)")
    parser.add_argument("--rounds", type=int, help="part 1 rounds; the best is shown (default 3; --quick 1)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections in part 1 (default 16)")
    parser.add_argument("--timeout", type=float, default=60, help="wrk request timeout, seconds (default 60)")
    parser.add_argument("--large-connections", type=int, default=1,
                        help="wrk connections in part 2 (default 1: latency of one request, without queueing)")
    parser.add_argument("--large-duration", type=float, help="seconds per part-2 query (default: --duration)")
    parser.add_argument("--large-load", choices=("put", "seed"), default="put",
                        help="load the large state by PUT /__mock/state (default) or start the mock with --seed FILE")
    parser.add_argument("--actions", type=int, default=1000, help="part 2: actions (default 1000)")
    parser.add_argument("--sessions-per-action", type=int, default=100,
                        help="part 2: sessions per action (default 100)")
    parser.add_argument("--part", choices=("all", "servers", "large", "skewed"), default="all")
    parser.add_argument("--skewed", action="store_true", help="run only part 3, the skewed data (= --part skewed)")
    parser.add_argument("--skewed-budget", type=float, default=600.0,
                        help="part 3: seconds for the whole part; what is left unmeasured is reported (default 600)")
    parser.add_argument("--skewed-timeout", type=float, default=120.0,
                        help="part 3: seconds one call may take before it is reported as timed out (default 120)")
    parser.add_argument("--skewed-repeats", type=int, default=30,
                        help="part 3: repeated calls per query after the cold one (default 30, within 30 s)")
    parser.add_argument("--skewed-actions", type=int, default=1200, help="part 3: actions of the skewed set (default 1200)")
    parser.add_argument("--skewed-persons", type=int, default=35, help="part 3: people of the skewed set (default 35)")
    parser.add_argument("--import-mb", type=float, default=50.0,
                        help="part 3: size of the import that runs while health is measured (default 50)")
    parser.add_argument("--wrk", help="path of the wrk binary (default: wrk on PATH)")
    args = parser.parse_args(argv)
    part = "skewed" if args.skewed else args.part
    parts = ("servers", "large", "skewed") if part == "all" else (part,)
    duration = args.duration or (3.0 if args.quick else 10.0)
    warmup = args.warmup if args.warmup is not None else 1.0
    needs_wrk = "servers" in parts or "large" in parts
    return Settings(
        wrk=find_wrk(args.wrk) if needs_wrk else "", threads=args.threads, connections=args.connections, duration_s=duration,
        warmup_s=warmup, timeout_s=args.timeout, large_connections=args.large_connections,
        large_duration_s=args.large_duration or duration, large_load=args.large_load,
        rounds=args.rounds or (1 if args.quick else 3),
        shape=large_data.Shape(actions=args.actions, sessions_per_action=args.sessions_per_action),
        parts=parts,
        skew=skewed_data.SkewShape(actions=args.skewed_actions, persons=args.skewed_persons),
        skew_call_timeout_s=args.skewed_timeout, skew_budget_s=args.skewed_budget, skew_repeats=args.skewed_repeats,
        import_mb=args.import_mb,
    )


def print_targets(servers: ServersReport | None, large: LargeReport | None, skewed: SkewedReport | None = None) -> None:
    print("\n== Targets (reported, not asserted)")
    if servers is not None:
        for scenario in ("view", "index"):
            mock, empty = servers.best("mock", scenario), servers.best("empty-connexion", scenario)
            ratio, by_cpu = mock.rps / empty.rps, empty.cpu_us_per_request / mock.cpu_us_per_request
            print(f"  {verdict(ratio >= THROUGHPUT_TARGET)}  mock {scenario} >= {THROUGHPUT_TARGET:.0%} of the empty "
                  f"Connexion app's req/s: {ratio:.0%} (by CPU per request: {by_cpu:.0%}, "
                  f"{verdict(by_cpu >= THROUGHPUT_TARGET)})")
    if large is not None:
        sessions = large.counts.get("action-session", 0)
        for name, r in large.results.items():
            print(f"  {verdict(r.p50_ms < LATENCY_TARGET_MS)}  index over {sessions:,} sessions, per-page 100, "
                  f"{name}: p50 {r.p50_ms:,.1f} ms (< {LATENCY_TARGET_MS:g} ms)")
        rss = max(large.rss_after_load_mb, large.rss_after_queries_mb)
        print(f"  {verdict(rss < RSS_TARGET_MB)}  mock RSS with that data: {rss:,.0f} MB (< {RSS_TARGET_MB:g} MB)")
    if skewed is not None:
        for name, timing in skewed.queries.items():
            p50 = percentile(timing.repeats_ms, 50) if timing.repeats_ms else None
            cold = "timed out" if timing.cold_ms is None else f"{timing.cold_ms:,.1f} ms"
            figures = f"p50 {p50:,.1f} ms, cold {cold}" if p50 is not None else f"cold {cold}; {timing.note}"
            print(f"  {verdict(p50 is not None and p50 < SKEWED_TARGET_MS)}  skewed action-subscription {name}, "
                  f"per-page 100: {figures} (p50 < {SKEWED_TARGET_MS:g} ms)")
        p99 = skewed.health_import.p(99)
        shown = "not measured" if p99 is None else f"{p99:,.1f} ms"
        print(f"  {verdict(p99 is not None and p99 < SKEWED_TARGET_MS and not skewed.health_import.timed_out)}  "
              f"/__mock/health p99 during a {skewed.import_mb:,.0f} MB import: {shown} (< {SKEWED_TARGET_MS:g} ms)")


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # in step with the progress lines
    print_environment(settings)
    servers = large = skewed = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if "servers" in settings.parts:
            servers = run_servers(settings, Path(tmp))
            print_servers(settings, servers)
        if "large" in settings.parts:
            large = run_large(settings, Path(tmp))
            print_large(settings, large)
        if "skewed" in settings.parts:
            skewed = run_skewed(settings, Path(tmp))
            print_skewed(settings, skewed)
    print_targets(servers, large, skewed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
