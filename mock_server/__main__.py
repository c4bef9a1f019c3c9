"""Command line: `python -m mock_server` (or `mock-4hse`) starts the mock with its seed data."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import logging
import sys
from pathlib import Path

from .config import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TOKEN, DEFAULT_USERS, MockConfig

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected USER:PASSWORD, got {text!r}")
    return name, password


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mock-4hse",
        description="Stateful mock of the 4HSE API v2 (actions, sessions, dates, certificates and their links).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--token", action="append", dest="tokens", metavar="TOKEN",
                        help=f"a valid API token; repeatable (default: {DEFAULT_TOKEN})")
    parser.add_argument("--user", action="append", dest="users", type=_user, metavar="USER:PASSWORD",
                        help="a user of the OAuth2 password flow; repeatable (default demo:demo)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--empty", action="store_true", help="start with reference data only (no entities)")
    data.add_argument("--seed", type=Path, metavar="FILE", help="load this seed file (YAML or JSON) instead of the bundled one")
    parser.add_argument("--today", type=_date, metavar="YYYY-MM-DD", help="fix the date statuses and counts use (default: the real date)")
    parser.add_argument("--validate-responses", action="store_true", help="check every response against the spec (slower)")
    parser.add_argument("--control-token", metavar="TOKEN",
                        help="require this token on every /__mock/ call (header X-Mock-Control-Token or "
                             "Authorization: Bearer); needed to listen on an address that is not loopback")
    cors = parser.add_mutually_exclusive_group()
    cors.add_argument("--cors-origin", action="append", dest="cors_origins", metavar="ORIGIN",
                      help="a browser origin allowed to call the mock (CORS), repeatable; '*' for any "
                           "(default: http://localhost:* and http://127.0.0.1:*, any port)")
    cors.add_argument("--no-cors", action="store_true", help="send no CORS headers")
    parser.add_argument("--state-file", type=Path, metavar="FILE",
                        help="load the state from FILE at start when it exists; save it there (atomically) "
                             "on shutdown and on POST /__mock/save")
    parser.add_argument("--quiet", action="store_true", help="no access log line per request")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    add_network_arguments(parser)
    return parser.parse_args(argv)


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """Network simulation and webhooks."""
    network = parser.add_argument_group("network simulation and webhooks")
    network.add_argument("--latency", metavar="MS|MIN-MAX", help="delay every /v2 answer by MS, or a random MIN..MAX, milliseconds")
    network.add_argument("--faults", type=Path, metavar="FILE", help="fault rules, a YAML or JSON list (see /__mock/faults)")
    network.add_argument("--fault-seed", type=int, metavar="N", help="seed of the fault and latency draws (repeatable runs)")
    network.add_argument("--webhook-url", action="append", dest="webhook_urls", metavar="URL",
                         help="POST the certificate events to URL; repeatable")
    network.add_argument("--webhook-secret", metavar="SECRET",
                         help="sign each delivery: X-Mock-Signature: sha256=<HMAC-SHA256 of the body, hex>")


def config_from(args: argparse.Namespace) -> MockConfig:
    return MockConfig(
        tokens=tuple(args.tokens or (DEFAULT_TOKEN,)),
        users=dict(args.users) if args.users else dict(DEFAULT_USERS),
        seed_path=args.seed,
        empty=args.empty,
        today=args.today,
        validate_responses=args.validate_responses,
        control_token=args.control_token,
        cors=not args.no_cors,
        cors_origins=tuple(args.cors_origins) if args.cors_origins else None,
        state_file=args.state_file,
        latency=args.latency,
        faults_path=args.faults,
        fault_seed=args.fault_seed,
        webhook_urls=tuple(args.webhook_urls or ()),
        webhook_secret=args.webhook_secret,
    )


def is_loopback(host: str) -> bool:
    """Whether `host` is `localhost` or a loopback address literal (127.0.0.0/8, ::1). Names are
    not resolved: any other name may reach the network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(args: argparse.Namespace) -> str | None:
    """Why the mock must not start with `args`, or None."""
    if args.control_token == "":
        return "--control-token must not be empty"
    if not is_loopback(args.host) and args.control_token is None:
        return (f"--host {args.host} is not a loopback address: anyone who reaches it could replace or wipe the "
                f"state through /__mock/. Give --control-token TOKEN (the controls then need it), or listen on 127.0.0.1.")
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refused = refusal(args)
    if refused:  # before loading anything and before binding
        print(f"mock-4hse: {refused}", file=sys.stderr)
        return 2

    import socket
    import warnings

    # Connexion imports Starlette's test client, which warns about httpx; noise for a server.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    import uvicorn

    from .app import create_app
    from .network_setup import NetworkConfigError

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.quiet:
        logging.getLogger("mock_server.access").setLevel(logging.WARNING)
    config = config_from(args)
    try:
        app = create_app(config)
    except NetworkConfigError as error:
        print(f"mock-4hse: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        what = f"the state file {config.state_file}" if config.state_file and config.state_file.exists() else "the seed data"
        print(f"mock-4hse: cannot load {what}: {error}", file=sys.stderr)
        return 2

    # Bind first, so that --port 0 can print the port it got.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        print(f"mock-4hse: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    domain = app.mock_state.domain  # type: ignore[attr-defined]
    state_file = app.mock_state_file  # type: ignore[attr-defined]
    if state_file is not None:  # before the URL: a test reads it as soon as the mock listens
        print(f"4HSE mock: {state_file.start_line()}", flush=True)
    print(f"4HSE mock listening on {base}", flush=True)
    print(f"  API docs (Swagger UI): {base}/docs/   spec: {base}/openapi.json", flush=True)
    print(f"  token: {config.tokens[0]}   e.g. curl -X POST '{base}/v2/action/index?access-token={config.tokens[0]}'", flush=True)
    print(f"  today: {domain.clock.today().isoformat()}{' (fixed)' if config.today else ''}   "
          f"dashboard: {base}/__mock/   controls: {base}/__mock/health", flush=True)
    if config.control_token is not None:
        print("  the controls need the control token (header X-Mock-Control-Token)", flush=True)
    # The access log is the mock's own (mock_server.access: workspace and duration included).
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, access_log=False))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
