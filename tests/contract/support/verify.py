"""Compare everything the target answers about a run's entities with what the model predicts.

`derived_fields_match_model` is the one comparison of an answered entity's derived fields (counts,
statuses, derived dates, fields copied from parents) with the model; the suite calls it on every
answer it reads of an entity the model knows: views, index items, create and update answers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import filter_semantics, oracle, profiles, rules, spec_view
from .client import ApiClient
from .exchange import Exchange
from .oracle import World
from .resources import id_field


# ---------------------------------------------------------------- derived fields of any answer


Judge = Callable[[Mapping[str, Any], Mapping[str, Any], str, Sequence[Exchange]], None]
Predict = Callable[[World, str], "Mapping[str, Any] | None"]  # None: the model cannot tell


def _judged_by(check: Callable[[Mapping[str, Any], Mapping[str, Any], Sequence[Exchange]], None]) -> Judge:
    return lambda entity, expected, what, exchanges: check(entity, expected, exchanges)


def _parents_copied(entity: Mapping[str, Any], expected: Mapping[str, Any], what: str, exchanges: Sequence[Exchange]) -> None:
    rules.parent_fields_copied(entity, expected, what, exchanges)


def _json_or_text(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _people_copied(entity: Mapping[str, Any], expected: Mapping[str, Any], what: str, exchanges: Sequence[Exchange]) -> None:
    """JSON text compared as the JSON it holds (a server may write it with other spacing)."""
    answered = {**entity, **{name: _json_or_text(entity.get(name)) for name in expected}}
    rules.parent_fields_copied(answered, {name: _json_or_text(value) for name, value in expected.items()}, what, exchanges)


def _status(entity: Mapping[str, Any], expected: Mapping[str, Any], what: str, exchanges: Sequence[Exchange]) -> None:
    rules.subscription_status_matches_certificates(entity, expected["status"], exchanges)


def _picked(predict: Callable[[World, str], Mapping[str, Any]], *names: str) -> Predict:
    return lambda world, entity_id: {name: predict(world, entity_id)[name] for name in names}


@dataclass(frozen=True)
class Derived:
    """Fields of a resource that one rule derives, and the model's prediction of them."""

    judge: Judge
    predict: Predict
    today_decides: bool = False  # left out for what oracle.Uncertain names
    # JSON text a server may write with other spacing or key order: searched by value only when null
    rewritable: tuple[str, ...] = ()


# Every derived field the model predicts, by resource (spec: the `readOnly` fields of the answer
# schemas, and Certificate `date_expire`). Reference data (office, project and subscriber names,
# an office's type and activity) is not the model's: `directory_values_agree` judges it.
DERIVED: dict[str, tuple[Derived, ...]] = {
    "action": (Derived(_judged_by(rules.action_counts_match_model), oracle.action_counts, today_decides=True),),
    "action-session": (
        Derived(_judged_by(rules.session_counts_match_model), oracle.session_counts),
        Derived(_judged_by(rules.session_dates_span_its_dates), _picked(oracle.predicted_session, "date_begin", "date_end")),
        Derived(_parents_copied, oracle.session_parent_fields),
    ),
    "action-session-date": (Derived(_parents_copied, oracle.date_parent_fields), Derived(_people_copied, oracle.date_people, rewritable=oracle.PEOPLE)),
    "action-subscription": (
        Derived(_status, lambda world, entity_id: {"status": oracle.subscription_status(world, entity_id)}, today_decides=True),
        Derived(_parents_copied, oracle.subscription_parent_fields),
    ),
    "action-session-subscription": (Derived(_parents_copied, oracle.enrollment_parent_fields),),
    "certificate": (
        Derived(_judged_by(rules.certificate_expiry_derivation), _picked(oracle.predicted_certificate, "date_expire")),
        Derived(_judged_by(rules.certificate_office_from_first_link), _picked(oracle.predicted_certificate, "subtenant_id")),
    ),
    "certificate-action": (
        Derived(_judged_by(rules.link_expiry_inherited), oracle.predicted_link),
        Derived(_parents_copied, oracle.link_parent_fields),
    ),
}

