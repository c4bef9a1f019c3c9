"""The command line of the mock (`python -m mock_server`): a seed that cannot load stops it
with exit status 2 and a message, before it listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from mockworld import MISSING, REPO, small_world_data


def test_a_broken_seed_stops_the_command_with_status_2(tmp_path: Path) -> None:
    data = small_world_data()
    broken = {**data, "entities": {**data["entities"],
                                   "action-session": [{**data["entities"]["action-session"][0], "action_id": MISSING}]}}
    seed = tmp_path / "broken.yaml"
    seed.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--port", "0", "--seed", str(seed), "--log-level", "warning"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "cannot load the seed data" in result.stderr
    assert "listening" not in result.stdout
