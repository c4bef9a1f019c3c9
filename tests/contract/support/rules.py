"""The API's rules as small named checks.

Each check takes what it judges (exchanges, answered entities, the model's prediction) and
raises `RuleViolation` when the rule does not hold. A check's name says the rule; its statement
repeats the rule as the project's semantics word it. Checks that judge one exchange
(`pagination_headers_match_body`, `no_server_error`, ...) can be wrapped as Schemathesis checks:

    def pagination_check(ctx, response, case):
        if case.operation.path.endswith("/index") and response.status_code == 200:
            rules.pagination_headers_match_body(exchange.from_schemathesis(response))

Every call is counted in `LEDGER`, so a run can say which rules it exercised.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from .exchange import Exchange, render

P = ParamSpec("P")
R = TypeVar("R")

PREVIEW_TYPE_ORDER: tuple[str, ...] = (
    "action-subscription",
    "action-session",
    "action-session-date",
    "action-session-subscription",
    "certificate-action",
)
PAGINATION_HEADERS = ("X-Pagination-Total-Count", "X-Pagination-Per-Page", "X-Pagination-Current-Page", "X-Pagination-Page-Count")
DEFAULT_PER_PAGE = 100
DEFAULT_PAGE = 1


@dataclass(frozen=True)
class Rule:
    name: str
    statement: str


@dataclass
class RuleLedger:
    """What this process checked; failures are read from the test reports."""

    checks: Counter[str] = field(default_factory=Counter)
    broken: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # reads run side by side

    def record_check(self, rule: str) -> None:
        with self._lock:
            self.checks[rule] += 1

    def record_broken(self, rule: str, where: str) -> None:
        with self._lock:
            self.broken.setdefault(rule, []).append(where)


RULES: dict[str, Rule] = {}
LEDGER = RuleLedger()


class RuleViolation(AssertionError):
    """A rule of the contract does not hold. The message names the rule and shows the exchanges."""

    def __init__(self, rule: str, message: str, exchanges: Sequence[Exchange] = ()) -> None:
        self.rule = rule
        self.statement = RULES[rule].statement if rule in RULES else rule
        self.detail = message
        self.exchanges = tuple(exchanges)
        super().__init__(self.render())

    def render(self) -> str:
        parts = [f"Rule broken [{self.rule}]: {self.statement}", f"What happened: {self.detail}"]
        for number, exchange in enumerate(self.exchanges[-4:], start=1):
            parts.append(f"--- exchange {number} ---\n{render(exchange)}")
        if len(self.exchanges) > 4:
            parts.append(f"({len(self.exchanges) - 4} earlier exchanges not shown)")
        return "\n".join(parts)


def rule(statement: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a check under its function name and count its calls."""

    def register(check: Callable[P, R]) -> Callable[P, R]:
        RULES[check.__name__] = Rule(check.__name__, statement)

        @functools.wraps(check)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            LEDGER.record_check(check.__name__)
            return check(*args, **kwargs)

        return counted

    return register


def _fail(rule_name: str, message: str, *exchanges: Exchange | None) -> None:
    raise RuleViolation(rule_name, message, [e for e in exchanges if e is not None])


def _json_or_none(exchange: Exchange) -> Any:
    try:
        return exchange.json()
    except ValueError:
        return None


# ---------------------------------------------------------------- one exchange


@rule("A request never answers a 5xx: malformed input is a 400, a broken rule a 422.")
def no_server_error(exchange: Exchange) -> None:
    if exchange.status >= 500:
        _fail("no_server_error", f"status {exchange.status}", exchange)


@rule(
    "Every index answers 200 with a bare JSON array and the four X-Pagination-* headers "
    "(Total-Count, Per-Page, Current-Page, Page-Count), each an integer."
)
def pagination_headers_present(exchange: Exchange) -> None:
    if exchange.status != 200:
        _fail("pagination_headers_present", f"index answered {exchange.status}, expected 200", exchange)
    missing = [h for h in PAGINATION_HEADERS if exchange.header(h) is None]
    if missing:
        _fail("pagination_headers_present", f"missing headers {missing}", exchange)
    bad = [h for h in PAGINATION_HEADERS if not str(exchange.header(h)).strip().lstrip("-").isdigit()]
    if bad:
        _fail("pagination_headers_present", f"headers that are not integers: {bad}", exchange)
    if not isinstance(_json_or_none(exchange), list):
        _fail("pagination_headers_present", "the body is not a JSON array", exchange)


