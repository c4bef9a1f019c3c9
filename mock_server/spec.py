"""Find the spec, bundle its files into one document, and read field lists from it.

The spec is split into files (`openapi.yaml`, `common.yaml`, `resources/*.yaml`). Tools that
serve or test it want one document, so `load_spec` inlines every external `$ref`, except that a
target the entry file names under `components` becomes a local `#/components/...` ref again:
the bundled document keeps the schema names a reader sees in the files.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import yaml

ENTRY_FILE = "openapi.yaml"
BUNDLE_FILE = "openapi.bundled.json"  # the one-file bundle to take away, next to the entry file
SPEC_PATH = "/openapi.json"  # where the mock serves the bundle
SPEC_DIR_ENV = "MOCK_4HSE_SPEC_DIR"


def spec_dir() -> Path:
    """The folder of the spec: an override, the copy installed with the package, or the repo's."""
    override = os.environ.get(SPEC_DIR_ENV)
    candidates = [Path(override)] if override else []
    here = Path(__file__).resolve().parent
    candidates += [here / "openapi", here.parent / "openapi"]
    for candidate in candidates:
        if (candidate / ENTRY_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"no {ENTRY_FILE} in any of {[str(c) for c in candidates]}")


class _Bundler:
    def __init__(self, entry: Path) -> None:
        self.entry = entry.resolve()
        self.files: dict[Path, Any] = {}
        # (file, json pointer) -> local ref, for every target the entry names in components
        self.named: dict[tuple[Path, str], str] = {}

    def load(self, path: Path) -> Any:
        path = path.resolve()
        if path not in self.files:
            with path.open(encoding="utf-8") as stream:
                self.files[path] = yaml.safe_load(stream)
        return self.files[path]

    @staticmethod
    def pointer(document: Any, pointer: str) -> Any:
        node = document
        for token in filter(None, pointer.lstrip("/").split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def target(self, ref: str, base: Path) -> tuple[Path, str]:
        location, fragment = urldefrag(ref)
        path = (base.parent / location).resolve() if location else base
        return path, fragment

    def bundle(self) -> dict[str, Any]:
        document = copy.deepcopy(self.load(self.entry))
        for kind, members in document.get("components", {}).items():
            for name, member in (members or {}).items():
                if isinstance(member, dict) and set(member) == {"$ref"}:
                    self.named[self.target(member["$ref"], self.entry)] = f"#/components/{kind}/{name}"
        components = {
            kind: {name: self.resolve_named(member, (kind, name)) for name, member in (members or {}).items()}
            for kind, members in document.get("components", {}).items()
        }
        document = self.walk(document, self.entry)
        document["components"] = components
        return document

    def resolve_named(self, member: Any, where: tuple[str, str]) -> Any:
        if isinstance(member, dict) and set(member) == {"$ref"}:
            path, fragment = self.target(member["$ref"], self.entry)
            return self.walk(self.pointer(self.load(path), fragment), path)
        return self.walk(member, self.entry)

    def walk(self, node: Any, base: Path) -> Any:
        if isinstance(node, list):
            return [self.walk(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            key = self.target(ref, base)
            if key in self.named:
                return {"$ref": self.named[key]}
            path, fragment = key
            return self.walk(self.pointer(self.load(path), fragment), path)
        return {key: self.walk(value, base) for key, value in node.items()}


@functools.lru_cache(maxsize=4)
def _load_cached(entry: str) -> dict[str, Any]:
    return _Bundler(Path(entry)).bundle()


def load_spec(entry: Path | None = None) -> dict[str, Any]:
    """The bundled spec as one dict (a fresh copy each call: callers may change it)."""
    entry = entry or spec_dir() / ENTRY_FILE
    return copy.deepcopy(_load_cached(str(Path(entry).resolve())))


def bundle_text(spec: dict[str, Any]) -> str:
    """The bundle as the mock serves it and as the takeaway file holds it: JSON, named refs kept."""
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def spec_endpoint(spec: dict[str, Any]):
    """A route serving `spec` as it is: Connexion's own `/openapi.json` inlines every `$ref`, and
    generators then make one model per operation instead of `Action`, `Certificate`, ..."""
    from starlette.responses import Response

    body = bundle_text(spec).encode("utf-8")

    async def openapi_json(request: Any) -> Response:
        return Response(body, media_type="application/json")

    return openapi_json


def main(argv: list[str] | None = None) -> int:
    """`python -m mock_server.spec [--check]`: write (or check) openapi/openapi.bundled.json."""
    parser = argparse.ArgumentParser(prog="python -m mock_server.spec", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the bundle file is not up to date")
    args = parser.parse_args(argv)
    target = spec_dir() / BUNDLE_FILE
    text = bundle_text(load_spec())
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is not up to date: run python -m mock_server.spec", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
