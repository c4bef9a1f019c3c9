"""Schemathesis creates that carry the run marker, and their lost answers reconciled.

Against a server behind a gateway the answer of a create may be lost (502, 504, a dropped
connection or a read that timed out after the request was sent: `transport.AnswerLost`). The
entity may exist all the same; sending the create again could make a second one, and an entity the
run does not know would never be deleted. So every Schemathesis create goes through
`call_reconciled`, which puts the run's marker (`CreatedEntities.marker`) in first and, when the
answer is lost, looks for it.

Which cases are marked (`mark_case`), the marker going where the suite's own creates put it
(`resources.py`: a `name` prefix for action and certificate, a `contract_run` key of `data` for
the link resources):
- a create whose body is a JSON object, whose marker field can hold the marker, and whose body
  the spec's schema (the operation's request body, read with jsonschema) judges exactly as before:
  the same errors at the same places (none for a positive case), so a positive case stays
  positive and a negative case breaks what it broke;
- `name`: "<marker>-<generated name>", cut to the field's `maxLength` (or to the generated length
  when that is already longer: a too-long name stays too long);
- JSON text `data`: absent or null (both valid: the field is optional and nullable), it becomes
  `{"contract_run": "<marker>"}`; the text of a JSON object gets the key first (the rest of the
  text kept as generated); any other text gets that object after it;
- an object `data`: absent or null, `{"contract_run": "<marker>"}`; an object gets the key.

Not marked, and why:
- a body that is not a JSON object (an array, a number, no body): nothing to put the marker in;
- the marker field when the case is about it, as Schemathesis tells it (`case.meta.phase.data`:
  the `properties/<field>` of a coverage case's schema location, the mutated paths of a fuzzed
  case): its value is what the case tests;
- a marker field of another type than the spec's (a negative case's number for `name`);
- an absent `data` in a coverage case that sends the required fields only (`object_only_required`):
  adding an optional field would make it another case;
- certificate-action: it has no field to hold a marker (`MarkerPlacement.NONE`);
- any marking after which the schema would judge the body otherwise.

In-process, under the quick profile, 784 of the 976 create cases of `test_schemathesis.py` are
marked; the rest are certificate-action links (89) and negative cases, which the server refuses
without making anything.

A lost answer (`reconcile_lost_create`):
- a marked create is looked for in the segment's index by the marker (`client.marker_filter`),
  an unmarked one under its first parent when that parent is an entity of this run (nobody else
  creates under it); what is found and the run does not know yet is recorded in
  `CreatedEntities` (deleted at the end; its links followed) and answered as a 201 built from its
  view, noted as a warning (`contract retries`); nothing found: the server did not process the
  create, which is sent again; more than one: all are recorded and the test fails
  (`ReconcileError`);
- an unmarked create with no parent of this run is never sent again blindly. When the spec's
  schema refuses its body, the contract says the server answered a 4xx and changed nothing, so it
  is sent again (a warning); should that answer be a 2xx, the test fails (`UnreconciledCreate`):
  the first try may have made an entity too. Any other unmarked create fails its test with
  `UnreconciledCreate`, naming the case and saying that the server may hold an entity the run
  could not find.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoverageScenario

from . import spec_view, transport
from .client import ApiClient, ReconcileError, marker_filter, parent_filter
from .exchange import Exchange
from .resources import BY_SEGMENT, MARKER_JSON_KEY, MarkerPlacement
from .st_checks import CREATE_PATH, CreatedEntities
from .target import Target

JSON_MEDIA_TYPE = "application/json"
# Headers of the view that do not describe the reconciled body (httpx has already decoded it).
DROPPED_VIEW_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class UnreconciledCreate(AssertionError):
    """A create's answer was lost and nothing tells whether it made an entity."""


@dataclass(frozen=True)
class Marking:
    marked: bool
    reason: str  # what was marked, or why nothing was


# ---------------------------------------------------------------- marking


def create_segment(case: Any) -> str | None:
    """`action` for a case of `POST /v2/action/create`; None for any other operation."""
    match = CREATE_PATH.match(case.operation.path)
    return match["segment"] if match and case.operation.method.upper() == "POST" else None


def marked_json_text(text: str, marker: str) -> str:
    """JSON text with the marker in: a key of the object it holds, else an object after it."""
    entry = f"{json.dumps(MARKER_JSON_KEY)}: {json.dumps(marker)}"
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        parsed = None
    if isinstance(parsed, dict):
        opening = text.index("{") + 1
        return f"{text[:opening]}{entry}{', ' if parsed else ''}{text[opening:]}"
    return f"{text} {{{entry}}}"