def requested_paging(exchange: Exchange) -> tuple[int, int]:
    body = exchange.request_json() or {}
    per_page = body.get("per-page", DEFAULT_PER_PAGE) if isinstance(body, dict) else DEFAULT_PER_PAGE
    page = body.get("page", DEFAULT_PAGE) if isinstance(body, dict) else DEFAULT_PAGE
    return int(per_page), int(page)


def expected_body_length(total: int, per_page: int, page: int) -> int:
    return min(per_page, max(0, total - (page - 1) * per_page))


def expected_page_count(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if total else 0


@rule(
    "X-Pagination-Per-Page = per-page (default 100), X-Pagination-Current-Page = page (default 1), "
    "X-Pagination-Page-Count = ceil(total / per-page) (0 when nothing matches), and the body holds "
    "min(per-page, max(0, total - (page-1) * per-page)) entities."
)
def pagination_headers_match_body(exchange: Exchange) -> None:
    pagination_headers_present(exchange)
    per_page, page = requested_paging(exchange)
    total = int(exchange.header("X-Pagination-Total-Count") or 0)
    answered = {
        "X-Pagination-Per-Page": int(exchange.header("X-Pagination-Per-Page") or -1),
        "X-Pagination-Current-Page": int(exchange.header("X-Pagination-Current-Page") or -1),
        "X-Pagination-Page-Count": int(exchange.header("X-Pagination-Page-Count") or -1),
    }
    expected = {
        "X-Pagination-Per-Page": per_page,
        "X-Pagination-Current-Page": page,
        "X-Pagination-Page-Count": expected_page_count(total, per_page),
    }
    wrong = {h: (answered[h], expected[h]) for h in expected if answered[h] != expected[h]}
    if wrong:
        described = ", ".join(f"{h}={a} (expected {e})" for h, (a, e) in wrong.items())
        _fail("pagination_headers_match_body", f"total {total}: {described}", exchange)
    length = len(exchange.json())
    if length != expected_body_length(total, per_page, page):
        _fail(
            "pagination_headers_match_body",
            f"total {total}, per-page {per_page}, page {page}: body has {length} entities, "
            f"expected {expected_body_length(total, per_page, page)}",
            exchange,
        )


@rule("A 400 is a JSON problem object (application/problem+json) that names the offending request field in `field`.")
def bad_request_names_field(exchange: Exchange, expected_fields: Iterable[str] | None = None) -> None:
    if exchange.status != 400:
        _fail("bad_request_names_field", f"status {exchange.status}, expected 400", exchange)
    content_type = exchange.header("content-type") or ""
    if "json" not in content_type:
        _fail("bad_request_names_field", f"content type {content_type!r} is not JSON", exchange)
    body = _json_or_none(exchange)
    if not isinstance(body, dict) or not isinstance(body.get("field"), str):
        _fail("bad_request_names_field", "the problem object has no string `field`", exchange)
    if expected_fields is not None:
        accepted = set(expected_fields)
        named = body["field"]
        # a body property may be named bare or under `body.`
        if named not in accepted and not any(named == f"body.{f}" for f in accepted):
            _fail("bad_request_names_field", f"`field` is {named!r}, expected one of {sorted(accepted)}", exchange)


def _rule_violation_fields(exchange: Exchange) -> list[str] | None:
    body = _json_or_none(exchange)
    if not isinstance(body, list) or not body:
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("field"), str) and isinstance(item.get("message"), str) for item in body):
        return None
    return [item["field"] for item in body]


def _expect_422(rule_name: str, exchange: Exchange, field_name: str | Iterable[str]) -> None:
    accepted = {field_name} if isinstance(field_name, str) else set(field_name)
    if exchange.status != 422:
        _fail(rule_name, f"status {exchange.status}, expected 422 naming {sorted(accepted)}", exchange)
    fields = _rule_violation_fields(exchange)
    if fields is None:
        _fail(rule_name, "the 422 body is not a non-empty list of {field, message}", exchange)
    if not accepted & set(fields):
        _fail(rule_name, f"the 422 names {fields}, expected one of {sorted(accepted)}", exchange)