# Rules that need no model: they hold for every answer that carries the counts.
INVARIANTS: dict[str, Callable[[Mapping[str, Any], Sequence[Exchange]], None]] = {
    "action": rules.counts_add_up,
    "action-session": rules.session_counts_match_enrollments,
}


@dataclass(frozen=True)
class DirectoryValue:
    """A field an answer takes from the directory: `of` the office, project or resource it names
    (its id, from the answer or the model; None: it names none), and whether it is always set."""

    field: str
    kind: str  # what the value is of, e.g. "office name": answers of one office agree on it
    of: Callable[[World, Mapping[str, Any]], Any]
    always_set: bool = True


def _own(id_name: str) -> Callable[[World, Mapping[str, Any]], Any]:
    return lambda world, entity: entity.get(id_name)


def _office_of_links_action(world: World, entity: Mapping[str, Any]) -> str | None:
    link = world.links.get(str(entity.get("certificate_action_id", "")).lower())
    action = world.actions.get(link.action_id) if link else None
    return action.subtenant_id if action else None


OFFICE_NAME = DirectoryValue("office_name", "office name", _own("subtenant_id"))
PROJECT_NAME = DirectoryValue("project_name", "project name", _own("tenant_id"))

# Per resource (semantics: names "from the office and project", "from the resource it is issued
# to"; a certificate-action's office is its action's): what each directory value is of.
DIRECTORY_VALUES: dict[str, tuple[DirectoryValue, ...]] = {
    "action": (
        OFFICE_NAME, PROJECT_NAME,
        DirectoryValue("project_type", "project type", _own("tenant_id"), always_set=False),
        DirectoryValue("parent_active", "office active", _own("subtenant_id")),
    ),
    "action-session-date": (OFFICE_NAME, PROJECT_NAME),
    "action-subscription": (OFFICE_NAME, PROJECT_NAME, DirectoryValue("subscriber_name", "resource name", _own("subscriber_id"))),
    "certificate": (
        PROJECT_NAME,
        DirectoryValue("resource_name", "resource name", _own("resource_id")),
        DirectoryValue("resource_type", "resource type", _own("resource_id")),
        DirectoryValue("subtenant_type", "office type", _own("subtenant_id"), always_set=False),
    ),
    "certificate-action": (DirectoryValue("office_name", "office name", _office_of_links_action),),
}
CONSTANTS: dict[str, dict[str, Any]] = {"action": {"owned_active": True}}  # DECISIONS, Computed fields


def directory_values_agree(world: World, segment: str, entity: Mapping[str, Any], exchanges: Sequence[Exchange]) -> None:
    """The answer's directory values against those earlier answers of the same test gave for the
    same office, project or resource (the first answer of each is learned)."""
    seen: dict[str, Any] = dict(CONSTANTS.get(segment, {}))
    must_be_set: list[str] = []
    learned: list[tuple[tuple[str, str], str]] = []
    for value in DIRECTORY_VALUES.get(segment, ()):
        named = value.of(world, entity)
        if named is None:
            continue
        key = (value.kind, str(named).lower())
        if value.always_set:
            must_be_set.append(value.field)
        if key in world.directory_values:
            seen[value.field] = world.directory_values[key]
        else:
            learned.append((key, value.field))
    what = f"{segment} {entity.get(id_field(segment))}"
    rules.directory_values_agree(entity, seen, must_be_set, what, exchanges)
    for key, name in learned:
        world.directory_values.setdefault(key, entity.get(name))


NO_DOUBT = oracle.Uncertain(frozenset(), frozenset())


def _doubted(unsure: oracle.Uncertain, segment: str, entity_id: str) -> bool:
    return entity_id in (unsure.actions if segment == "action" else unsure.subscriptions)


