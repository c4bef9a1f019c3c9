"""What a run with --keep-data left on the target, and how to delete it later.

With --keep-data nothing the run creates is deleted (neither at the end of a scope nor of the
run), so the curl lines of a failure repeat it afterwards. At the end the run lists, by resource,
the entities that are still there and writes them to a file; this module deletes them again:

    .venv/bin/python -m tests.contract.support.kept contract-kept-ct1a2b3c4d.json --token mock-token
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .budget import BUDGET
from .target import DEFAULT_TOKEN, AuthMode, Target, TargetOptions, open_target

# (run marker, segment, id) of every entity the run left, in creation order
KEPT: list[tuple[str, str, str]] = []


def still_there(target: Target, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The entities that a view does not find gone (Schemathesis' own deletes may have removed
    some): only a 404 means gone; an entity whose view answered anything else stays listed."""
    return [(segment, entity_id) for segment, entity_id in keys if target.request("GET", f"/v2/{segment}/view/{entity_id}").status_code != 404]


def note_kept(target: Target, marker: str, keys: Sequence[tuple[str, str]]) -> None:
    KEPT.extend((marker, segment, entity_id) for segment, entity_id in still_there(target, keys))


def kept_file_name(kept: Sequence[tuple[str, str, str]]) -> str:
    return f"contract-kept-{min(marker for marker, _, _ in kept)}.json"


def write_kept(path: Path, target_url: str, kept: Sequence[tuple[str, str, str]]) -> None:
    entities = [{"marker": marker, "resource": segment, "id": entity_id} for marker, segment, entity_id in kept]
    path.write_text(json.dumps({"target_url": target_url, "entities": entities}, indent=1) + "\n", encoding="utf-8")


def summary_lines(path: Path, target_url: str, kept: Sequence[tuple[str, str, str]], token: str) -> list[str]:
    counts = Counter(segment for _, segment, _ in kept)
    markers = sorted({marker for marker, _, _ in kept})
    return [
        f"{len(kept)} entities of this run stay on {target_url} (run markers {', '.join(markers)}):",
        *(f"  {segment}: {count}" for segment, count in sorted(counts.items())),
        f"listed in {path}; delete them with:",
        f"  .venv/bin/python -m tests.contract.support.kept {path} {token_argument(token)}",
    ]


def token_argument(token: str) -> str:
    """How the printed delete command names the run's token: the mock's own token as it is, any
    other from the environment (a real token is a secret, and is not printed)."""
    return f"--token {DEFAULT_TOKEN}" if token == DEFAULT_TOKEN else '--token "$CONTRACT_TOKEN"  (with CONTRACT_TOKEN set to the token of the run)'



def force_delete_newest_first(target: Target, keys: Sequence[tuple[str, str]]) -> list[str]:
    """Delete (force=true) these (segment, id) entities, newest first, since children were created
    after their parents; returns what could not be deleted. One delete that fails, however, does
    not stop the others."""
    stayed = []
    for segment, entity_id in reversed(list(keys)):
        try:
            with BUDGET.cleaning():  # past the request budget too: nothing of the run stays
                answer = target.request("DELETE", f"/v2/{segment}/delete/{entity_id}", params={"force": "true"})
        except Exception as error:  # noqa: BLE001 - cleanup goes on whatever one delete does
            stayed.append(f"{segment} {entity_id}: {error!r}")
            continue
        if answer.status_code not in (204, 404):  # 404: gone with a parent deleted before
            stayed.append(f"{segment} {entity_id}: {answer.status_code}")
    return stayed


def delete_kept(target: Target, entities: Sequence[dict[str, str]]) -> list[str]:
    """Delete the entities a kept file lists; returns what could not be."""
    return force_delete_newest_first(target, [(entity["resource"], entity["id"]) for entity in entities])


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
