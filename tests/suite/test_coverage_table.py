"""The coverage table (`tests/contract/support/coverage.py`, rendered in tests/contract/README.md)
names every derived, filtered and sorted field of the spec, and only properties that exist."""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

from contract.support import coverage
from contract.support.coverage import TODO_DERIVED, Cell

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "openapi" / "openapi.bundled.json"
CONTRACT = ROOT / "tests" / "contract"
REGENERATE = ".venv/bin/python -m tests.contract.support.coverage --write"


@functools.lru_cache(maxsize=1)
def _bundle() -> dict:
    return json.loads(BUNDLE.read_text(encoding="utf-8"))


def _schema_properties(name: str) -> dict[str, dict]:
    """A component's properties through `allOf` and local `$ref`s, read from the bundle itself."""
    schemas = _bundle()["components"]["schemas"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def collect(node: dict) -> dict[str, dict]:
        node = resolve(node)
        found: dict[str, dict] = {}
        for part in node.get("allOf", []):
            found.update(collect(part))
        for field, prop in node.get("properties", {}).items():
            prop = resolve(prop)
            merged = {k: v for part in prop.get("allOf", []) for k, v in resolve(part).items()}
            found[field] = {**merged, **prop}
        return found

    return collect(schemas[name])


def _resources() -> dict[str, str]:
    """Segment -> schema name, for every resource with an index in the bundle."""
    found = {}
    for path in _bundle()["paths"]:
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "v2" and parts[3] == "index":
            found[parts[2]] = "".join(word.capitalize() for word in parts[2].split("-"))
    return found


def _spec_fields() -> set[tuple[str, str, str]]:
    """(resource, field, use) for every readOnly field, filter field and sort field of the bundle."""
    wanted = set()
    for segment, schema in _resources().items():
        wanted |= {(segment, f, "derived") for f, p in _schema_properties(schema).items() if p.get("readOnly")}
        wanted |= {(segment, f, "filter") for f in _schema_properties(f"{schema}Filter")}
        sort = _schema_properties(f"{schema}IndexRequest").get("sort", {})
        wanted |= {(segment, v.lstrip("-"), "sort") for v in sort.get("enum", [])}
    return wanted


def _test_functions(module: str) -> set[str]:
    path = CONTRACT / module
    if not path.is_file():
        return set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


def _named(cell: Cell) -> bool:
    module, _, function = cell.property.partition("::")
    return function in _test_functions(module)


def test_every_field_of_the_spec_has_a_cell() -> None:
    covered = {(c.resource, c.field, c.use) for c in coverage.cells()}
    missing = sorted(_spec_fields() - covered)
    assert not missing, f"fields of {BUNDLE.relative_to(ROOT)} without a cell in tests/contract/support/coverage.py: {missing}"


def test_date_expire_is_a_derived_cell_where_it_is_stored_and_computed() -> None:
    """docs/DECISIONS.md (Search): `date_expire` of certificates and links is stored and computed."""
    derived = {(c.resource, c.field) for c in coverage.cells() if c.use == "derived"}
    assert {("certificate", "date_expire"), ("certificate-action", "date_expire")} <= derived


def test_every_named_property_is_a_test_of_the_contract_suite() -> None:
    unknown = sorted({c.property for c in coverage.cells() if c.property != TODO_DERIVED and not _named(c)})
    assert not unknown, f"cells name properties that are no test function of tests/contract: {unknown}"


def test_no_cell_waits_for_a_property() -> None:
    """A placeholder is a cell no property covers yet: it fails here until one is named."""
    waiting = [c for c in coverage.cells() if c.property == TODO_DERIVED]
    assert not waiting, f"{len(waiting)} cells still name {TODO_DERIVED}:\n" + "\n".join(f"  {c.resource} {c.field} ({c.use}): {c.input}" for c in waiting)


def test_the_readme_holds_the_rendered_table() -> None:
    held = coverage.readme_table(coverage.README.read_text(encoding="utf-8"))
    assert held is not None, f"{coverage.README} has no coverage table; add the markers and run `{REGENERATE}`"
    assert held == coverage.render(), f"the coverage table of {coverage.README} is stale: run `{REGENERATE}`"