@rule(
    "A value at the edge of what the spec allows is taken: a string of maxLength characters is stored; an "
    "integer at its minimum or maximum, or a date at either end of the calendar, is stored or refused with a "
    "422 naming that field (an expiry derived from it would leave the calendar) or the date it would put out "
    "of order; never a 5xx."
)
def edge_value_stored_or_refused(exchange: Exchange, field_name: str, refusable_by: Iterable[str] = ()) -> None:
    """`refusable_by`: the fields a 422 may name for this edge (empty: it must be stored)."""
    accepted = set(refusable_by)
    if exchange.status == 200:
        return
    if exchange.status == 422 and accepted:
        _expect_422("edge_value_stored_or_refused", exchange, accepted)
        return
    expected = f"200 or a 422 naming one of {sorted(accepted)}" if accepted else "200"
    _fail("edge_value_stored_or_refused", f"`{field_name}` at the edge of the spec answered {exchange.status}, expected {expected}", exchange)


@rule("A referenced entity (action, session, subscription, certificate, project, office, resource) must exist: otherwise 422 naming the field.")
def missing_reference_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("missing_reference_is_422", exchange, field_name)


@rule("`subtenant_id` must be an office of `tenant_id`: otherwise 422 naming the field.")
def office_of_other_project_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("office_of_other_project_is_422", exchange, field_name)


@rule(
    "Duplicates are 422: a create with an id that exists, the same resource subscribed twice to one action, "
    "one compliance schedule entry enrolled twice in one session or in a session of another action, "
    "one certificate linked twice to one action."
)
def duplicate_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("duplicate_is_422", exchange, field_name)


@rule(
    "The referential rules hold for the stored data, not only for the request: an update that moves a session "
    "or a compliance schedule entry with enrollments to another action (its enrollments would join an entry and a "
    "session of different actions) is a 422 naming `action_id`, as is one that moves an action or a certificate "
    "with links to another project (naming `tenant_id`)."
)
def move_breaking_a_childs_rule_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("move_breaking_a_childs_rule_is_422", exchange, field_name)


@rule(
    "A certificate is linked only to an action of its own project: a link to an action of another project is a "
    "422 naming `action_id`, and a link whose `tenant_id` is not the certificate's project a 422 naming `tenant_id`."
)
def link_across_projects_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("link_across_projects_is_422", exchange, field_name)


@rule(
    "An expiry the server derives stays in the calendar (up to 9999-12-31): a write that would put one past it "
    "is a 422 naming the field that puts it there: a certificate's own `validity`; the `date_release` of a "
    "certificate without one (with the validity of any action it is linked to); the `validity` of an action "
    "linked to such a certificate; the `action_id` of a link, first or not, of such a certificate. Every link "
    "counts, not only the first: deleting the first hands the certificate to the next."
)
def expiry_past_the_calendar_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("expiry_past_the_calendar_is_422", exchange, field_name)


@rule("`date_end` before `date_begin`, or `date_expire` before `date_release`, is a 422.")
def end_before_begin_is_422(exchange: Exchange, field_name: str | Iterable[str]) -> None:
    _expect_422("end_before_begin_is_422", exchange, field_name)


@rule("The `action_type` of an action never changes: an update that changes it is a 422.")
def action_type_is_immutable(exchange: Exchange) -> None:
    _expect_422("action_type_is_immutable", exchange, "action_type")


@rule("The id of an entity never changes: an id in an update body that differs from the path is a 422.")
def id_is_immutable(exchange: Exchange, id_field: str) -> None:
    _expect_422("id_is_immutable", exchange, id_field)


@rule("Every /v2 operation answers 401 when no valid token is sent (neither `Authorization: Bearer` nor `access-token`).")
def unauthorized_without_valid_token(exchange: Exchange) -> None:
    if exchange.status != 401:
        _fail("unauthorized_without_valid_token", f"status {exchange.status}, expected 401", exchange)


@rule("A valid token is accepted both as `Authorization: Bearer <token>` and as the `access-token` query parameter.")
def valid_token_accepted_in_both_forms(exchange: Exchange) -> None:
    if exchange.status in (401, 403):
        _fail("valid_token_accepted_in_both_forms", f"status {exchange.status} with a valid token", exchange)