def marked_value(segment: str, value: Any, present: bool, marker: str) -> Any | None:
    """The marker field's value with the marker in; None when the generated value cannot hold it."""
    resource = BY_SEGMENT[segment]
    name = resource.marker_field
    if name is None:
        return None
    if resource.marker_placement is MarkerPlacement.PREFIX:
        if not (present and isinstance(value, str)):
            return None
        limit = spec_view.sendable_fields(segment)[name].get("maxLength")
        text = f"{marker}-{value}"
        return text if limit is None else text[: max(limit, len(value))]
    if resource.marker_placement is MarkerPlacement.JSON:
        # absent or null (both valid for the spec's nullable `data`): the marker alone
        if spec_view.is_json_text(segment, name):
            if not present or value is None:
                return json.dumps({MARKER_JSON_KEY: marker})
            return marked_json_text(value, marker) if isinstance(value, str) else None
        if not present or value is None:
            return {MARKER_JSON_KEY: marker}
        if isinstance(value, dict) and MARKER_JSON_KEY not in value:
            return {**value, MARKER_JSON_KEY: marker}
    return None


# (operation label, media type) -> validator: every schema of the suite is loaded from the one spec
_VALIDATORS: dict[tuple[str, str], jsonschema.Draft4Validator | None] = {}


def _body_validator(operation: Any, media_type: str) -> jsonschema.Draft4Validator | None:
    key = (operation.label, media_type)
    if key not in _VALIDATORS:
        body = operation.get_body_for_media_type(media_type)
        # OpenAPI 3.0 is read as draft 4, as Schemathesis reads it (its `validation_schema` has
        # `nullable` and the bundle's references translated already)
        _VALIDATORS[key] = None if body is None else jsonschema.Draft4Validator(body.validation_schema)
    return _VALIDATORS[key]


def schema_errors(case: Any, body: Any) -> frozenset[tuple[tuple[Any, ...], str]] | None:
    """Where and how the spec's schema of the request body finds `body` wrong (None: no schema)."""
    validator = _body_validator(case.operation, case.media_type or JSON_MEDIA_TYPE)
    if validator is None:
        return None
    return frozenset((tuple(error.absolute_path), str(error.validator)) for error in validator.iter_errors(body))


def fields_the_case_tests(case: Any) -> frozenset[str]:
    """The top-level body fields a case is about, as Schemathesis tells it: the schema location of
    a coverage case (".../properties/<field>/..."), the mutated paths of a fuzzed one."""
    meta = case.meta
    if meta is None:
        return frozenset()
    data = meta.phase.data
    fields: set[str] = set()
    if data.parameter_location is ParameterLocation.BODY and data.location:
        tokens = data.location.split("/")
        fields.update(tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token == "properties")
    for mutation in getattr(data, "mutations", ()):
        if mutation.parameter_location is ParameterLocation.BODY and mutation.path:
            fields.add(str(mutation.path[0]))
    return frozenset(fields)


def sends_only_required_fields(case: Any) -> bool:
    """A coverage case of a body with its required fields only: an optional field added would
    make it another case."""
    meta = case.meta
    return meta is not None and getattr(meta.phase.data, "scenario", None) is CoverageScenario.OBJECT_ONLY_REQUIRED


def mark_case(case: Any, marker: str) -> Marking:
    """Put the marker in a create case's body when that keeps the case as valid or as invalid as
    generated (module docstring); the case is left alone otherwise."""
    segment = create_segment(case)
    if segment is None:
        return Marking(False, "not a create")
    name = BY_SEGMENT[segment].marker_field
    if name is None or not spec_view.has_field(segment, name):
        return Marking(False, f"{segment} has no field to hold a marker")
    body = case.body
    if not isinstance(body, dict):
        return Marking(False, "the body is not a JSON object")
    if name in fields_the_case_tests(case):
        return Marking(False, f"`{name}` is what this case tests")
    if name not in body and sends_only_required_fields(case):
        return Marking(False, f"the case sends only the required fields, and `{name}` is optional")
    value = marked_value(segment, body.get(name), name in body, marker)
    if value is None:
        return Marking(False, f"`{name}` is {json.dumps(body.get(name))[:60]}, which the case sends as generated")
    marked = {**body, name: value}
    before = schema_errors(case, body)
    if before is None or schema_errors(case, marked) != before:
        return Marking(False, f"the marker in `{name}` would change how the spec's schema judges the body")
    case.body = marked
    return Marking(True, f"marker in `{name}`")


# ---------------------------------------------------------------- a lost answer


