"""The API's rules as Schemathesis checks, and the suite's setup.

Importing this module, for every Schemathesis run in the process:

- registers three checks, each judging every response of every operation:
  - `pagination_headers_arithmetic`: an index 200 carries the four `X-Pagination-*` headers as
    integers, page count = ceil(total / per-page) (0 when nothing matches), per-page and page echo
    the request (defaults 100 and 1), the body holds min(per-page, max(0, total - (page-1) *
    per-page)) entities;
  - `count_invariants`: every answered action has countSubscribed = countValid + countScheduled +
    countToDo, every answered session count_subscribed = count_done + count_fail + count_unknown
    (a single entity, or each item of an index);
  - `session_dates_in_order`: a session's date_begin is not after its date_end (when both are
    set), a session date's date_end is not before its date_begin;
  - `created_entity_derived_fields`: a create's 201 answer of an action, session or certificate
    carries the derived fields its body alone decides (nothing hangs below a new entity: counts
    0, a session's span null, a certificate's date_expire and office from its own fields), by the
    model's comparison (`verify.derived_fields_match_model` over `oracle.world_of_created`);
- nothing about the spec's string forms: stock Schemathesis reads them as the mock does (a
  date-time is a `pattern`, JSON text a plain string; docs/DECISIONS.md, "Reading the spec with
  stock tools").

The checks judge `Exchange` objects with the rule functions of `rules.py`: a failure reads
"Rule broken [<rule>]: <the rule as the semantics word it>", then the exchange and a curl line
that repeats it (the token left as $TOKEN).

The `st` command line loads this module as its hooks module: `schemathesis.toml` names it
(`hooks = "tests.contract.support.st_checks"`, resolved from the project root, where `st` runs),
as would `SCHEMATHESIS_HOOKS=tests.contract.support.st_checks`.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from . import findings, oracle, profiles, rules, spec_view, verify
from .client import is_uuid, new_run_id
from .contract import contract
from .exchange import Exchange, from_schemathesis
from .findings import SCHEMATHESIS_RULES
from .kept import force_delete_newest_first
from .plugin import ANY_ID_MARKER, WRITES_MARKER
from .resources import BY_SEGMENT, id_field
from .st_transport import with_polite_transport
from .target import AuthMode, Target
from .transport import gated_asgi

CheckFunction = Callable[[Any, Any, Any], "bool | None"]

INDEX_SUFFIX = "/index"
SESSION_SEGMENT = "action-session"
SESSION_DATE_SEGMENT = "action-session-date"
SESSION_COUNT_FIELDS = ("count_subscribed", "count_done", "count_fail", "count_unknown")
ACTION_COUNT_FIELDS = ("countSubscribed", "countValid", "countScheduled", "countToDo")
PER_PAGE_RANGE = (1, 100)
# What ordering compares: "YYYY-MM-DD" and "YYYY-MM-DDThh:mm:ss" (docs/DECISIONS.md, Shapes).
DATE_LENGTH = 10
LOCAL_DATE_TIME_LENGTH = 19

# ---------------------------------------------------------------- rules that rules.py does not hold


@rules.rule(
    "ActionSession date_begin = the date part of the earliest date_begin of its dates, date_end = that of "
    "the latest date_end: so date_begin <= date_end when both are set."
)
def session_span_in_order(session: Mapping[str, Any], exchanges: tuple[Exchange, ...] = ()) -> None:
    begin, end = session.get("date_begin"), session.get("date_end")
    if isinstance(begin, str) and isinstance(end, str) and begin[:DATE_LENGTH] > end[:DATE_LENGTH]:
        raise rules.RuleViolation(
            "session_span_in_order",
            f"session {session.get('action_session_id')}: date_begin {begin} is after date_end {end}",
            exchanges,
        )


@rules.rule(
    "A session date's date_end is not before its date_begin (compared by the local time written): "
    "`date_end` before `date_begin` is a 422, so no stored date has it."
)
def session_date_end_not_before_begin(date: Mapping[str, Any], exchanges: tuple[Exchange, ...] = ()) -> None:
    begin, end = date.get("date_begin"), date.get("date_end")
    if isinstance(begin, str) and isinstance(end, str) and begin[:LOCAL_DATE_TIME_LENGTH] > end[:LOCAL_DATE_TIME_LENGTH]:
        raise rules.RuleViolation(
            "session_date_end_not_before_begin",
            f"action-session-date {date.get('action_session_date_id')}: date_end {end} is before date_begin {begin}",
            exchanges,
        )


# ---------------------------------------------------------------- helpers of the checks


def _segment(case: Any) -> str:
    """`action-session` of the operation `/v2/action-session/index`."""
    parts = case.operation.path.split("/")
    return parts[2] if len(parts) > 2 else ""


def _entities(exchange: Exchange) -> Iterator[Mapping[str, Any]]:
    """The entities a successful answer carries: the object itself, or each object of an array."""
    if not 200 <= exchange.status < 300:
        return
    try:
        body = exchange.json()
    except ValueError:
        return
    items = body if isinstance(body, list) else [body]
    yield from (item for item in items if isinstance(item, Mapping))


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _paging_is_well_formed(exchange: Exchange) -> bool:
    """Whether the index request asked for paging the spec allows. A 200 to any other request is
    itself the fault, and `negative_data_rejection` reports it."""
    if not exchange.request_body:
        return True
    body = exchange.request_json()
    if not isinstance(body, Mapping):
        return False
    per_page = body.get("per-page", rules.DEFAULT_PER_PAGE)
    page = body.get("page", rules.DEFAULT_PAGE)
    if not (_is_integer(per_page) and _is_integer(page)):
        return False
    return PER_PAGE_RANGE[0] <= per_page <= PER_PAGE_RANGE[1] and page >= 1


def _register(check: CheckFunction) -> CheckFunction:
    """`schemathesis.check`, with the broken rule noted in the suite's ledger (by operation), and
    tolerating this same file imported under a second package name (`tests.contract.support` from
    the command line, `contract.support` under pytest)."""
    from schemathesis.checks import CHECKS

    if check.__name__ in CHECKS.get_all_names():
        existing = CHECKS.get_one(check.__name__)
        if getattr(existing, "__module__", "").endswith("support.st_checks"):
            return existing

    @functools.wraps(check)
    def noted(ctx: Any, response: Any, case: Any) -> bool | None:
        try:
            return check(ctx, response, case)
        except rules.RuleViolation as violation:
            rules.LEDGER.record_broken(violation.rule, f"{case.operation.label} (Schemathesis)")
            raise

    return schemathesis.check(noted)


# ---------------------------------------------------------------- the checks


@_register
def pagination_headers_arithmetic(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every index 200: X-Pagination-* present and integers, page count = ceil(total / per-page)
    (0 when nothing matches), per-page and page echo the request (defaults 100 and 1), and the
    body holds min(per-page, max(0, total - (page-1) * per-page)) entities."""
    if not case.operation.path.endswith(INDEX_SUFFIX) or response.status_code != 200:
        return True
    exchange = from_schemathesis(response)
    if not _paging_is_well_formed(exchange):
        return True
    rules.pagination_headers_match_body(exchange)
    return None