@rule(
    "A request that breaks the spec (wrong type, unknown filter or sort field, malformed uuid, date or "
    "date-time, per-page outside 1..100, page < 1, a body that is not JSON) is a 400, never a 5xx."
)
def malformed_input_is_400(exchange: Exchange, expected_fields: Iterable[str] | None = None) -> None:
    no_server_error(exchange)
    if exchange.status != 400:
        _fail("malformed_input_is_400", f"status {exchange.status}, expected 400", exchange)
    bad_request_names_field(exchange, expected_fields)


@rule("Success codes: index 200, create 201 with the stored entity, view 200, update 200, delete 204.")
def success_status(exchange: Exchange, expected: int) -> None:
    if exchange.status != expected:
        _fail("success_status", f"status {exchange.status}, expected {expected}", exchange)


@rule("view, update and delete of an id that does not exist answer 404.")
def absent_id_is_404(exchange: Exchange) -> None:
    if exchange.status != 404:
        _fail("absent_id_is_404", f"status {exchange.status}, expected 404", exchange)


@rule("`history` is accepted by every index and, since nothing is historicized, changes no answer.")
def history_changes_nothing(with_history: Exchange, without: Exchange) -> None:
    if with_history.status != 200:
        _fail("history_changes_nothing", f"status {with_history.status} with `history`", with_history)
    same_totals = with_history.header("X-Pagination-Total-Count") == without.header("X-Pagination-Total-Count")
    if not same_totals or _json_or_none(with_history) != _json_or_none(without):
        _fail("history_changes_nothing", "the answer differs from the same request without `history`", without, with_history)


# ---------------------------------------------------------------- pagination over several pages


def _total(exchange: Exchange) -> int:
    return int(exchange.header("X-Pagination-Total-Count") or -1)


@rule("A page past the last is an empty array with the same totals.")
def page_past_end_is_empty(past: Exchange, reference: Exchange) -> None:
    body = _json_or_none(past)
    if past.status != 200 or body != []:
        _fail("page_past_end_is_empty", f"status {past.status}, body is not an empty array", reference, past)
    for header in ("X-Pagination-Total-Count", "X-Pagination-Page-Count"):
        if past.header(header) != reference.header(header):
            _fail(
                "page_past_end_is_empty",
                f"{header} is {past.header(header)} past the end but {reference.header(header)} on page 1",
                reference,
                past,
            )


@rule(
    "The pages of one query partition its result set: walking every page yields each matching entity "
    "exactly once, and as many as X-Pagination-Total-Count."
)
def pages_partition_result_set(pages: Sequence[Exchange], id_field: str, expected_ids: Iterable[str] | None = None) -> None:
    walked = [item.get(id_field) for page in pages for item in page.json()]
    counts = Counter(walked)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        _fail("pages_partition_result_set", f"ids on more than one page (or twice): {repeated}", *pages)
    totals = {_total(p) for p in pages}
    if len(totals) != 1:
        _fail("pages_partition_result_set", f"X-Pagination-Total-Count varies between pages: {sorted(totals)}", *pages)
    if len(walked) != totals.pop():
        _fail("pages_partition_result_set", f"walked {len(walked)} entities, total says {_total(pages[0])}", *pages)
    if expected_ids is not None:
        expected = set(expected_ids)
        missing, extra = expected - set(walked), set(walked) - expected
        if missing or extra:
            _fail("pages_partition_result_set", f"missing {sorted(missing)}; not matching {sorted(extra)}", *pages)


@rule(
    "Index answers are ordered by `sort` (`-` descending; a null sorts as the lowest value), ties and "
    "requests without `sort` by the entity's id."
)
def pages_follow_requested_order(answered_ids: Sequence[str], expected_ids: Sequence[str], sort: str | None, exchanges: Sequence[Exchange]) -> None:
    if list(answered_ids) != list(expected_ids):
        first = next((i for i, (a, e) in enumerate(zip(answered_ids, expected_ids)) if a != e), min(len(answered_ids), len(expected_ids)))
        _fail(
            "pages_follow_requested_order",
            f"sort {sort!r}: order differs from position {first}:\n  answered {list(answered_ids)}\n  expected {list(expected_ids)}",
            *exchanges,
        )


@rule("Filters select exactly the matching entities: ids, enums, numbers, dates and booleans exactly, other strings by case-insensitive substring; null, 0, false and '' are values, never \"no filter\".")
def filter_matches_exactly(answered_ids: Iterable[str], expected_ids: Iterable[str], filter_: Mapping[str, Any], exchanges: Sequence[Exchange]) -> None:
    answered, expected = set(answered_ids), set(expected_ids)
    if answered != expected:
        _fail(
            "filter_matches_exactly",
            f"filter {json.dumps(filter_, sort_keys=True)}: missing {sorted(expected - answered)}; not matching {sorted(answered - expected)}",
            *exchanges,
        )


