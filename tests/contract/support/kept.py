"""What a run with --keep-data left on the target, and how to delete it later.

With --keep-data nothing the run creates is deleted (neither at the end of a scope nor of the
run), so the curl lines of a failure repeat it afterwards. At the end the run lists, by resource,
the entities that are still there and writes them to a file; this module deletes them again:

    .venv/bin/python -m tests.contract.support.kept contract-kept-ct1a2b3c4d.json --token "$CONTRACT_TOKEN"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .target import DEFAULT_TOKEN, AuthMode, Target, TargetOptions, open_target

# (run marker, segment, id) of every entity the run left, in creation order
KEPT: list[tuple[str, str, str]] = []


def still_there(target: Target, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The entities that a view still finds (Schemathesis' own deletes may have removed some)."""
    return [(segment, entity_id) for segment, entity_id in keys if target.request("GET", f"/v2/{segment}/view/{entity_id}").status_code == 200]


def note_kept(target: Target, marker: str, keys: Sequence[tuple[str, str]]) -> None:
    KEPT.extend((marker, segment, entity_id) for segment, entity_id in still_there(target, keys))


def kept_file_name(kept: Sequence[tuple[str, str, str]]) -> str:
    return f"contract-kept-{min(marker for marker, _, _ in kept)}.json"


def write_kept(path: Path, target_url: str, kept: Sequence[tuple[str, str, str]]) -> None:
    entities = [{"marker": marker, "resource": segment, "id": entity_id} for marker, segment, entity_id in kept]
    path.write_text(json.dumps({"target_url": target_url, "entities": entities}, indent=1) + "\n", encoding="utf-8")


def summary_lines(path: Path, target_url: str, kept: Sequence[tuple[str, str, str]]) -> list[str]:
    counts = Counter(segment for _, segment, _ in kept)
    markers = sorted({marker for marker, _, _ in kept})
    return [
        f"{len(kept)} entities of this run stay on {target_url} (run markers {', '.join(markers)}):",
        *(f"  {segment}: {count}" for segment, count in sorted(counts.items())),
        f"listed in {path}; delete them with:",
        f'  .venv/bin/python -m tests.contract.support.kept {path} --token "$CONTRACT_TOKEN"',
    ]


def delete_kept(target: Target, entities: Sequence[dict[str, str]]) -> list[str]:
    """Delete (force=true) the listed entities, newest first; returns what could not be."""
    stayed = []
    for entity in reversed(entities):
        answer = target.request("DELETE", f"/v2/{entity['resource']}/delete/{entity['id']}", params={"force": "true"})
        if answer.status_code not in (204, 404):  # 404: gone with a parent deleted before
            stayed.append(f"{entity['resource']} {entity['id']}: {answer.status_code}")
    return stayed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.contract.support.kept", description="delete what a --keep-data run left")
    parser.add_argument("files", type=Path, nargs="+", metavar="file", help="the contract-kept-*.json files the runs wrote")
    parser.add_argument("--token", default=os.environ.get("CONTRACT_TOKEN", DEFAULT_TOKEN), help="API token [CONTRACT_TOKEN]")
    parser.add_argument("--auth-mode", choices=[AuthMode.HEADER.value, AuthMode.QUERY.value], default=os.environ.get("CONTRACT_AUTH_MODE", AuthMode.HEADER.value))
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        status |= delete_listed_in(path, args.token, AuthMode(args.auth_mode))
    return status


def delete_listed_in(path: Path, token: str, auth_mode: AuthMode) -> int:
    listed = json.loads(path.read_text(encoding="utf-8"))
    target = open_target(TargetOptions(url=listed["target_url"], token=token, auth_mode=auth_mode, allow_writes=True))
    try:
        stayed = delete_kept(target, listed["entities"])
    finally:
        target.close()
    print(f"deleted {len(listed['entities']) - len(stayed)} of {len(listed['entities'])} entities listed in {path}")
    for line in stayed:
        print(f"  could not delete {line}")
    return 1 if stayed else 0


if __name__ == "__main__":
    sys.exit(main())