def _comparable(segment: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Ids compared without regard to case (a server may answer them in capitals)."""
    props = spec_view.properties(spec_view.schema_name(segment))
    return {
        name: value.lower() if isinstance(value, str) and props.get(name, {}).get("format") == "uuid" else value
        for name, value in values.items()
    }


def derived_fields_match_model(
    world: World, segment: str, entity: Any, exchanges: Sequence[Exchange], unsure: oracle.Uncertain = NO_DOUBT
) -> None:
    """Every derived field of one answered entity (a view, an index item, a create or update
    answer) against the model, when the model knows the entity; anything else is left alone.
    The one comparison wherever the suite reads an entity: call it after the model has taken the
    change the answer reports."""
    if not isinstance(entity, Mapping):
        return
    entity_id = str(entity.get(id_field(segment), "")).lower()
    if entity_id not in world.table(segment):
        return
    invariant = INVARIANTS.get(segment)
    if invariant is not None:
        invariant(entity, exchanges)
    directory_values_agree(world, segment, entity, exchanges)
    answered = {**entity, **_comparable(segment, entity)}
    for derived in DERIVED[segment]:
        if derived.today_decides and _doubted(unsure, segment, entity_id):
            continue
        expected = derived.predict(world, entity_id)
        if expected is not None:
            derived.judge(answered, _comparable(segment, expected), f"{segment} {entity_id}", exchanges)


def items_match_model(world: World, segment: str, items: Sequence[Any], exchanges: Sequence[Exchange], unsure: oracle.Uncertain = NO_DOUBT) -> None:
    """`derived_fields_match_model` of every item of an index walk."""
    for item in items:
        derived_fields_match_model(world, segment, item, exchanges, unsure)


# Resources whose derived fields others derive from come first: a certificate's expiry decides its
# links' and its entries' statuses, statuses and sessions decide an action's counts.
DERIVATION_ORDER = (
    "certificate",
    "certificate-action",
    "action-subscription",
    "action-session-date",
    "action-session-subscription",
    "action-session",
    "action",
)


def views_match_model(
    api: ApiClient, world: World, keys: Sequence[tuple[str, str]], unsure: oracle.Uncertain = NO_DOUBT
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """View every (segment, id), side by side over HTTP; each entity answered (None for a 404)
    with its derived fields compared with the model, in `DERIVATION_ORDER`: a wrong field is
    named by its own rule before the fields derived from it are judged."""
    answers = api.gather([functools.partial(api.view, *key) for key in keys])
    viewed: dict[tuple[str, str], dict[str, Any] | None] = {}
    for (segment, entity_id), answer in zip(keys, answers, strict=True):
        if answer.status == 404:
            viewed[(segment, entity_id)] = None
            continue
        rules.success_status(answer.exchange, 200)
        viewed[(segment, entity_id)] = answer.body
    judged = sorted(zip(keys, answers, strict=True), key=lambda pair: DERIVATION_ORDER.index(pair[0][0]))
    for (segment, _), answer in judged:
        if answer.status != 404:
            derived_fields_match_model(world, segment, answer.body, [answer.exchange], unsure)
    return viewed


# ---------------------------------------------------------------- a run's entities against the model


def _by_id(items: list[dict[str, Any]], id_field: str) -> dict[str, dict[str, Any]]:
    return {str(item[id_field]).lower(): item for item in items}


def _children_of(
    api: ApiClient, world: World, segment: str, filter_: dict[str, Any], expected_ids: list[str], unsure: oracle.Uncertain
) -> tuple[dict[str, dict[str, Any]], list[Exchange]]:
    items, exchanges = api.index_all(segment, filter_)
    found = _by_id(items, id_field(segment))
    rules.filter_matches_exactly(found, expected_ids, filter_, exchanges)
    items_match_model(world, segment, items, exchanges, unsure)
    return found, exchanges


def verify_action_tree(api: ApiClient, world: World, action_id: str, unsure: oracle.Uncertain) -> None:
    action_answer = api.view("action", action_id)
    rules.success_status(action_answer.exchange, 200)
    derived_fields_match_model(world, "action", action_answer.body, [action_answer.exchange], unsure)
    for segment, entities in (("action-session", world.sessions), ("action-subscription", world.subscriptions), ("certificate-action", world.links)):
        expected = [entity_id for entity_id, entity in entities.items() if entity.action_id == action_id]
        _children_of(api, world, segment, {"action_id": action_id}, expected, unsure)


def verify_dates(api: ApiClient, world: World, session_id: str) -> None:
    expected = [d.id for d in world.dates.values() if d.session_id == session_id]
    _children_of(api, world, "action-session-date", {"action_session_id": session_id}, expected, NO_DOUBT)


def verify_enrollments(api: ApiClient, world: World, session_id: str) -> None:
    expected = [e.id for e in world.enrollments.values() if e.session_id == session_id]
    found, exchanges = _children_of(api, world, "action-session-subscription", {"action_session_id": session_id}, expected, NO_DOUBT)
    for enrollment_id, enrollment in found.items():
        model = world.enrollments[enrollment_id]
        stored = {"done": model.done, "certificate_id": model.certificate_id}
        answered = {"done": enrollment.get("done"), "certificate_id": (enrollment.get("certificate_id") or None) and str(enrollment["certificate_id"]).lower()}
        if model.certificate_id is None and answered["certificate_id"] is not None:
            rules.enrollment_certificate_cleared(enrollment, exchanges[-1])
        rules.partial_update_keeps_unsent_fields(answered, stored, exchanges)


def verify_certificates(api: ApiClient, world: World, marker: str) -> None:
    _children_of(api, world, "certificate", {"name": marker}, list(world.certificates), NO_DOUBT)


def verify_world(api: ApiClient, world: World, marker: str, *, margin: int = 0, deep: bool = False) -> None:
    """Every computed field of the run's entities against the model (deep: dates and enrollments too).

    With a margin (the server's today only roughly known), what today could decide either way is
    left out; scenarios keep such cases rare.
    """
    unsure = oracle.uncertain(world, margin)
    # independent reads (each tree, the certificates, each session's children): side by side
    reads: list[Callable[[], None]] = [functools.partial(verify_action_tree, api, world, action_id, unsure) for action_id in world.actions]
    reads.append(functools.partial(verify_certificates, api, world, marker))
    if deep:
        for session_id in world.sessions:
            reads += [functools.partial(verify_dates, api, world, session_id), functools.partial(verify_enrollments, api, world, session_id)]
    api.gather(reads)


# ---------------------------------------------------------------- what one change affects


Predictions = dict[tuple[str, str], dict[str, Any]]


def predictions(world: World) -> Predictions:
    """Every derived value the model knows, by entity (`known_derived_values`)."""
    return {(segment, entity_id): known_derived_values(world, segment, entity_id) for segment, entity_id in world.all_keys()}


def changed_by(before: Predictions, after: Predictions) -> list[tuple[str, str]]:
    """The entities whose predicted derived values a change made differ (new ones included): a
    server that did not follow the change still answers the values of before for them."""
    return [key for key, values in after.items() if before.get(key) != values]


# The index filter that lists an entity among its siblings: its parent, or (actions, certificates)
# the scope's marker in its name.
INDEX_PARENT: dict[str, tuple[str, str]] = {
    "action-session": ("action_id", "action_id"),
    "action-subscription": ("action_id", "action_id"),
    "certificate-action": ("action_id", "action_id"),
    "action-session-date": ("action_session_id", "session_id"),
    "action-session-subscription": ("action_session_id", "session_id"),
}


def _index_of(world: World, marker: str, segment: str, entity_id: str) -> tuple[dict[str, Any], list[str]]:
    """The filter whose index lists the entity, and every id of the model it must list."""
    table = world.table(segment)
    if segment not in INDEX_PARENT:
        return {"name": marker}, list(table)
    filter_field, attribute = INDEX_PARENT[segment]
    parent = getattr(table[entity_id], attribute)
    return {filter_field: parent}, [key for key, entity in table.items() if getattr(entity, attribute) == parent]


def _flattened(predicted: Sequence[Mapping[str, Any] | None], segment: str, entity_id: str, unsure: oracle.Uncertain) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for derived, fields in zip(DERIVED[segment], predicted, strict=True):
        if fields is None or (derived.today_decides and _doubted(unsure, segment, entity_id)):
            continue
        values.update({name: value for name, value in fields.items() if not isinstance(value, oracle.Same)})
    return values


def known_derived_values(world: World, segment: str, entity_id: str, unsure: oracle.Uncertain = NO_DOUBT) -> dict[str, Any]:
    """Every derived value of one entity the model knows before reading it: the `DERIVED`
    predictions, the directory values earlier answers gave for what it names, the constants."""
    predicted = [derived.predict(world, entity_id) for derived in DERIVED[segment]]
    values = {**CONSTANTS.get(segment, {}), **_flattened(predicted, segment, entity_id, unsure)}
    model = world.table(segment)[entity_id]
    named = {**{k: v for k, v in vars(model).items() if isinstance(v, str)}, **values, id_field(segment): entity_id}
    for value in DIRECTORY_VALUES.get(segment, ()):
        of = value.of(world, named)
        key = (value.kind, str(of).lower())
        if of is not None and key in world.directory_values:
            values[value.field] = world.directory_values[key]
    return values


def _searchable(segment: str, values: Mapping[str, Any]) -> dict[str, Any]:
    filterable = spec_view.filter_fields(segment)
    rewritable = {name for derived in DERIVED[segment] for name in derived.rewritable}
    return {
        name: value for name, value in values.items()
        if name in filterable and filter_semantics.match_kind(segment, name) != "object"
        and (value is None or (isinstance(value, (str, int, bool)) and name not in rewritable))
    }


@dataclass(frozen=True)
class DerivedSearch:
    """One search by an entity's id and one derived value, and how many it must find (1 or 0)."""

    segment: str
    entity_id: str
    field: str
    value: Any
    expected: int

    @property
    def request(self) -> dict[str, Any]:
        # page 2 of one per page: the total count tells found or not, and no entity is answered
        return {"filter": {id_field(self.segment): self.entity_id, self.field: self.value}, "per-page": 1, "page": 2}


def derived_searches(
    world: World, keys: Sequence[tuple[str, str]], unsure: oracle.Uncertain, before: Predictions | None, swept: set[tuple[str, str]]
) -> list[DerivedSearch]:
    """After a change, the searches of each affected entity by one derived value at a time: by the
    value the model knows now (it must be found) and, for a value the change made differ, by the
    one before (it must not be, unless it still matches as text: a substring of the new one).
    `swept` is shared by the example: a value that did not change, or of an entity the change
    created, is searched only the first time its (resource, field) comes up (never under a profile
    that cuts them, `profiles.Economy`)."""
    found: list[DerivedSearch] = []
    sweep = profiles.economy().sweep_unchanged_derived_values
    for segment, entity_id in keys:
        now = _searchable(segment, known_derived_values(world, segment, entity_id, unsure))
        was = _searchable(segment, before.get((segment, entity_id), {})) if before else {}
        for name, value in now.items():
            changed = name in was and was[name] != value
            if not changed:
                if not sweep or (segment, name) in swept:
                    continue
                swept.add((segment, name))
            found.append(DerivedSearch(segment, entity_id, name, value, 1))
            if changed and not filter_semantics.matches(filter_semantics.match_kind(segment, name), value, was[name]):
                found.append(DerivedSearch(segment, entity_id, name, was[name], 0))
    return found


def affected_match_model(
    api: ApiClient,
    world: World,
    keys: Sequence[tuple[str, str]],
    marker: str,
    unsure: oracle.Uncertain = NO_DOUBT,
    before: Predictions | None = None,
    swept: set[tuple[str, str]] | None = None,
) -> None:
    """Each entity of `keys` searched by its derived values (`derived_searches`, sent before
    anything reads it, so that no answer derived for a read can stand in for the search), then read
    again, by its view and as an item of its index (one walk per filter), its derived fields
    against the model. The searches are judged last: a value the server derives wrongly is named
    by its own rule, a search that misses a value the answers give by the search's."""
    if not keys:
        return
    searches = derived_searches(world, keys, unsure, before, set() if swept is None else swept)
    found = api.gather([functools.partial(api.index, s.segment, s.request) for s in searches])
    views_match_model(api, world, keys, unsure)
    walks: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
    for segment, entity_id in keys:
        filter_, expected = _index_of(world, marker, segment, entity_id)
        walks[f"{segment} {json.dumps(filter_, sort_keys=True)}"] = (segment, filter_, expected)
    api.gather([functools.partial(_children_of, api, world, segment, filter_, expected, unsure) for segment, filter_, expected in walks.values()])
    for search, answer in zip(searches, found, strict=True):
        rules.success_status(answer.exchange, 200)
        rules.search_by_derived_value_finds_the_entity(search.segment, search.entity_id, search.field, search.value, search.expected, answer.exchange)