@rule(
    "Filters on a computed field select by the value answered now (DECISIONS, Search): right after a change of "
    "one of its inputs, a search by an entity's id and the derived value predicted now finds it, and one by the "
    "value before the change does not."
)
def search_by_derived_value_finds_the_entity(segment: str, entity_id: str, field: str, value: Any, expected: int, exchange: Exchange) -> None:
    total = exchange.header("X-Pagination-Total-Count")
    if total is None or not total.isdigit() or int(total) != expected:
        which = "the value predicted now" if expected else "its value before the change"
        _fail(
            "search_by_derived_value_finds_the_entity",
            f"{segment} {entity_id}: a search by {field}={json.dumps(value)} ({which}) counted {total}, expected {expected}",
            exchange,
        )


# ---------------------------------------------------------------- force delete


@rule("The delete preview is {message, total, entities: [{type, id}]} with total = len(entities), ordered by type (action-subscription, action-session, action-session-date, action-session-subscription, certificate-action) then by id.")
def preview_is_well_formed(exchange: Exchange) -> None:
    body = _json_or_none(exchange)
    if exchange.status != 400 or not isinstance(body, dict):
        _fail("preview_is_well_formed", f"status {exchange.status}, expected 400 with a preview object", exchange)
    entities = body.get("entities")
    if not isinstance(entities, list) or not all(isinstance(e, dict) and {"type", "id"} <= set(e) for e in entities):
        _fail("preview_is_well_formed", "`entities` is not a list of {type, id}", exchange)
    if body.get("total") != len(entities):
        _fail("preview_is_well_formed", f"total {body.get('total')} but {len(entities)} entities", exchange)
    unknown = [e["type"] for e in entities if e["type"] not in PREVIEW_TYPE_ORDER]
    if unknown:
        _fail("preview_is_well_formed", f"unknown types {unknown}", exchange)
    keys = [(PREVIEW_TYPE_ORDER.index(e["type"]), str(e["id"])) for e in entities]
    if keys != sorted(keys):
        _fail("preview_is_well_formed", "entities are not ordered by type, then id", exchange)


@rule("A delete without force=true on an entity with related entities deletes nothing and answers 400 with the preview.")
def preview_deletes_nothing(before: Mapping[tuple[str, str], Mapping[str, Any]], after: Mapping[tuple[str, str], Mapping[str, Any] | None], exchanges: Sequence[Exchange]) -> None:
    gone = sorted(key for key in before if after.get(key) is None)
    if gone:
        _fail("preview_deletes_nothing", f"no longer viewable after the preview: {gone}", *exchanges)
    changed = sorted(key for key in before if after.get(key) != before[key])
    if changed:
        diffs = [f"{key}: {_diff(before[key], after[key])}" for key in changed[:5]]
        _fail("preview_deletes_nothing", "changed after the preview:\n  " + "\n  ".join(diffs), *exchanges)


@rule("The preview lists every entity that force=true deletes, by type and id, and nothing else.")
def preview_lists_exactly_what_force_deletes(preview: Exchange, expected: Sequence[tuple[str, str]]) -> None:
    listed = [(e["type"], str(e["id"])) for e in preview.json()["entities"]]
    missing, extra = set(expected) - set(listed), set(listed) - set(expected)
    if missing or extra:
        _fail("preview_lists_exactly_what_force_deletes", f"missing {sorted(missing)}; not below the entity {sorted(extra)}", preview)
    if listed != list(expected):
        _fail("preview_lists_exactly_what_force_deletes", f"order {listed}, expected {list(expected)}", preview)


@rule("force=true deletes the entity and everything below it in one step: each of them answers 404 afterwards.")
def force_delete_removes_listed(still_viewable: Sequence[tuple[str, str]], exchanges: Sequence[Exchange]) -> None:
    if still_viewable:
        _fail("force_delete_removes_listed", f"still viewable after force delete: {sorted(still_viewable)}", *exchanges)


