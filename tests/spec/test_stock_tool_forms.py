"""The spec keeps to the forms every stock tool reads alike (docs/DECISIONS.md, "Reading the
spec with stock tools"); the takeaway bundle is current and is what the mock serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.app import create_app
from mock_server.spec import BUNDLE_FILE, bundle_text, load_spec, main, spec_dir

SOURCE_FILES = sorted(spec_dir().glob("*.yaml")) + sorted((spec_dir() / "resources").glob("*.yaml"))


def schemas_in(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from schemas_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schemas_in(value, f"{where}/{index}")


@pytest.fixture(scope="module", params=SOURCE_FILES, ids=[p.name for p in SOURCE_FILES])
def source(request: pytest.FixtureRequest) -> tuple[Path, Any]:
    return request.param, yaml.safe_load(request.param.read_text(encoding="utf-8"))


def test_no_format_a_stock_tool_reads_otherwise(source: tuple[Path, Any]) -> None:
    path, document = source
    found = [where for where, node in schemas_in(document) if node.get("format") in ("date-time", "json")]
    assert not found, f"{path.name}: `format: date-time`/`json` at {found}"


def test_no_nullable_enum(source: tuple[Path, Any]) -> None:
    """Prism, Redocly and Connexion read `nullable` + `enum` three different ways."""
    path, document = source
    found = [where for where, node in schemas_in(document) if node.get("nullable") is True and "enum" in node]
    assert not found, f"{path.name}: nullable enums at {found}"


def test_no_ref_into_the_properties_of_another_schema(source: tuple[Path, Any]) -> None:
    """A stock bundler hoists such a target as a numbered component (`action_id-2`)."""
    path, document = source
    found = [where for where, node in schemas_in(document)
             if isinstance(node.get("$ref"), str) and "/properties/" in node["$ref"]]
    assert not found, f"{path.name}: property-level $refs at {found}"


def test_one_media_type_per_answer() -> None:
    """A generator makes a model for the first media type of a status only."""
    spec = load_spec()
    responses = spec["components"]["responses"]
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, answer in operation.get("responses", {}).items():
                answer = responses[answer["$ref"].rsplit("/", 1)[-1]] if "$ref" in answer else answer
                if len(answer.get("content", {})) > 1:
                    found.append(f"{method.upper()} {path} {status}")
    assert not found, found


def test_the_bundle_file_is_current() -> None:
    assert main(["--check"]) == 0
    assert (spec_dir() / BUNDLE_FILE).read_text(encoding="utf-8") == bundle_text(load_spec())


def test_the_mock_serves_the_bundle_with_named_refs() -> None:
    from starlette.testclient import TestClient

    served = TestClient(create_app()).get("/openapi.json").json()
    expected = json.loads(bundle_text(load_spec()))
    # the mock points the OAuth2 token URL at itself; nothing else differs
    served["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"] = "-"
    expected["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"] = "-"
    assert served == expected
    view = served["paths"]["/v2/action/view/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert view["schema"] == {"$ref": "#/components/schemas/Action"}
