"""Random sequences of API and control calls against one mock over HTTP: nothing a client sends
breaks the mock, and a refused call changes nothing.

The model is deliberately small: the mock's state is what `GET /__mock/state` exports, plus the
clock. After every call:
- the answer is not a 5xx;
- if the answer is a 4xx, or the call only reads, the export and the clock are what they were
  just before it (a rejected call changes nothing);
- every resource's index (`{}`) and the export answer 200 (no accepted value poisons reads);
- calls built to be invalid (a wrong JSON type, a missing required field, an unknown id, a broken
  state document, a clock body that is not `{"today": date-or-null}`) are answered with a 4xx;
- a 201 create's entity can be viewed; an imported export is exported back unchanged; a reset at
  the start's date gives back the start's export.

Each example starts from the default seed (`POST /__mock/reset`) with the clock fixed at
2026-06-15. Created entities reference the seed's fixed ids (docs/ARCHITECTURE.md) so that many
calls succeed; bundles hold the ids created. Field names, enums, filters and sorts are read from
the spec. The Hypothesis profile of the suite decides randomization (`quick`: derandomized).
"""

from __future__ import annotations

import copy
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, rule, run_state_machine_as_test

from mockhttp import RunningMock, start_mock
from mockworld import SEGMENTS, id_field, spec

pytestmark = pytest.mark.http

START_TODAY = "2026-06-15"
EXCERPT_CHARS = 300

# --- the seed's fixed ids (docs/ARCHITECTURE.md, README) ------------------------------------------
PROJECT_ACME = "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01"
OFFICE_ROME = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
OFFICE_MILAN = "7b68b1d4-2d23-43ec-ae40-a4768c95b2fe"
PROJECT_BOREALIS = "808e3f3f-800c-40dd-8dcc-edbc196081ba"
OFFICE_TURIN = "89d05fcb-b77e-4eb0-a3ee-eabe00e00fa3"
PERSON_SMITH = "e3a1f5d2-8c4b-4e7a-9f6d-2b1c3d4e5f6a"
CONTRACT_PERSONS = (
    "953e1ebf-06ce-42ab-88f7-0dd04b8f1ab3", "6a418122-a0e9-4283-98b6-8da435a1bd7b",
    "ef050100-4b5e-4190-9646-5650e38b49b2", "69d4e935-c38b-4b9d-a5ed-0814b84e5174",
    "63d715ca-7fb6-4418-87e7-38a9e75a2ce7",
)
EQUIPMENT_ACME = "633fbe22-d1af-4930-b512-b75535803d03"
ACTION_FST01 = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"
CERTIFICATE_FIRE = "f6a7b8c9-d0e1-2f3a-4b5c-6d7e8f9a0b1c"
SUBSCRIPTION_SMITH = "5f2d8e41-7a3b-4c9d-b1e6-0a2f3c4d5e6f"
LINK_FIRE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
MISSING_ID = "ffffffff-ffff-4fff-bfff-ffffffffffff"  # no entity, project, office or resource has it

RESOURCES = (PERSON_SMITH, *CONTRACT_PERSONS, EQUIPMENT_ACME)
TENANCIES = ((PROJECT_ACME, OFFICE_ROME), (PROJECT_ACME, OFFICE_MILAN), (PROJECT_BOREALIS, OFFICE_TURIN))


# --- what the spec says ---------------------------------------------------------------------------

def _schemas() -> dict[str, Any]:
    return spec()["components"]["schemas"]


def _schema_name(segment: str) -> str:
    return "".join(part.capitalize() for part in segment.split("-"))


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _schemas()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def fields_of(segment: str) -> dict[str, dict[str, Any]]:
    """What a client may send to `segment` (its `XFields`), each property's schema resolved."""
    properties = _schemas()[f"{_schema_name(segment)}Fields"]["properties"]
    return {name: _resolved(schema) for name, schema in properties.items()}


def required_of(segment: str) -> list[str]:
    return list(_schemas()[f"{_schema_name(segment)}Create"]["required"])


def enum_of(segment: str, field: str) -> list[Any]:
    return [value for value in fields_of(segment)[field].get("enum", []) if value is not None]


def filter_fields(segment: str) -> list[str]:
    return sorted(_schemas()[f"{_schema_name(segment)}Filter"]["properties"])