@rule("A delete removes only the entity and what is below it; siblings, other trees and certificates stay.")
def delete_spares_unrelated(wrongly_gone: Sequence[tuple[str, str]], exchanges: Sequence[Exchange]) -> None:
    if wrongly_gone:
        _fail("delete_spares_unrelated", f"deleted although not below the entity: {sorted(wrongly_gone)}", *exchanges)


@rule("An entity with nothing below it is deleted without force (204).")
def delete_without_descendants_succeeds(exchange: Exchange) -> None:
    if exchange.status != 204:
        _fail("delete_without_descendants_succeeds", f"status {exchange.status}, expected 204", exchange)


@rule("Deleting a certificate keeps the enrollments that named it, with `certificate_id` cleared.")
def enrollment_certificate_cleared(enrollment: Mapping[str, Any] | None, exchange: Exchange | None) -> None:
    if enrollment is None:
        _fail("enrollment_certificate_cleared", "the enrollment was deleted with the certificate", exchange)
    elif enrollment.get("certificate_id") is not None:
        _fail("enrollment_certificate_cleared", f"certificate_id is still {enrollment.get('certificate_id')}", exchange)


# ---------------------------------------------------------------- computed fields


def _diff(answered: Mapping[str, Any] | None, expected: Mapping[str, Any] | None) -> str:
    answered = answered or {}
    expected = expected or {}
    keys = sorted(set(answered) | set(expected))
    return ", ".join(f"{k}: answered {answered.get(k)!r}, expected {expected.get(k)!r}" for k in keys if answered.get(k) != expected.get(k))


def _compare(rule_name: str, entity: Mapping[str, Any], expected: Mapping[str, Any], what: str, exchanges: Sequence[Exchange]) -> None:
    answered = {k: entity.get(k) for k in expected}
    if answered != dict(expected):
        _fail(rule_name, f"{what}: {_diff(answered, expected)}", *exchanges)