@_register
def count_invariants(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every answered entity that carries counts: countSubscribed = countValid + countScheduled +
    countToDo (actions), count_subscribed = count_done + count_fail + count_unknown (sessions)."""
    exchange = from_schemathesis(response)
    judged = False
    for entity in _entities(exchange):
        if any(name in entity for name in ACTION_COUNT_FIELDS):
            rules.counts_add_up(entity, (exchange,))
            judged = True
        if any(name in entity for name in SESSION_COUNT_FIELDS):
            rules.session_counts_match_enrollments(entity, (exchange,))
            judged = True
    return None if judged else True


@_register
def session_dates_in_order(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every answered session: date_begin <= date_end when both are set; every answered session
    date: date_end not before date_begin."""
    segment = _segment(case)
    if segment not in (SESSION_SEGMENT, SESSION_DATE_SEGMENT):
        return True
    exchange = from_schemathesis(response)
    judge = session_span_in_order if segment == SESSION_SEGMENT else session_date_end_not_before_begin
    judged = False
    for entity in _entities(exchange):
        judge(entity, (exchange,))
        judged = True
    return None if judged else True


@_register
def created_entity_derived_fields(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every create answered 201 of an action, session or certificate: the derived fields that its
    body alone decides, against the model of that one new entity. (Other kinds, and update
    answers, depend on entities this pass does not model.)"""
    match = CREATE_PATH.match(case.operation.path)
    if match is None or response.status_code != 201:
        return True
    exchange = from_schemathesis(response)
    sent, entity = exchange.request_json(), next(_entities(exchange), None)
    segment = match["segment"]
    entity_id = entity.get(id_field(segment)) if entity is not None else None
    if not isinstance(sent, Mapping) or not isinstance(entity_id, str):
        return True
    world = oracle.world_of_created(segment, entity_id, sent)
    if world is None:
        return True
    verify.derived_fields_match_model(world, segment, entity, (exchange,))
    return None


CUSTOM_CHECKS: tuple[CheckFunction, ...] = (pagination_headers_arithmetic, count_invariants, session_dates_in_order, created_entity_derived_fields)
CUSTOM_CHECK_NAMES: tuple[str, ...] = tuple(check.__name__ for check in CUSTOM_CHECKS)

# ---------------------------------------------------------------- the suite's Schemathesis setup

CONFIG_FILE = Path(__file__).resolve().parent.parent / "schemathesis.toml"  # carried with the suite, like its contract
ACCESS_TOKEN_SCHEME = "accessToken"  # the spec's apiKey scheme: `access-token` in the query
SPEC_PATH = "/openapi.json"
WRITE_VERBS = ("create", "update", "delete")
DESTRUCTIVE_VERBS = ("update", "delete")
CREATE_PATH = re.compile(r"^/v2/(?P<segment>[a-z-]+)/create$")
# `[dictionaries.*]` of schemathesis.toml that name the reference data a create must get right
REFERENCE_DICTIONARIES = ("projects", "offices", "resources")


def _deselect(verbs: tuple[str, ...]) -> dict[str, Any]:
    return {"include-operation-id-regex": f"_({'|'.join(verbs)})$", "enabled": False}


def suite_config(target: Target) -> schemathesis.Config:
    """`schemathesis.toml` with the target's token, base URL and reference ids, the Hypothesis
    profile in charge of the number of examples and of randomness, and only the operations this
    target may receive.

    What a target may receive (the file itself sends everything: it is for a throwaway mock):
    - in-process, or a loopback URL: every operation;
    - writes refused (`--read-only`, or a non-loopback URL without `--allow-writes`): index and
      view only;
    - a non-loopback URL with `--allow-writes`: no update and no delete, since a generated id
      could name someone else's entity (the stateful test reaches both only through the run's own
      creates); what the run creates is deleted again (`CreatedEntities.cleanup`).
    """
    data = tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    data.pop("hooks", None)  # this module, already imported
    profiles.merged(data, profiles.economy().schemathesis)  # what a cheap profile cuts (smoke)
    generation = data.setdefault("generation", {})
    for owned_by_profile in ("max-examples", "deterministic"):
        generation.pop(owned_by_profile, None)
    # in place of the file's `${CONTRACT_TOKEN}`: the target's token
    data.pop("auth", None)
    if target.auth_mode is not AuthMode.NONE:
        data["auth"] = {"openapi": {ACCESS_TOKEN_SCHEME: {"api_key": target.token}}}
    dictionaries = data.setdefault("dictionaries", {})
    reference_ids = ([target.tenant_id], [target.subtenant_id], [r.resource_id for r in target.resources])
    for name, values in zip(REFERENCE_DICTIONARIES, reference_ids, strict=True):
        if name in dictionaries:
            dictionaries[name] = {"values": values}
    if not target.in_process:
        data["base-url"] = target.base_url
    refused = refused_verbs(writes_allowed=target.writes_allowed, is_loopback=target.is_loopback)
    if refused:
        data.setdefault("operations", []).append(_deselect(refused))
    return schemathesis.Config.from_dict(data)


def refused_verbs(*, writes_allowed: bool, is_loopback: bool) -> tuple[str, ...]:
    """The verbs (operationId suffixes) of the operations a target may not receive (see
    `suite_config`); the tests of one such operation are deselected (`spec_operation_params`)."""
    if not writes_allowed:
        return WRITE_VERBS
    if not is_loopback:
        return DESTRUCTIVE_VERBS
    return ()


HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the bundled spec, in its order."""
    return [(method, path) for path, item in contract()["paths"].items() for method in item if method in HTTP_METHODS]


def operation_verb(operation: tuple[str, str]) -> str:
    """`create` of (post, /v2/action/create): the suffix of its operationId, which `suite_config`
    selects operations by."""
    method, path = operation
    return str(spec_view.spec()["paths"][path][method]["operationId"]).rsplit("_", 1)[-1]


def load_schema(target: Target, config: schemathesis.Config, operation: tuple[str, str] | None = None) -> schemathesis.BaseSchema:
    """The contract: this project's spec, bundled from `openapi/`, for every target (only one
    operation, (method, path), when given). What the target serves at /openapi.json is never
    tested against (it may be older, rewritten by a gateway, generated by the server);
    `support/drift.py` compares it in a report of its own."""
    document = contract()
    if operation is not None:
        method, path = operation
        item = document["paths"][path]
        document["paths"] = {path: {key: value for key, value in item.items() if key == method or key not in HTTP_METHODS}}
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.hook("after_validate")(note_schemathesis_results)
    if target.in_process:
        schema.app = gated_asgi(target.client.app)  # type: ignore[attr-defined]  # calls go to the ASGI app
        return schema
    # every request Schemathesis sends, its checks' probes too, retried as the suite's own
    return with_polite_transport(schema, target.retry)


def note_schemathesis_results(context: Any, case: Any, response: Any, results: list[Any]) -> None:
    """Schemathesis' checks that judge a rule of the suite (`findings.SCHEMATHESIS_RULES`: a server
    error is `no_server_error`...) are checks of that rule in the ledger, and their failures
    break it, so the summary never shows such a rule held when one of them failed. Only the
    suite's schemas (`load_schema`) carry this hook: answers made up by its own tests are no
    finding."""
    if any(result.failure is not None for result in results):
        findings.FAILED_EXCHANGES.append(from_schemathesis(response))  # for the failure's report
    for result in results:
        rule = SCHEMATHESIS_RULES.get(result.name)
        if rule is None:
            continue
        rules.LEDGER.record_check(rule)
        if result.failure is not None:
            rules.LEDGER.record_broken(rule, f"{case.operation.label} (Schemathesis {result.failure.code})")


@dataclass
class CreatedEntities:
    """What a run created (read from the 201 answers of creates), so that against a shared server
    it updates and deletes only its own entities, and deletes them all at the end.

    `marker`: the run marker its creates carry (`st_reconcile.mark_case`), by which a create whose
    answer was lost is looked for."""

    # (segment, id) in creation order (a dict as an ordered set). Keyed by both: a create may
    # name its own id, and Schemathesis sends the same generated uuid to several resources.
    keys: dict[tuple[str, str], None] = field(default_factory=dict)
    marker: str = field(default_factory=lambda: new_run_id() + "st")

    @property
    def ids(self) -> dict[str, str]:
        """id -> segment of what the run created."""
        return {entity_id: segment for segment, entity_id in self.keys}

    def record(self, response: Any, case: Any) -> None:
        """Note the entity of a create's 201. The operation is the case's, not read from the URL,
        whose path also holds the target's own prefix (`--target-url https://host/api`)."""
        match = CREATE_PATH.match(case.operation.path)
        if match is None or case.operation.method.upper() != "POST" or response.status_code != 201:
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        segment = match["segment"]
        entity_id = body.get(segment.replace("-", "_") + "_id") if isinstance(body, dict) else None
        if isinstance(entity_id, str):
            self.add(segment, entity_id)

    def add(self, segment: str, entity_id: str) -> None:
        self.keys[(segment, entity_id.lower())] = None

    def knows(self, segment: str, entity_id: str) -> bool:
        return (segment, entity_id.lower()) in self.keys

    def owns_target_of(self, case: Any) -> bool:
        """Whether an update or delete names an entity of this run (any other operation: True)."""
        parts = case.operation.path.split("/")  # "", "v2", segment, verb[, "{id}"]
        if len(parts) < 4 or parts[3] not in DESTRUCTIVE_VERBS:
            return True
        return self.knows(parts[2], str((case.path_parameters or {}).get("id", "")))

    def drop_foreign_target(self, case: Any) -> bool:
        """On a server others use: an update or delete of an id this run did not create (one
        Schemathesis generated instead of following a link: an example id of the spec, say)
        names, in its place, a uuid that names nothing (derived from the run's marker), so the step
        is still sent and judged, as one on an absent id. Ids that are not uuids name nobody and
        stay. Returns whether the id was replaced."""
        if self.owns_target_of(case):
            return False
        value = str((case.path_parameters or {}).get("id", ""))
        if not is_uuid(value.strip()):
            return False
        segment = case.operation.path.split("/")[2]
        case.path_parameters["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.marker}/{segment}/{value}"))
        return True

    def drop_foreign_parents(self, case: Any) -> list[str]:
        """On a server others use: a create or update that names, as a parent, an entity this run
        did not create (an id from the spec's examples, or one seen in an answer) would hang
        something under someone else's entity, whose counts, statuses and expiry dates then
        change. Each such reference becomes a uuid that names nothing (derived from the run's
        marker), so the case still tests the answer to a missing parent. References that are not
        uuids name nobody and stay. Returns the fields replaced."""
        parts = case.operation.path.split("/")  # "", "v2", segment, verb[, "{id}"]
        resource = BY_SEGMENT.get(parts[2]) if len(parts) > 3 else None
        if resource is None or parts[3] not in ("create", "update") or not isinstance(case.body, dict):
            return []
        replaced = []
        for reference, parent in resource.parents:
            value = case.body.get(reference)
            if isinstance(value, str) and is_uuid(value) and not self.knows(parent, value):
                case.body[reference] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.marker}/{parent}/{value}"))
                replaced.append(reference)
        return replaced

    def cleanup(self, target: Target) -> list[str]:
        """Delete (force=true) what the run created, newest first; returns what could not be."""
        stayed = force_delete_newest_first(target, list(self.keys))
        self.keys.clear()
        return stayed


def operation_params() -> list[Any]:
    """Every operation of the spec, marked with what it asks of the target: a test of an operation
    that `suite_config` keeps from this target would have nothing to run, so it is deselected with
    the reason printed (support/plugin.py), never failed or skipped."""
    params = []
    for operation in spec_operations():
        verb = operation_verb(operation)
        marks = [getattr(pytest.mark, WRITES_MARKER)] if verb in WRITE_VERBS else []
        marks += [getattr(pytest.mark, ANY_ID_MARKER)] if verb in DESTRUCTIVE_VERBS else []
        params.append(pytest.param(operation, marks=marks, id=f"{operation[0].upper()} {operation[1]}"))
    return params