def search_filter(case: Any, marking: Marking, created: CreatedEntities) -> dict[str, Any] | None:
    """How to find what a create case made: by the marker, or under a parent of this run; None
    when neither can tell its entity from anyone else's."""
    segment = create_segment(case)
    assert segment is not None, case.operation.label
    sent: Mapping[str, Any] = case.body if isinstance(case.body, Mapping) else {}
    if marking.marked:
        return marker_filter(segment, created.marker, sent)
    parents = BY_SEGMENT[segment].parents
    found = parent_filter(segment, sent)
    if parents and found and created.knows(parents[0][1], str(found[parents[0][0]])):
        return found
    return None


def schemathesis_response(case: Any, view: Exchange, target: Target) -> schemathesis.Response:
    """A 201 answer to the case, made of the view of the entity it created."""
    request = requests.Request(**case.as_transport_kwargs(base_url=target.base_url)).prepare()
    headers = {name: [value] for name, value in view.response_headers.items() if name not in DROPPED_VIEW_HEADERS}
    return schemathesis.Response(
        status_code=201, headers=headers, content=view.response_body, request=request, elapsed=0.0, verify=True,
        message="Created (answer lost; reconciled from the entity's view)",
    )


def refused_by_the_spec(case: Any) -> bool:
    """Whether the spec's schema refuses the body: the contract then answers it with a 4xx that
    changes nothing (docs/DECISIONS.md, "Input limits and bad input")."""
    return bool(schema_errors(case, case.body))


def reconcile_lost_create(
    case: Any,
    target: Target,
    created: CreatedEntities,
    marking: Marking,
    search: Mapping[str, Any] | None,
    lost: transport.AnswerLost,
) -> schemathesis.Response | None:
    """After a lost answer: a 201 of the entity the create made, or None when it made none (or,
    for a body the spec refuses, cannot have made one) and may be sent again."""
    segment = create_segment(case)
    assert segment is not None, case.operation.label
    if search is None:
        if refused_by_the_spec(case):
            transport.LEDGER.note_reconciled(f"{lost.reason}: a body the spec refuses makes nothing, sent again (Schemathesis)")
            return None
        raise UnreconciledCreate(
            f"{case.operation.label}: the answer was lost ({lost.reason}) and the case carries no run marker "
            f"({marking.reason}) nor a parent of this run to look under, so whether the server made an entity "
            f"cannot be told (if it did, this run cannot delete it); the create was not sent again. Body: "
            f"{json.dumps(case.body, default=str)[:500]}"
        )
    sent: Mapping[str, Any] = case.body if isinstance(case.body, Mapping) else {}
    client = ApiClient(target, created.marker)
    id_field = BY_SEGMENT[segment].id_field
    new = client.unknown_matches(segment, sent, search, created.knows)
    for item in new:
        created.add(segment, str(item[id_field]))
    if not new:
        transport.LEDGER.note_reconciled(f"{lost.reason}: nothing was created, sent again (Schemathesis)")
        return None
    if len(new) > 1:
        raise ReconcileError(
            f"{case.operation.label}: the answer was lost ({lost.reason}); looking for it by {search} found "
            f"{len(new)} entities this run did not know ({[item[id_field] for item in new]}), all recorded for "
            f"cleanup; which one this case made cannot be told. Body: {json.dumps(case.body, default=str)[:500]}"
        )
    entity_id = str(new[0][id_field])
    answer = client.answer_from_view(segment, entity_id)
    how = "its marker" if marking.marked else "its parent"
    transport.LEDGER.note_reconciled(f"{lost.reason}: found {segment} {entity_id} by {how} (Schemathesis)")
    return schemathesis_response(case, answer.exchange, target)


def call_reconciled(case: Any, target: Target, created: CreatedEntities, **kwargs: Any) -> Any:
    """`transport.call_case`, with creates marked first and a lost create answer reconciled."""
    if create_segment(case) is None:
        return transport.call_case(case, target.retry, **kwargs)
    marking = mark_case(case, created.marker)
    search = search_filter(case, marking, created)
    resent_unsearched = False
    for _ in range(target.retry.attempts):
        try:
            response = transport.call_case(case, target.retry, **kwargs)
        except transport.AnswerLost as lost:
            found = reconcile_lost_create(case, target, created, marking, search, lost)
            if found is not None:
                return found
            resent_unsearched = search is None
            continue
        if resent_unsearched and 200 <= response.status_code < 300:
            # the body the spec refuses was taken: the first try may have made an entity too
            created.record(response, case)
            raise UnreconciledCreate(
                f"{case.operation.label}: answered {response.status_code} to a body the spec refuses, sent again "
                "after its first answer was lost: that first try may have made an entity this run cannot find. "
                f"Body: {json.dumps(case.body, default=str)[:500]}"
            )
        return response
    raise transport.TargetUnavailable(
        f"target unavailable: {case.operation.label}: the answer was lost {target.retry.attempts} times and "
        "nothing was created (--retries sets the number of tries)"
    )