def sort_values(segment: str) -> list[str]:
    return list(_schemas()[f"{_schema_name(segment)}IndexRequest"]["properties"]["sort"]["enum"])


def wrong_type_value(schema: dict[str, Any]) -> Any:
    """A JSON value that is not of the property's type (null only where it is not nullable)."""
    kind = schema.get("type")
    if kind == "integer":
        return "12"
    if kind == "object":
        return "not an object"
    return 12345  # strings, the enums and the `json` / `uuid` / `date` formats


# --- values: edges, hostile text, JSON text -------------------------------------------------------

def _nested_list_text(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_object(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


EDGE_INTEGERS = st.sampled_from(
    [0, 1, -1, 5, 90, 7975, 2**31 - 1, 2**31, -(2**31), 3_000_000, -3_000_000, 2**63, 10**20, -(10**20)]
) | st.integers(min_value=-(10**20), max_value=10**20)
EDGE_DATES = st.sampled_from(
    ["0001-01-01", "0001-01-02", "0001-12-31", "1970-01-01", "2024-02-29", START_TODAY, "9999-01-01",
     "9999-12-30", "9999-12-31"]
) | st.dates().map(lambda day: day.isoformat())
HOSTILE_TEXT = st.sampled_from(
    ["", " ", "\ud800", "a\u0000b", "@today", "@today+2dT09:00:00", "@todayX", "<script>", "'; DROP TABLE action; --"]
) | st.sampled_from([255, 256, 5000]).map(lambda length: "x" * length) | st.text(max_size=40)
# Deep JSON text is built from its depth, so that strategies and failing examples print briefly.
JSON_TEXTS = st.sampled_from(['{"role": "manager"}', "[]", "null", '"x"', "1", "{}", '["\\ud800"]']) | st.sampled_from(
    [3000]).map(_nested_list_text) | st.sampled_from([600]).map(lambda depth: json.dumps(_nested_object(depth))) | (
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(json.dumps))
NOT_JSON_TEXTS = st.sampled_from(["{", "not json", "[1,", "{'single': 'quotes'}"])
OBJECTS = st.sampled_from([{}, {"k": "v"}]) | st.sampled_from([3, 100, 500]).map(_nested_object) | st.dictionaries(
    st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)
UNKNOWN_FIELDS = st.dictionaries(st.sampled_from(["unknown", "extra_field", "countValid", "status"]), ANY_JSON, max_size=2)


def value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Edge values of a property's type, with null where it is nullable."""
    kind, fmt = schema.get("type"), schema.get("format")
    if "enum" in schema:
        values = st.sampled_from([v for v in schema["enum"] if v is not None])
    elif kind == "integer":
        values = EDGE_INTEGERS
    elif kind == "object":
        values = OBJECTS
    elif fmt == "json":
        values = JSON_TEXTS
    elif fmt == "date":
        values = EDGE_DATES
    elif fmt == "uuid":
        values = st.sampled_from([MISSING_ID, ACTION_FST01, PERSON_SMITH])
    else:
        values = HOSTILE_TEXT
    return values | st.none() if schema.get("nullable") else values


@st.composite
def field_values(draw: st.DrawFn, segment: str, names: list[str], most: int = 3) -> dict[str, Any]:
    """Up to `most` of the named fields of `segment`, each with an edge value: few at a time, so
    that one refused value does not hide what the others would do."""
    fields = fields_of(segment)
    chosen = draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
    return {name: draw(value_for(fields[name]), label=name) for name in chosen}


TENANCY = st.sampled_from(TENANCIES)


# --- calls and what the mock must answer ----------------------------------------------------------

@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None  # sent as JSON unless `raw` is given
    raw: bytes | None = None
    content_type: str | None = "application/json"
    params: dict[str, str] | None = None
    must_refuse: bool = False  # built to be invalid: a 4xx is the only right answer
    reads_only: bool = False

    def describe(self) -> str:
        sent = self.raw[:EXCERPT_CHARS] if self.raw is not None else json.dumps(self.body)[:EXCERPT_CHARS]
        query = f"?{self.params}" if self.params else ""
        return f"{self.method} {self.path}{query} (content-type {self.content_type}) body {sent!r}"


def entity_path(segment: str, verb: str, entity_id: str) -> str:
    """`/v2/<segment>/<verb>/<id>`, the id percent-encoded (an accepted id may hold any character)."""
    return f"/v2/{segment}/{verb}/{urllib.parse.quote(entity_id, safe='')}"


def first_difference(before: Any, after: Any, path: str = "") -> str:
    """Where two JSON documents first differ, as `path: before -> after` (for failure messages)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            if before.get(key, "<absent>") != after.get(key, "<absent>"):
                return first_difference(before.get(key, "<absent>"), after.get(key, "<absent>"), f"{path}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for position, (left, right) in enumerate(zip(before, after)):
            if left != right:
                return first_difference(left, right, f"{path}[{position}]")
    shown = [json.dumps(value)[:120] for value in (before, after)]
    return f"{path or '(document)'}: {shown[0]} -> {shown[1]}"


def _excerpt(response: httpx.Response) -> str:
    return response.text[:EXCERPT_CHARS]


class MockStateMachine(RuleBasedStateMachine):
    mock: RunningMock
    client: httpx.Client

    actions = Bundle("actions")
    certificates = Bundle("certificates")
    certificate_actions = Bundle("certificate_actions")
    subscriptions = Bundle("subscriptions")

    def __init__(self) -> None:
        super().__init__()
        clock = self.client.put("/__mock/clock", json={"today": START_TODAY})
        assert clock.status_code == 200, f"fixing the clock at {START_TODAY}: {clock.status_code} {_excerpt(clock)}"
        reset = self.client.post("/__mock/reset")
        assert reset.status_code == 200, f"reset at the start of the example: {reset.status_code} {_excerpt(reset)}"
        self.start_export = self._export()
        self.export = self.start_export
        self.clock = self._clock()
        self.exports = [self.start_export]  # what PUT /__mock/state may import again

    # --- observing the state ----------------------------------------------------------------------

    def _export(self) -> Any:
        response = self.client.get("/__mock/state")
        assert response.status_code == 200, f"GET /__mock/state answered {response.status_code}: {_excerpt(response)}"
        return response.json()

    def _clock(self) -> Any:
        response = self.client.get("/__mock/clock")
        assert response.status_code == 200, f"GET /__mock/clock answered {response.status_code}: {_excerpt(response)}"
        return response.json()

    def _fail(self, call: Call, response: httpx.Response | None, problem: str) -> NoReturn:
        answer = f"{response.status_code} {_excerpt(response)}" if response is not None else "-"
        log = "".join(self.mock.log().splitlines(keepends=True)[-25:])
        raise AssertionError(f"{problem}\n  call: {call.describe()}\n  answer: {answer}\n  mock log (tail):\n{log}")

    def send(self, call: Call) -> httpx.Response:
        """Sends `call`, then checks the model's invariants; answers the response."""
        headers = {"Content-Type": call.content_type} if call.content_type else {}
        if call.raw is not None:
            content = call.raw
        elif call.body is not None:
            content = json.dumps(call.body).encode()
        else:
            content = None
        # A bodiless request drops the client's default content type: only what `call` says is sent.
        response = self.client.request(call.method, call.path, content=content, headers=headers, params=call.params)
        status = response.status_code
        if status >= 500:
            self._fail(call, response, "the mock answered a server error")
        if call.must_refuse and not 400 <= status < 500:
            self._fail(call, response, "a call built to be invalid was not refused with a 4xx")
        self._check_reads(call)
        export, clock = self._export_after(call), self._clock()
        if status >= 400 or call.reads_only:
            if export != self.export:
                self._fail(call, response, f"the call answered {status} yet the export changed: "
                                           f"{first_difference(self.export, export)}")
            if clock != self.clock:
                self._fail(call, response, f"the call answered {status} yet the clock changed: {self.clock} -> {clock}")
        self.export, self.clock = export, clock
        return response

    def _check_reads(self, call: Call) -> None:
        for segment in SEGMENTS:
            index = self.client.post(f"/v2/{segment}/index", json={})
            if index.status_code != 200:
                self._fail(call, index, f"afterwards POST /v2/{segment}/index {{}} answered {index.status_code}")

    def _export_after(self, call: Call) -> Any:
        response = self.client.get("/__mock/state")
        if response.status_code != 200:
            self._fail(call, response, f"afterwards GET /__mock/state answered {response.status_code}")
        return response.json()

    def _created(self, segment: str, call: Call) -> Any:
        """Sends a create; a 201's entity must then be viewable. Answers the id for a bundle."""
        response = self.send(call)
        if response.status_code != 201:
            return multiple()
        entity_id = response.json()[id_field(segment)]
        viewed = self.client.get(entity_path(segment, "view", entity_id))
        if viewed.status_code != 200:
            self._fail(call, viewed, f"created {segment} {entity_id!r}, then its view answered {viewed.status_code}")
        return entity_id

    # --- the seed's entities ------------------------------------------------------------------------

    @initialize(target=actions)
    def seed_actions(self) -> Any:
        return multiple(ACTION_FST01)

    @initialize(target=certificates)
    def seed_certificates(self) -> Any:
        return multiple(CERTIFICATE_FIRE)

    @initialize(target=certificate_actions)
    def seed_links(self) -> Any:
        return multiple(LINK_FIRE)

    @initialize(target=subscriptions)
    def seed_subscriptions(self) -> Any:
        return multiple(SUBSCRIPTION_SMITH)

    # --- creates and updates with edge values --------------------------------------------------------

    @rule(target=actions, tenancy=TENANCY, action_type=st.sampled_from(enum_of("action", "action_type")),
          fields=field_values("action", ["code", "name", "description", "validity_unit", "validity",
                                         "expire_interval", "manager", "assignee", "watcher", "data"]),
          unknown=UNKNOWN_FIELDS, own_id=st.sampled_from([None, "22222222-2222-4222-8222-222222222222",
                                                           "22222222-2222-4222-8222-222222222222\n"]))
    def create_action(self, tenancy: tuple[str, str], action_type: str, fields: dict[str, Any],
                      unknown: dict[str, Any], own_id: str | None) -> Any:
        body = {"action_type": action_type, "name": "Property action", "tenant_id": tenancy[0],
                "subtenant_id": tenancy[1], **fields, **unknown}
        if own_id is not None:
            body["action_id"] = own_id
        return self._created("action", Call("POST", "/v2/action/create", body))

    @rule(target=certificates, tenancy=TENANCY, resource_id=st.sampled_from(RESOURCES),
          action_type=st.sampled_from(enum_of("certificate", "action_type")), date_release=EDGE_DATES,
          fields=field_values("certificate", ["date_expire", "name", "note", "data", "warning", "validity_unit",
                                              "validity"]),
          unknown=UNKNOWN_FIELDS)
    def create_certificate(self, tenancy: tuple[str, str], resource_id: str, action_type: str, date_release: str,
                           fields: dict[str, Any], unknown: dict[str, Any]) -> Any:
        body = {"date_release": date_release, "name": "Property certificate", "action_type": action_type,
                "resource_id": resource_id, "tenant_id": tenancy[0], **fields, **unknown}
        return self._created("certificate", Call("POST", "/v2/certificate/create", body))

    @rule(target=certificate_actions, certificate_id=certificates, action_id=actions,
          fields=field_values("certificate-action", ["date_expire"]), tenant=st.sampled_from([None, PROJECT_ACME]))
    def create_certificate_action(self, certificate_id: str, action_id: str, fields: dict[str, Any],
                                  tenant: str | None) -> Any:
        body = {"certificate_id": certificate_id, "action_id": action_id, **fields}
        if tenant is not None:
            body["tenant_id"] = tenant
        return self._created("certificate-action", Call("POST", "/v2/certificate-action/create", body))

    @rule(target=subscriptions, action_id=actions, tenancy=TENANCY, subscriber_id=st.sampled_from(RESOURCES),
          subscriber_type=st.sampled_from(enum_of("action-subscription", "subscriber_type")),
          fields=field_values("action-subscription", ["data"]), unknown=UNKNOWN_FIELDS)
    def create_subscription(self, action_id: str, tenancy: tuple[str, str], subscriber_id: str,
                            subscriber_type: str, fields: dict[str, Any], unknown: dict[str, Any]) -> Any:
        body = {"action_id": action_id, "subscriber_id": subscriber_id, "subscriber_type": subscriber_type,
                "tenant_id": tenancy[0], "subtenant_id": tenancy[1], **fields, **unknown}
        return self._created("action-subscription", Call("POST", "/v2/action-subscription/create", body))

    @rule(action_id=actions, fields=field_values("action", sorted(fields_of("action"))), unknown=UNKNOWN_FIELDS)
    def update_action(self, action_id: str, fields: dict[str, Any], unknown: dict[str, Any]) -> None:
        self.send(Call("PUT", entity_path("action", "update", action_id), {**fields, **unknown}))

    @rule(certificate_id=certificates, fields=field_values("certificate", sorted(fields_of("certificate"))),
          unknown=UNKNOWN_FIELDS)
    def update_certificate(self, certificate_id: str, fields: dict[str, Any], unknown: dict[str, Any]) -> None:
        self.send(Call("PUT", entity_path("certificate", "update", certificate_id), {**fields, **unknown}))

    @rule(link_id=certificate_actions, fields=field_values("certificate-action", sorted(fields_of("certificate-action"))))
    def update_certificate_action(self, link_id: str, fields: dict[str, Any]) -> None:
        self.send(Call("PUT", entity_path("certificate-action", "update", link_id), fields))

    @rule(subscription_id=subscriptions,
          fields=field_values("action-subscription", sorted(fields_of("action-subscription"))))
    def update_subscription(self, subscription_id: str, fields: dict[str, Any]) -> None:
        self.send(Call("PUT", entity_path("action-subscription", "update", subscription_id), fields))

    @rule(segment=st.sampled_from(["action", "certificate", "action-subscription"]), data=st.data())
    def create_without_content_type(self, segment: str, data: st.DataObject) -> None:
        """A valid create body sent with no Content-Type header (a careless script's request)."""
        tenancy = data.draw(TENANCY)
        bodies = {
            "action": {"action_type": "CHECK", "name": "No content type", "tenant_id": tenancy[0],
                       "subtenant_id": tenancy[1]},
            "certificate": {"date_release": START_TODAY, "name": "No content type", "action_type": "CHECK",
                            "resource_id": PERSON_SMITH, "tenant_id": PROJECT_ACME},
            "action-subscription": {"action_id": ACTION_FST01, "subscriber_id": data.draw(st.sampled_from(RESOURCES)),
                                    "subscriber_type": "PERSON", "tenant_id": PROJECT_ACME,
                                    "subtenant_id": OFFICE_ROME},
        }
        self.send(Call("POST", f"/v2/{segment}/create", raw=json.dumps(bodies[segment]).encode(), content_type=None))

    # --- calls built to fail --------------------------------------------------------------------------

    @rule(segment=st.sampled_from(["action", "certificate", "certificate-action", "action-subscription"]),
          data=st.data())
    def create_with_a_wrong_type(self, segment: str, data: st.DataObject) -> None:
        """A complete create body, but one field holds a JSON value of another type: a 400."""
        body = self._complete_body(segment)
        field = data.draw(st.sampled_from(sorted(fields_of(segment))), label="field")
        body[field] = wrong_type_value(fields_of(segment)[field])
        self.send(Call("POST", f"/v2/{segment}/create", body, must_refuse=True))

    @rule(segment=st.sampled_from(["action", "certificate", "certificate-action", "action-subscription"]),
          data=st.data())
    def create_without_a_required_field(self, segment: str, data: st.DataObject) -> None:
        body = self._complete_body(segment)
        del body[data.draw(st.sampled_from(required_of(segment)), label="left out")]
        self.send(Call("POST", f"/v2/{segment}/create", body, must_refuse=True))

    @rule(segment=st.sampled_from(["action", "certificate", "certificate-action", "action-subscription"]),
          data=st.data())
    def create_with_a_missing_reference(self, segment: str, data: st.DataObject) -> None:
        body = self._complete_body(segment)
        references = [name for name, schema in fields_of(segment).items()
                      if schema.get("format") == "uuid" and name != id_field(segment) and name in required_of(segment)]
        body[data.draw(st.sampled_from(references), label="reference")] = MISSING_ID
        self.send(Call("POST", f"/v2/{segment}/create", body, must_refuse=True))

    @rule(segment=st.sampled_from(["action", "certificate", "action-subscription"]),
          field=st.sampled_from(["manager", "data"]), text=NOT_JSON_TEXTS)
    def create_with_text_that_is_not_json(self, segment: str, field: str, text: str) -> None:
        schema = fields_of(segment).get(field)
        if schema is None or schema.get("format") != "json":
            return  # this resource has no such `json` field
        self.send(Call("POST", f"/v2/{segment}/create", {**self._complete_body(segment), field: text}, must_refuse=True))

    def _complete_body(self, segment: str) -> dict[str, Any]:
        """A create body that the seed's references make valid."""
        return {
            "action": {"action_type": "TRAINING", "name": "Complete", "tenant_id": PROJECT_ACME,
                       "subtenant_id": OFFICE_ROME},
            "certificate": {"date_release": "2026-01-10", "name": "Complete", "action_type": "TRAINING",
                            "resource_id": PERSON_SMITH, "tenant_id": PROJECT_ACME},
            "certificate-action": {"certificate_id": CERTIFICATE_FIRE, "action_id": ACTION_FST01},
            "action-subscription": {"action_id": ACTION_FST01, "subscriber_id": CONTRACT_PERSONS[0],
                                    "subscriber_type": "PERSON", "tenant_id": PROJECT_ACME,
                                    "subtenant_id": OFFICE_ROME},
        }[segment]

    @rule(segment=st.sampled_from(SEGMENTS), fields=st.dictionaries(st.sampled_from(["name", "code", "note"]),
                                                                    st.text(max_size=5), max_size=1))
    def update_of_a_missing_id(self, segment: str, fields: dict[str, Any]) -> None:
        self.send(Call("PUT", f"/v2/{segment}/update/{MISSING_ID}", fields, must_refuse=True))

    # --- deletes --------------------------------------------------------------------------------------

    @rule(segment_and_id=st.one_of(
        actions.map(lambda i: ("action", i)), certificates.map(lambda i: ("certificate", i)),
        certificate_actions.map(lambda i: ("certificate-action", i)),
        subscriptions.map(lambda i: ("action-subscription", i))),
        force=st.sampled_from([None, "true", "false"]))
    def delete(self, segment_and_id: tuple[str, str], force: str | None) -> None:
        segment, entity_id = segment_and_id
        params = {"force": force} if force is not None else None
        self.send(Call("DELETE", entity_path(segment, "delete", entity_id), params=params, content_type=None))

    @rule(segment=st.sampled_from(SEGMENTS), force=st.sampled_from([None, "true", "false"]))
    def delete_of_a_missing_id(self, segment: str, force: str | None) -> None:
        params = {"force": force} if force is not None else None
        self.send(Call("DELETE", f"/v2/{segment}/delete/{MISSING_ID}", params=params, content_type=None,
                       must_refuse=True))

    # --- searches -------------------------------------------------------------------------------------

    @rule(segment=st.sampled_from(SEGMENTS), data=st.data())
    def index(self, segment: str, data: st.DataObject) -> None:
        names = data.draw(st.lists(st.sampled_from(filter_fields(segment)), max_size=3, unique=True), label="filter")
        filter_values = st.one_of(
            ANY_JSON, EDGE_DATES, st.sampled_from(["NEW", "VALID", "EXPIRING", "EXPIRED", ACTION_FST01, PERSON_SMITH]))
        body: dict[str, Any] = {}
        if names:
            body["filter"] = {name: data.draw(filter_values, label=name) for name in names}
        if data.draw(st.booleans(), label="sorted"):
            body["sort"] = data.draw(st.sampled_from([*sort_values(segment), "nope", "-"]), label="sort")
        if data.draw(st.booleans(), label="paged"):
            body["per-page"] = data.draw(st.sampled_from([1, 7, 100, 0, 101, -1, 10**20]), label="per-page")
            body["page"] = data.draw(st.sampled_from([1, 2, 0, 10**20]), label="page")
        self.send(Call("POST", f"/v2/{segment}/index", body, reads_only=True))

    # --- test controls --------------------------------------------------------------------------------

    @rule(today=EDGE_DATES | st.none())
    def set_clock(self, today: str | None) -> None:
        self.send(Call("PUT", "/__mock/clock", {"today": today}))

    @rule(body=st.sampled_from([{}, [], {"todya": "2026-01-01"}, 0, False, "2026-06-15", {"today": 5},
                                {"today": "2026-02-30"}, {"today": "10000-01-01"}, {"today": "2026-06-15\n"}]))
    def set_clock_with_a_broken_body(self, body: Any) -> None:
        self.send(Call("PUT", "/__mock/clock", body, must_refuse=True))

    @rule()
    def reset(self) -> None:
        response = self.send(Call("POST", "/__mock/reset"))
        if response.status_code == 200 and self.clock["today"] == START_TODAY and self.export != self.start_export:
            self._fail(Call("POST", "/__mock/reset"), response, "a reset at the start's date did not give back its "
                       f"export: {first_difference(self.start_export, self.export)}")

    @rule(data=st.data())
    def import_a_previous_export(self, data: st.DataObject) -> None:
        position = data.draw(st.integers(0, len(self.exports) - 1), label="export number")
        self._import(self.exports[position])

    @rule(field=st.sampled_from(["name", "code", "description"]),
          text=st.sampled_from(["@today", "@today+2dT09:00:00", "@todayX", "@today-1y"]))
    def import_user_strings_that_look_like_seed_dates(self, field: str, text: str) -> None:
        """An export whose user text looks like a relative seed date is imported as it is."""
        document = copy.deepcopy(self.export)
        if not document["entities"].get("action"):
            return  # no action to carry the text
        document["entities"]["action"][0][field] = text
        self._import(document)

    def _import(self, document: Any) -> None:
        call = Call("PUT", "/__mock/state", document)
        response = self.send(call)
        if response.status_code == 200:
            if self.export != document:
                self._fail(call, response, "an imported export was not exported back unchanged: "
                                           f"{first_difference(document, self.export)}")
            self.exports.append(self.export)

    @rule(kind=st.sampled_from(["empty object", "typo in entities", "entities a list", "a list", "unknown key",
                                "project name a number", "office of a missing project", "active a string",
                                "action name a number", "subscription of a missing action", "nested 5000 deep",
                                "not JSON"]))
    def import_a_broken_document(self, kind: str) -> None:
        current = copy.deepcopy(self.export)
        directory, entities = current["directory"], current["entities"]
        documents: dict[str, Any] = {
            "empty object": {},
            "typo in entities": {"directory": directory, "entitites": entities},
            "entities a list": {"directory": directory, "entities": []},
            "a list": [],
            "unknown key": {**current, "extra": 1},
        }
        if kind in documents:
            self.send(Call("PUT", "/__mock/state", documents[kind], must_refuse=True))
            return
        if kind == "nested 5000 deep":
            raw = b'{"directory": ' + b"[" * 5000 + b"]" * 5000 + b', "entities": {}}'
            self.send(Call("PUT", "/__mock/state", raw=raw, must_refuse=True))
            return
        if kind == "not JSON":
            self.send(Call("PUT", "/__mock/state", raw=b'{"directory": ', must_refuse=True))
            return
        edits = {
            "project name a number": lambda: directory["projects"][0].update(name=5),
            "office of a missing project": lambda: directory["offices"][0].update(project_id=MISSING_ID),
            "active a string": lambda: directory["offices"][0].update(active="no"),
            "action name a number": lambda: entities["action"][0].update(name=5),
            "subscription of a missing action": lambda: entities["action-subscription"][0].update(action_id=MISSING_ID),
        }
        try:
            edits[kind]()
        except (IndexError, KeyError):
            return  # the current state has no such item to break
        self.send(Call("PUT", "/__mock/state", current, must_refuse=True))


@pytest.fixture(scope="module")
def seeded_mock() -> Iterator[RunningMock]:
    """One mock with the default seed for the module; each example resets it."""
    with start_mock(today=START_TODAY) as mock:
        yield mock


def test_random_calls_never_break_the_mock_and_refused_calls_change_nothing(seeded_mock: RunningMock) -> None:
    with seeded_mock.client() as client:
        MockStateMachine.mock, MockStateMachine.client = seeded_mock, client
        run_state_machine_as_test(MockStateMachine, settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None,
        ))
