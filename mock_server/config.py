"""The settings of one mock instance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TOKEN = "mock-token"
DEFAULT_USERS = {"demo": "demo"}
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class MockConfig:
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    # OAuth2 password flow users (username -> password) of the mock's token endpoint.
    users: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_USERS))
    seed_path: Path | None = None  # None: the bundled seed
    empty: bool = False  # reference data only, no entities
    today: dt.date | None = None  # None: the real date, day by day
    validate_responses: bool = False
    # When set, every /__mock/ call needs it (X-Mock-Control-Token or Authorization: Bearer).
    control_token: str | None = None
    cors: bool = True  # False: no CORS headers (--no-cors)
    # Allowed browser origins ("*": all); None: http://localhost:* and http://127.0.0.1:*.
    cors_origins: tuple[str, ...] | None = None
    # The default workspace is loaded from it at start (when it exists) and saved to it.
    state_file: Path | None = None

    # Network simulation and webhooks (mock_server/network.py, webhooks.py).
    latency: str | None = None  # "MS" or "MIN-MAX" for every /v2 answer
    faults_path: Path | None = None  # fault rules, YAML or JSON
    fault_seed: int | None = None  # repeatable fault and latency draws
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