@rule("countSubscribed = countValid + countScheduled + countToDo.")
def counts_add_up(action: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    parts = [action.get(k) for k in ("countValid", "countScheduled", "countToDo")]
    if not all(isinstance(p, int) for p in parts) or action.get("countSubscribed") != sum(parts):  # type: ignore[arg-type]
        _fail("counts_add_up", f"action {action.get('action_id')}: countSubscribed {action.get('countSubscribed')} vs parts {parts}", *exchanges)


@rule("count_subscribed = count_done + count_fail + count_unknown (enrollments with done 1, 0, -1).")
def session_counts_match_enrollments(session: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    parts = [session.get(k) for k in ("count_done", "count_fail", "count_unknown")]
    if not all(isinstance(p, int) for p in parts) or session.get("count_subscribed") != sum(parts):  # type: ignore[arg-type]
        _fail("session_counts_match_enrollments", f"session {session.get('action_session_id')}: count_subscribed {session.get('count_subscribed')} vs parts {parts}", *exchanges)


@rule(
    "Action counts: countSubscribed = its compliance schedule entries; countValid = those VALID or EXPIRING; "
    "countScheduled = the others enrolled with outcome not recorded (done -1) in a session of this action whose "
    "date_end is today or later; countToDo = the rest."
)
def action_counts_match_model(action: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("action_counts_match_model", action, expected, f"action {action.get('action_id')}", exchanges)


@rule("ActionSession counts: count_subscribed = its enrollments; count_done, count_fail, count_unknown = those with done 1, 0, -1.")
def session_counts_match_model(session: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("session_counts_match_model", session, expected, f"session {session.get('action_session_id')}", exchanges)


@rule("ActionSession date_begin = date part of the earliest date_begin of its dates, date_end = that of the latest date_end; both null without dates.")
def session_dates_span_its_dates(session: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("session_dates_span_its_dates", session, expected, f"session {session.get('action_session_id')}", exchanges)


@rule(
    "Values taken from the directory are those of the office, project or resource the entity names: office_name, "
    "project_name, subscriber_name, resource_name, resource_type and an action's parent_active are never null for "
    "one that exists (every entity is written naming existing ones), a project's or office's type may be; each is "
    "the same in every answer, of any resource, that names the same office, project or resource; an action's "
    "owned_active is always true."
)
def directory_values_agree(entity: Mapping[str, Any], seen: Mapping[str, Any], must_be_set: Iterable[str], what: str, exchanges: Sequence[Exchange] = ()) -> None:
    """`seen`: field -> the value an earlier answer gave for the same office, project or resource;
    `must_be_set`: the fields that name one that exists."""
    unset = sorted(name for name in must_be_set if entity.get(name) is None)
    if unset:
        _fail("directory_values_agree", f"{what}: {', '.join(unset)} null, though it names an office, project or resource that exists", *exchanges)
    _compare("directory_values_agree", entity, seen, f"{what} (the values earlier answers gave for the same office, project or resource)", exchanges)


@rule("Fields copied from a parent (action_code, action_name, action_type, action_id, ...) equal the parent's.")
def parent_fields_copied(entity: Mapping[str, Any], expected: Mapping[str, Any], what: str, exchanges: Sequence[Exchange] = ()) -> None:
    _compare("parent_fields_copied", entity, expected, what, exchanges)


@rule(
    "ActionSubscription status: NEW without a linked certificate of that action and resource; the link with the "
    "latest expiry wins (own date_expire, else the certificate's; none = never expires); EXPIRED when expiry < "
    "today, EXPIRING when today <= expiry <= today + expire_interval (null = 0), else VALID."
)
def subscription_status_matches_certificates(subscription: Mapping[str, Any], expected_status: str, exchanges: Sequence[Exchange] = ()) -> None:
    _compare("subscription_status_matches_certificates", subscription, {"status": expected_status}, f"subscription {subscription.get('action_subscription_id')}", exchanges)


@rule(
    "Certificate date_expire: the client's date_expire wins; else date_release + the certificate's own validity, "
    "else + the validity of the action of its first link, else null."
)
def certificate_expiry_derivation(certificate: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("certificate_expiry_derivation", certificate, expected, f"certificate {certificate.get('certificate_id')}", exchanges)


@rule("Certificate subtenant_id is that of the action of its first link (null without a link).")
def certificate_office_from_first_link(certificate: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("certificate_office_from_first_link", certificate, expected, f"certificate {certificate.get('certificate_id')}", exchanges)


@rule("A certificate-action answers date_expire = its own date, else the certificate's expiry, with is_date_inherited 1 in the second case.")
def link_expiry_inherited(link: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("link_expiry_inherited", link, expected, f"certificate-action {link.get('certificate_action_id')}", exchanges)


@rule("action-session-date/index?subscriber_id=X answers only dates of sessions in which an entry of resource X is enrolled.")
def dates_of_subscriber(answered_ids: Iterable[str], expected_ids: Iterable[str], exchanges: Sequence[Exchange]) -> None:
    answered, expected = set(answered_ids), set(expected_ids)
    if answered != expected:
        _fail("dates_of_subscriber", f"missing {sorted(expected - answered)}; not matching {sorted(answered - expected)}", *exchanges)


# ---------------------------------------------------------------- writes


@rule("create answers the stored entity: every field sent comes back as sent.")
def created_entity_echoes_sent_fields(entity: Mapping[str, Any], sent: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("created_entity_echoes_sent_fields", entity, sent, "created entity", exchanges)


@rule("An update is partial: the fields sent replace the stored ones, the others stay.")
def partial_update_keeps_unsent_fields(after: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("partial_update_keeps_unsent_fields", after, expected, "entity after update", exchanges)


@rule("An update is stored: a later view answers every field the update sent, as sent.")
def update_is_stored(viewed: Mapping[str, Any], sent: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("update_is_stored", viewed, sent, "entity viewed after update", exchanges)


@rule("Computed fields sent by a client are ignored, never stored.")
def computed_fields_from_client_ignored(entity: Mapping[str, Any], expected: Mapping[str, Any], exchanges: Sequence[Exchange] = ()) -> None:
    _compare("computed_fields_from_client_ignored", entity, expected, "computed fields", exchanges)


@rule("Unknown fields sent by a client are ignored, never stored.")
def unknown_fields_ignored(entity: Mapping[str, Any], unknown: Iterable[str], exchanges: Sequence[Exchange] = ()) -> None:
    echoed = sorted(name for name in unknown if name in entity)
    if echoed:
        _fail("unknown_fields_ignored", f"unknown fields answered back: {echoed}", *exchanges)


@rule("A request rejected with 4xx changes nothing.")
def rejected_request_changes_nothing(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, exchanges: Sequence[Exchange] = ()) -> None:
    if before != after:
        _fail("rejected_request_changes_nothing", _diff(after, before), *exchanges)
