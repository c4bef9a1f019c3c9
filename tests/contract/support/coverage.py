"""Which property covers each derived, filtered and sorted field, for each input that changes it
and each resource that answers it: the source of `tests/contract/README.md`'s coverage table.

    .venv/bin/python -m tests.contract.support.coverage            # print the table
    .venv/bin/python -m tests.contract.support.coverage --write    # rewrite it in the README

Derived cells are written here (what changes a field is the rules', not the spec's); filter and
sort cells are read from the spec, one per field. `tests/suite/test_coverage_table.py` checks that
every field of the spec appears, that every named property is a test of `tests/contract`, and that
the README holds exactly this table. A cell whose property is still to be written names
`TODO_DERIVED`, which that check reports as missing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from . import spec_view, verify
from .scoping import SEGMENTS

TODO_DERIVED = "TODO-derived"  # a cell no property covers yet: the self-test fails on it
README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- coverage table: generated, see support/coverage.py -->", "<!-- end of coverage table -->"

# the properties (test functions of tests/contract)
BUILT = "test_computed_counts.py::test_built_scenario_matches_the_model"
STEPS = "test_computed_counts.py::test_counts_follow_every_step"
BOUNDARY_DAYS = "test_computed_counts.py::test_status_changes_on_the_boundary_days"
MONTH_END = "test_computed_counts.py::test_derived_expiry_clamps_to_the_end_of_the_month"
FORCE_DELETE = "test_force_delete.py::test_delete_previews_then_force_deletes_exactly_the_subtree"
CREATED = "test_schemathesis.py::test_operation_keeps_the_contract"  # created_entity_derived_fields; schema conformance
FILTER_EDGES = "test_edge_searches.py::test_filters_at_their_edges_select_exactly_the_matching_entities"
SORT_EDGES = "test_edge_searches.py::test_sorts_at_their_edges_follow_the_requested_order"
CASE_SORTS = "test_pagination.py::test_strings_sort_without_regard_to_case"
INPUTS = "test_derived_inputs.py::test_derived_values_follow_every_input"  # every input changed once per example


@dataclass(frozen=True, order=True)
class Cell:
    resource: str
    field: str
    use: str  # derived | filter | sort
    input: str  # what changes the value (or, for a search, which values it is tried at)
    property: str  # `module.py::test_function`, or TODO_DERIVED


def _derived(resources: tuple[str, ...], fields: tuple[str, ...], inputs: tuple[tuple[str, str], ...]) -> list[Cell]:
    return [Cell(r, f, "derived", what, prop) for r in resources for f in fields for what, prop in inputs]


ACTION_COUNTS = ("countValid", "countScheduled", "countToDo")
COPIED_FROM_ACTION = ("action_code", "action_name", "action_type")
# Directory values cannot be predicted, only judged: set, and the same in every answer naming
# the same office, project or resource (`verify.directory_values_agree`, on every answer read).
REFERENCE = (("the office, project or resource named, on create: set and agreeing (directory_values_agree)", BUILT),)
OFFICE_MOVED = (("moved to another office: set and agreeing (directory_values_agree)", INPUTS),)
EXPIRY_INPUTS = (
    ("own date_expire on create", BUILT),
    ("own validity on create", BUILT),
    ("validity of the first link's action", BUILT),
    ("validity N MONTH/YEAR at a month's end", MONTH_END),
    ("own validity updated (both fields, one alone, 0, cleared)", INPUTS),
    ("date_release updated", INPUTS),
    ("own date_expire set or cleared", INPUTS),
    ("first link moved to another action", INPUTS),
    ("an older link moved onto the certificate (it becomes the first link)", INPUTS),
    ("first link deleted", STEPS),
    ("the first link's action's validity updated", STEPS),
)
STATUS_INPUTS = (
    ("certificate linked", STEPS),
    ("link date_expire set", STEPS),
    ("link deleted", STEPS),
    ("certificate deleted", STEPS),
    ("certificate expiry inputs (see certificate date_expire)", STEPS),
    ("action expire_interval updated", STEPS),
    ("today on the boundary days", BOUNDARY_DAYS),
    ("the same entry linked by several certificates", INPUTS),
    ("a link moved to another action or certificate", INPUTS),
    ("certificate resource_id updated", INPUTS),
)

DERIVED_CELLS: tuple[Cell, ...] = tuple(
    _derived(("action",), ("countSubscribed",), (("subscription created", BUILT), ("subscription deleted", STEPS), ("subscription moved to another action", STEPS), ("a child force-deleted", FORCE_DELETE)))
    + _derived(("action",), ACTION_COUNTS, (*STATUS_INPUTS, ("enrollment created, outcome recorded", STEPS), ("session date added or moved", STEPS), ("subscription moved to another action", STEPS), ("a child force-deleted", FORCE_DELETE)))
    + _derived(("action",), ("countSubscribed", *ACTION_COUNTS), (("nothing below it, on create", CREATED),))
    + _derived(("action",), ("office_name", "project_name", "project_type", "owned_active", "parent_active"), REFERENCE)
    + _derived(("action",), ("office_name", "parent_active"), OFFICE_MOVED)
    + _derived(("action-session",), ("count_subscribed", "count_done", "count_fail", "count_unknown"), (("enrollment created", BUILT), ("outcome recorded", STEPS), ("enrollment deleted", STEPS), ("nothing below it, on create", CREATED)))
    + _derived(("action-session",), ("date_begin", "date_end"), (("date created", BUILT), ("date deleted", STEPS), ("date moved", STEPS), ("date-times with an offset near midnight", INPUTS), ("enrollments moved in or out", INPUTS)))
    + _derived(("action-session", "action-session-date", "action-subscription"), COPIED_FROM_ACTION, (("parent action on create", BUILT), ("parent action updated", INPUTS), ("moved to another parent", INPUTS)))
    + _derived(("action-session-date",), ("action_id",), (("parent session on create", BUILT), ("moved to another session", INPUTS), ("its session moved to another action", INPUTS)))
    + _derived(("action-session-date",), ("manager", "assignee", "watcher"), (("session's value, else the action's (schema only)", CREATED), ("session or action updated", INPUTS), ("moved to another session", INPUTS)))
    + _derived(("action-session-date", "action-subscription"), ("office_name", "project_name"), REFERENCE)
    + _derived(("action-subscription",), ("subscriber_name",), REFERENCE)
    + _derived(("action-subscription",), ("status",), (("subscription created", BUILT), *STATUS_INPUTS))
    + _derived(("action-session-subscription",), ("action_type",), (("session's action on create", BUILT), ("moved to another action's session: refused (422)", INPUTS)))
    + _derived(("certificate",), ("date_expire",), EXPIRY_INPUTS)
    + _derived(("certificate",), ("subtenant_id",), (("office of the first link's action", BUILT), ("first link deleted", STEPS), ("the first link's action moved to another office", INPUTS), ("first link moved", INPUTS)))
    + _derived(("certificate",), ("resource_type", "resource_name", "subtenant_type", "project_name"), REFERENCE)
    + _derived(("certificate",), ("resource_type", "resource_name"), (("reassigned to another resource: set and agreeing (directory_values_agree)", INPUTS),))
    + _derived(("certificate",), ("subtenant_type",), (("the first link's action moved to another office: agreeing (directory_values_agree)", INPUTS),))
    + _derived(("certificate-action",), ("date_expire",), (("own date_expire on create", BUILT), ("inherited: certificate expiry", BUILT), ("own date_expire set", STEPS), *EXPIRY_INPUTS[4:]))
    + _derived(("certificate-action",), ("is_date_inherited",), (("own date_expire on create", BUILT), ("own date_expire set", STEPS)))
    + _derived(("certificate-action",), ("action_name", "action_code", "action_type"), (("action on create", BUILT), ("action updated", INPUTS), ("moved to another action", INPUTS)))
    + _derived(("certificate-action",), ("resource_id", "certificate_name", "date_release"), (("certificate on create", BUILT), ("certificate updated", INPUTS)))
    + _derived(("certificate-action",), ("office_name",), REFERENCE)
    + _derived(("certificate-action",), ("office_name",), (("its action moved to another office: set and agreeing (directory_values_agree)", INPUTS),))
)


def _computed(segment: str) -> set[str]:
    return {*spec_view.computed_fields(segment), *(c.field for c in DERIVED_CELLS if c.resource == segment)}


def search_cells() -> list[Cell]:
    """One filter cell and one sort cell per field the spec lets each index filter or sort on."""
    cells = []
    for segment in SEGMENTS:
        computed = _computed(segment)
        for field in spec_view.filter_fields(segment):
            what = "each derivation the edge scenario makes, at 0/null/boundaries" if field in computed else "values at the edges: 0, null, '', false, {}, lowest/highest, days outside"
            cells.append(Cell(segment, field, "filter", what, FILTER_EDGES))
            if field in computed and field in {name for d in verify.DERIVED.get(segment, ()) for name in d.rewritable}:
                cells.append(Cell(segment, field, "filter", "each change of an input, searched alone before any read when null", INPUTS))
            elif field in computed:
                cells.append(Cell(segment, field, "filter", "each change of an input, searched alone before any read: found by the new value, not by the old (unless a substring of it)", INPUTS))
        for field in spec_view.sort_fields(segment):
            what = "each derivation the edge scenario makes, with ties and nulls" if field in computed else "values with ties and nulls, both directions"
            cells.append(Cell(segment, field, "sort", what, SORT_EDGES))
    cells += [Cell("action", "name", "sort", "labels that order differently by case", CASE_SORTS), Cell("action", "code", "sort", "labels that order differently by case", CASE_SORTS), Cell("certificate", "name", "sort", "labels that order differently by case", CASE_SORTS)]
    return cells


def cells() -> list[Cell]:
    return sorted([*DERIVED_CELLS, *search_cells()], key=lambda c: (SEGMENTS.index(c.resource), ("derived", "filter", "sort").index(c.use), c.field, c.input))


def render() -> str:
    lines = [BEGIN, "| resource | field | use | input that changes it (search: values tried) | property |", "|---|---|---|---|---|"]
    lines += [f"| {c.resource} | `{c.field}` | {c.use} | {c.input} | {'**' + c.property + '**' if c.property == TODO_DERIVED else '`' + c.property + '`'} |" for c in cells()]
    return "\n".join([*lines, END])


def readme_table(text: str) -> str | None:
    """The table as the README holds it (None when its markers are missing)."""
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def write_readme(path: Path = README) -> None:
    text = path.read_text(encoding="utf-8")
    current = readme_table(text)
    if current is None:
        raise SystemExit(f"{path}: no coverage table markers ({BEGIN} ... {END})")
    path.write_text(text.replace(current, render()), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the table in {README.relative_to(README.parents[2])}")
    args = parser.parse_args(argv)
    if args.write:
        write_readme()
    else:
        sys.stdout.write(render() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
