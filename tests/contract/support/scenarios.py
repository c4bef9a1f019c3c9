"""Hypothesis strategies for structured scenarios: forests of action trees, and steps that change them.

A scenario names the resources it uses by index into the target's resource list and names its
own entities by index, so it is independent of any server and shrinks to small cases. Dates are
concrete (drawn around the target's today). When the target's date is not exactly known,
every date that a status or count compares with today stays `margin` days away from each boundary.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from hypothesis import strategies as st

from .oracle import add_validity

ACTION_TYPES = ("TRAINING", "HEALTH", "PER", "CHECK")  # types that take people as subscribers
VALIDITY_UNITS = ("YEAR", "MONTH", "DAY")
LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"  # orders alike in any collation
# Labels whose order differs with and without regard to case: case-sensitive (ASCII) puts every
# capital first (A1 B1 C0 a3 b2), case-insensitive interleaves them (A1 a3 B1 b2 C0).
CASE_SEPARATING_LABELS = ("b2", "A1", "a3", "C0", "B1")
DONE_VALUES = (-1, 0, 1)


@dataclass(frozen=True)
class Validity:
    amount: int
    unit: str


@dataclass(frozen=True)
class ActionSpec:
    action_type: str
    label: str
    code: str | None
    validity: Validity | None
    expire_interval: int | None
    office: int = 0  # index into the target's offices; the action's children share its office


@dataclass(frozen=True)
class DateSpec:
    """A session date's local begin and end (what its date part is read from, docs/DECISIONS.md,
    Shapes) and the UTC offsets written after each (empty: none)."""

    begin: dt.datetime
    end: dt.datetime
    begin_offset: str = ""
    end_offset: str = ""

    def texts(self) -> tuple[str, str]:
        return self.begin.isoformat(timespec="seconds") + self.begin_offset, self.end.isoformat(timespec="seconds") + self.end_offset


@dataclass(frozen=True)
class SessionSpec:
    dates: tuple[DateSpec, ...]


@dataclass(frozen=True)
class EnrollmentSpec:
    session: int
    subscription: int
    done: int
    certificate: int | None  # the certificate this enrollment produced (index into the forest's)


@dataclass(frozen=True)
class TreeSpec:
    action: ActionSpec
    subscribers: tuple[int, ...]  # distinct resource indexes: one entry per resource and action
    sessions: tuple[SessionSpec, ...]
    enrollments: tuple[EnrollmentSpec, ...]


@dataclass(frozen=True)
class CertificateSpec:
    resource: int
    label: str
    date_release: dt.date
    date_expire: dt.date | None
    validity: Validity | None


@dataclass(frozen=True)
class LinkSpec:
    certificate: int
    tree: int
    date_expire: dt.date | None


@dataclass(frozen=True)
class ForestSpec:
    trees: tuple[TreeSpec, ...]
    certificates: tuple[CertificateSpec, ...]
    links: tuple[LinkSpec, ...]


@dataclass(frozen=True)
class Room:
    """What a scenario may use on the target: its date, resources, offices and clock."""

    today: dt.date
    margin: int  # days kept from today's boundaries (0 when the target's date is exactly known)
    resource_count: int
    office_count: int = 1
    clock_settable: bool = False


@dataclass(frozen=True)
class Sizes:
    max_trees: int = 2
    max_subscribers: int = 3
    max_sessions: int = 2
    max_dates: int = 2
    max_certificates: int = 3
    # at least one entity of every kind: the first tree has a subscriber, a session with a date
    # and an enrollment, and the first certificate is linked to it (what `updates_of_every_kind`
    # needs). With a date margin, a forest whose expiries could fall on a boundary still loses
    # its links (`forests`), and then the link update finds nothing to update.
    every_kind: bool = False


# ---------------------------------------------------------------- dates around today


def far_from(day_offset: int, boundaries: Iterable[int], margin: int) -> bool:
    return all(abs(day_offset - b) >= margin for b in boundaries)


def expiry_is_clear(expiry: dt.date | None, today: dt.date, expire_interval: int | None, margin: int) -> bool:
    """No doubt about the status this expiry gives, even if the server's today is a day off."""
    if expiry is None or margin == 0:
        return True
    return far_from((expiry - today).days, (0, expire_interval or 0), margin)


def day_offsets(margin: int, interval_hint: int = 0) -> st.SearchStrategy[int]:
    """Offsets from today; close to the boundaries only when the date is exactly known."""
    spread = st.integers(-900, 900)
    if margin:
        return spread
    edges = st.sampled_from(sorted({-1, 0, 1, interval_hint - 1, interval_hint, interval_hint + 1}))
    return st.one_of(edges, st.integers(-40, 40), spread)


def labels() -> st.SearchStrategy[str]:
    return st.text(LABEL_ALPHABET, min_size=1, max_size=6)


def validities() -> st.SearchStrategy[Validity | None]:
    return st.one_of(
        st.none(),
        st.builds(Validity, st.integers(1, 3), st.just("YEAR")),
        st.builds(Validity, st.integers(1, 18), st.just("MONTH")),
        st.builds(Validity, st.integers(1, 400), st.just("DAY")),
    )


def actions(office_count: int = 1) -> st.SearchStrategy[ActionSpec]:
    return st.builds(
        ActionSpec,
        action_type=st.sampled_from(ACTION_TYPES),
        label=labels(),
        code=st.one_of(st.none(), labels()),
        validity=validities(),
        expire_interval=st.one_of(st.none(), st.integers(0, 60)),
        office=st.integers(0, office_count - 1),
    )


# Offsets a date-time may carry: none, UTC, and ones that put a time near midnight on another UTC day.
UTC_OFFSETS = ("", "Z", "+02:00", "-05:00", "+14:00", "-12:00")


@st.composite
def session_dates(draw: st.DrawFn, today: dt.date, margin: int) -> DateSpec:
    """A day's begin and end, local times of the project; near midnight and with an offset, the
    day a UTC reading gives differs from the one written."""
    start = today + dt.timedelta(days=draw(st.integers(-60, 60) if not margin else st.integers(-400, 400)))
    span = draw(st.integers(0, 3))
    near_midnight = draw(st.booleans())
    begin_time = dt.time(0, draw(st.sampled_from((0, 30)))) if near_midnight else dt.time(draw(st.integers(6, 11)), draw(st.sampled_from((0, 30))))
    end_time = dt.time(23, draw(st.sampled_from((30, 59)))) if near_midnight else dt.time(draw(st.integers(12, 19)), 0)
    begin = dt.datetime.combine(start, begin_time)
    end = dt.datetime.combine(start + dt.timedelta(days=span), end_time)
    offsets = st.sampled_from(UTC_OFFSETS) if near_midnight else st.just("")
    return DateSpec(begin, end, draw(offsets), draw(offsets))


def date_is_clear(date_spec: DateSpec, today: dt.date, margin: int) -> bool:
    """A session's date_end is compared with today (countScheduled)."""
    return margin == 0 or far_from((date_spec.end.date() - today).days, (0,), margin)


def clear_session_dates(today: dt.date, margin: int) -> st.SearchStrategy[DateSpec]:
    return session_dates(today, margin).filter(lambda d: date_is_clear(d, today, margin))


def sessions(today: dt.date, margin: int, max_dates: int, min_dates: int = 0) -> st.SearchStrategy[SessionSpec]:
    return st.builds(SessionSpec, st.lists(clear_session_dates(today, margin), min_size=min_dates, max_size=max_dates).map(tuple))


@st.composite
def trees(draw: st.DrawFn, room: Room, sizes: Sizes, certificate_count: int, every_kind: bool = False) -> TreeSpec:
    """An action with its children; `every_kind`: at least one subscriber, one session whose
    first has a date, and one enrollment."""
    today, margin, resource_count = room.today, room.margin, room.resource_count
    least = 1 if every_kind else 0
    action = draw(actions(room.office_count))
    subscribers = tuple(
        draw(st.lists(st.integers(0, resource_count - 1), unique=True, min_size=least, max_size=max(least, min(sizes.max_subscribers, resource_count))))
    )
    first_session = [draw(sessions(today, margin, max(1, sizes.max_dates), min_dates=1))] if every_kind else []
    more_sessions = draw(st.lists(sessions(today, margin, sizes.max_dates), max_size=max(0, sizes.max_sessions - len(first_session))))
    tree_sessions = tuple(first_session + more_sessions)
    pairs = [(s, sub) for s in range(len(tree_sessions)) for sub in range(len(subscribers))]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=least, max_size=len(pairs))) if pairs else []
    certificate_choice = st.one_of(st.none(), st.integers(0, certificate_count - 1)) if certificate_count else st.none()
    enrollments = tuple(
        EnrollmentSpec(session=s, subscription=sub, done=draw(st.sampled_from(DONE_VALUES)), certificate=draw(certificate_choice))
        for s, sub in chosen
    )
    return TreeSpec(action, subscribers, tree_sessions, enrollments)


def month_ends(today: dt.date) -> st.SearchStrategy[dt.date]:
    """Last days of months around today, and 29 February: where MONTH and YEAR validities clamp."""
    first_of_month = today.replace(day=1)

    def last_day_before(months_back: int) -> dt.date:
        return add_validity(first_of_month, -months_back, "MONTH") - dt.timedelta(days=1)

    return st.one_of(st.integers(0, 30).map(last_day_before), st.sampled_from([dt.date(2024, 2, 29), dt.date(2020, 2, 29)]))


@st.composite
def certificates(draw: st.DrawFn, room: Room) -> CertificateSpec:
    today, margin, resource_count = room.today, room.margin, room.resource_count
    validity = draw(validities())
    expires_on = today + dt.timedelta(days=draw(day_offsets(margin)))
    how = draw(st.sampled_from(["near-expiry", "any", "month-end"]))
    if validity is not None and how == "near-expiry":
        # released one validity before a date near today, so the derived expiry falls near it
        release = add_validity(expires_on, -validity.amount, validity.unit)
    elif how == "month-end":
        release = draw(month_ends(today))
    else:
        release = today + dt.timedelta(days=draw(st.integers(-900, 30)))
    given_expiry = draw(st.one_of(st.none(), st.just(max(expires_on, release))))
    return CertificateSpec(
        resource=draw(st.integers(0, resource_count - 1)),
        label=draw(labels()),
        date_release=release,
        date_expire=given_expiry,
        validity=validity,
    )


def link_dates(today: dt.date, margin: int, release: dt.date, interval: int | None = None) -> st.SearchStrategy[dt.date | None]:
    """A link's own expiry (or none), near the boundaries of the action's `expire_interval`."""
    return st.one_of(st.none(), day_offsets(margin, interval or 0).map(lambda o: max(release, today + dt.timedelta(days=o))))


def candidate_expiries(forest: ForestSpec) -> list[tuple[dt.date, int | None]]:
    """Every date a status may compare with today, with the interval of the action it counts for."""
    found: list[tuple[dt.date, int | None]] = []
    for link in forest.links:
        certificate = forest.certificates[link.certificate]
        action = forest.trees[link.tree].action
        derived = [certificate.date_expire, link.date_expire]
        for validity in (certificate.validity, *(forest.trees[t.tree].action.validity for t in forest.links if t.certificate == link.certificate)):
            if validity is not None:
                derived.append(add_validity(certificate.date_release, validity.amount, validity.unit))
        found += [(d, action.expire_interval) for d in derived if d is not None]
    return found


def forest_is_clear(forest: ForestSpec, today: dt.date, margin: int) -> bool:
    return all(expiry_is_clear(day, today, interval, margin) for day, interval in candidate_expiries(forest))


@st.composite
def forests(draw: st.DrawFn, room: Room, sizes: Sizes = Sizes()) -> ForestSpec:
    today, margin = room.today, room.margin
    least = 1 if sizes.every_kind else 0
    certificate_specs = tuple(draw(st.lists(certificates(room), min_size=least, max_size=max(least, sizes.max_certificates))))
    if sizes.every_kind:
        first_tree = draw(trees(room, sizes, len(certificate_specs), every_kind=True))
        tree_specs = (first_tree, *draw(st.lists(trees(room, sizes, len(certificate_specs)), max_size=sizes.max_trees - 1)))
    else:
        tree_specs = tuple(draw(st.lists(trees(room, sizes, len(certificate_specs)), min_size=1, max_size=sizes.max_trees)))
    pairs = [(c, t) for c in range(len(certificate_specs)) for t in range(len(tree_specs))]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    if sizes.every_kind and (0, 0) not in chosen:
        chosen = [(0, 0), *chosen]
    links = tuple(
        LinkSpec(c, t, draw(link_dates(today, margin, certificate_specs[c].date_release, tree_specs[t].action.expire_interval)))
        for c, t in chosen
    )
    forest = ForestSpec(tree_specs, certificate_specs, links)
    if not forest_is_clear(forest, today, margin):
        # keep the example but drop what could land on a boundary: link-free certificates decide nothing
        forest = ForestSpec(tree_specs, certificate_specs, ())
    return forest


# ---------------------------------------------------------------- steps that change the counts


@dataclass(frozen=True)
class Enroll:
    session_pick: int
    subscription_pick: int
    done: int


@dataclass(frozen=True)
class Unenroll:
    enrollment_pick: int


@dataclass(frozen=True)
class RecordOutcome:
    enrollment_pick: int
    done: int


@dataclass(frozen=True)
class AddDate:
    session_pick: int
    date: DateSpec


@dataclass(frozen=True)
class RemoveDate:
    date_pick: int


@dataclass(frozen=True)
class AddSession:
    tree_pick: int


@dataclass(frozen=True)
class Subscribe:
    tree_pick: int
    resource_pick: int


@dataclass(frozen=True)
class Unsubscribe:
    subscription_pick: int


@dataclass(frozen=True)
class IssueCertificate:
    certificate: CertificateSpec
    link_to_tree: int | None
    link_expiry: dt.date | None


@dataclass(frozen=True)
class LinkCertificate:
    certificate_pick: int
    tree_pick: int
    date_expire: dt.date | None


@dataclass(frozen=True)
class SetLinkExpiry:
    link_pick: int
    date_expire: dt.date


@dataclass(frozen=True)
class Unlink:
    link_pick: int


@dataclass(frozen=True)
class DeleteCertificate:
    certificate_pick: int


@dataclass(frozen=True)
class SetExpireInterval:
    tree_pick: int
    expire_interval: int


@dataclass(frozen=True)
class SetActionValidity:
    tree_pick: int
    validity: Validity


@dataclass(frozen=True)
class DescribeAction:
    """An action update that changes no input of a derived value."""

    tree_pick: int
    description: str


@dataclass(frozen=True)
class MoveSubscription:
    """The entry's subscriber becomes another resource (one not subscribed to its action, or its own)."""

    subscription_pick: int
    resource_pick: int


@dataclass(frozen=True)
class SetSessionValidity:
    """A session update that changes no input of a derived value (nothing derives from it)."""

    session_pick: int
    validity: Validity


@dataclass(frozen=True)
class MoveDate:
    date_pick: int
    date: DateSpec


@dataclass(frozen=True)
class SetCertificateValidity:
    certificate_pick: int
    validity: Validity


@dataclass(frozen=True)
class AdvanceClock:
    days: int


# ---------------------------------------------------------------- steps that change one input of derived values
#
# Each changes one input that some derived field reads (docs/DECISIONS.md, Computed fields; the
# spec's descriptions of the computed fields): a stored field of the entity itself, a field of a
# parent that children copy, a parent id (a move), or the links and enrollments of one entry.


@dataclass(frozen=True)
class ValidityEdit:
    """What an update sends of a validity: both fields, one alone (the other kept), or both null."""

    fields: str  # "both", "validity", "validity_unit" or "clear"
    amount: int
    unit: str


@dataclass(frozen=True)
class RenameAction:
    """Name and code: copied by its sessions, entries, session dates and links."""

    tree_pick: int
    label: str
    code: str | None


@dataclass(frozen=True)
class MoveActionOffice:
    """subtenant_id: the office of every certificate whose first link is to this action."""

    tree_pick: int
    office_pick: int


@dataclass(frozen=True)
class SetPeople:
    """manager/assignee/watcher of an action or a session: what its session dates answer."""

    segment: str  # "action" or "action-session"
    pick: int
    people: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class EditActionValidity:
    tree_pick: int
    edit: ValidityEdit


@dataclass(frozen=True)
class EditCertificateValidity:
    certificate_pick: int
    edit: ValidityEdit


@dataclass(frozen=True)
class SetCertificateRelease:
    """date_release: the start of every derived expiry, copied by the certificate's links."""

    certificate_pick: int
    date_release: dt.date


@dataclass(frozen=True)
class SetCertificateExpiry:
    """The client's date_expire, or null: the computed expiry applies again."""

    certificate_pick: int
    date_expire: dt.date | None


@dataclass(frozen=True)
class RenameCertificate:
    certificate_pick: int
    label: str


@dataclass(frozen=True)
class ReassignCertificate:
    """resource_id: copied by its links, and whose entries its links count for."""

    certificate_pick: int
    resource_pick: int


@dataclass(frozen=True)
class MoveSession:
    """A session without enrollments moves to another action (its action_id is updated)."""

    session_pick: int
    tree_pick: int


@dataclass(frozen=True)
class MoveDateToSession:
    date_pick: int
    session_pick: int


@dataclass(frozen=True)
class MoveEnrollment:
    """To another session: accepted within the entry's action when the entry is not enrolled there, else 422."""

    enrollment_pick: int
    session_pick: int


@dataclass(frozen=True)
class MoveLink:
    """To another action: accepted unless the certificate is already linked to it (422)."""

    link_pick: int
    tree_pick: int


@dataclass(frozen=True)
class MoveLinkToCertificate:
    """To another certificate: accepted unless that certificate is already linked to the link's
    action (422). Both certificates' first links may change: the first link is the one created
    first, whenever it got the certificate."""

    link_pick: int
    certificate_pick: int


@dataclass(frozen=True)
class MoveEntry:
    """An entry that is enrolled nowhere moves to another action; a resource already subscribed there is a 422."""

    subscription_pick: int
    tree_pick: int


@dataclass(frozen=True)
class CertifyEntry:
    """Certificates of the entry's resource, each linked to the entry's action (one entry, several
    links), then one of them linked there again (a duplicate: 422)."""

    subscription_pick: int
    certificates: tuple[CertificateSpec, ...]
    link_expiries: tuple[dt.date | None, ...]


@dataclass(frozen=True)
class EnrollEntryAgain:
    """The entry enrolled, outcome unknown, in new sessions of its action (one date each, not over
    yet), then in the first of them again (a duplicate: 422)."""

    subscription_pick: int
    dates: tuple[DateSpec, ...]


InputChange = (
    RenameAction | MoveActionOffice | SetPeople | EditActionValidity | EditCertificateValidity | SetCertificateRelease
    | SetCertificateExpiry | RenameCertificate | ReassignCertificate | MoveSession | MoveDateToSession | MoveEnrollment
    | MoveLink | MoveLinkToCertificate | MoveEntry | CertifyEntry | EnrollEntryAgain
)

Step = (
    Enroll | Unenroll | RecordOutcome | AddDate | RemoveDate | AddSession | Subscribe | Unsubscribe | IssueCertificate
    | LinkCertificate | SetLinkExpiry | Unlink | DeleteCertificate | SetExpireInterval | SetActionValidity | DescribeAction
    | MoveSubscription | SetSessionValidity | MoveDate | SetCertificateValidity | AdvanceClock | InputChange
)

PICK = st.integers(0, 7)  # resolved modulo what exists when the step runs


def _link_expiries(room: Room) -> st.SearchStrategy[dt.date]:
    return day_offsets(room.margin).map(lambda o: room.today + dt.timedelta(days=o))


def _given_validities() -> st.SearchStrategy[Validity]:
    return validities().filter(lambda v: v is not None)  # type: ignore[return-value]


def updates_of_every_kind(room: Room) -> st.SearchStrategy[list[Step]]:
    """One update of every resource kind whose answers carry derived fields, in a drawn order:
    for actions two that change an input of derived values (validity: the expiry its certificates
    inherit; expire_interval: its entries' statuses) and one that changes none.
    On a forest drawn with `Sizes(every_kind=True)` each finds its entity, so every answer is
    compared with the model whatever the seed."""
    updates: list[st.SearchStrategy[Step]] = [
        st.builds(DescribeAction, PICK, labels()),
        st.builds(SetActionValidity, PICK, _given_validities()),
        st.builds(SetExpireInterval, PICK, st.integers(0, 60)),
        st.builds(MoveSubscription, PICK, PICK),
        st.builds(SetSessionValidity, PICK, _given_validities()),
        st.builds(MoveDate, PICK, clear_session_dates(room.today, room.margin)),
        st.builds(RecordOutcome, PICK, st.sampled_from(DONE_VALUES)),
        st.builds(SetCertificateValidity, PICK, _given_validities()),
        st.builds(SetLinkExpiry, PICK, _link_expiries(room)),
    ]
    return st.tuples(*updates).flatmap(lambda drawn: st.permutations(list(drawn)))


def steps(room: Room) -> st.SearchStrategy[Step]:
    today, margin, resource_count = room.today, room.margin, room.resource_count

    def issued(spec: CertificateSpec) -> st.SearchStrategy[IssueCertificate]:
        return st.builds(IssueCertificate, st.just(spec), st.one_of(st.none(), PICK), link_dates(today, margin, spec.date_release))

    choices: list[st.SearchStrategy[Step]] = [
        st.builds(Enroll, PICK, PICK, st.sampled_from(DONE_VALUES)),
        st.builds(Unenroll, PICK),
        st.builds(RecordOutcome, PICK, st.sampled_from(DONE_VALUES)),
        st.builds(AddDate, PICK, clear_session_dates(today, margin)),
        st.builds(RemoveDate, PICK),
        st.builds(AddSession, PICK),
        st.builds(Subscribe, PICK, st.integers(0, resource_count - 1)),
        st.builds(Unsubscribe, PICK),
        certificates(room).flatmap(issued),
        st.builds(LinkCertificate, PICK, PICK, st.one_of(st.none(), day_offsets(margin).map(lambda o: today + dt.timedelta(days=o)))),
        st.builds(SetLinkExpiry, PICK, day_offsets(margin).map(lambda o: today + dt.timedelta(days=o))),
        st.builds(Unlink, PICK),
        st.builds(DeleteCertificate, PICK),
        st.builds(SetExpireInterval, PICK, st.integers(0, 60)),
        st.builds(SetActionValidity, PICK, _given_validities()),
        st.builds(DescribeAction, PICK, labels()),
        st.builds(MoveSubscription, PICK, PICK),
        st.builds(SetSessionValidity, PICK, _given_validities()),
        st.builds(MoveDate, PICK, clear_session_dates(today, margin)),
        st.builds(SetCertificateValidity, PICK, _given_validities()),
    ]
    if room.clock_settable:
        choices.append(st.builds(AdvanceClock, st.integers(-400, 400)))
    return st.one_of(choices)


# ---------------------------------------------------------------- values of the inputs, boundaries included


def validity_edits() -> st.SearchStrategy[ValidityEdit]:
    """Validity 0 (expires on its release), small amounts, whole years in months; any unit."""
    amounts = st.one_of(st.just(0), st.integers(1, 18), st.sampled_from([12, 24, 48]))
    return st.builds(ValidityEdit, st.sampled_from(["both", "validity", "validity_unit", "clear"]), amounts, st.sampled_from(VALIDITY_UNITS))


def releases(room: Room) -> st.SearchStrategy[dt.date]:
    """Month ends and leap days (where MONTH and YEAR clamp), days near one validity before today, any day."""
    near = day_offsets(room.margin).map(lambda offset: room.today + dt.timedelta(days=offset))
    return st.one_of(month_ends(room.today), near, st.integers(-900, 30).map(lambda n: room.today + dt.timedelta(days=n)))


def _people() -> st.SearchStrategy[tuple[tuple[str, str | None], ...]]:
    text = st.one_of(st.none(), st.dictionaries(st.sampled_from(["resource_id", "role"]), labels(), min_size=1, max_size=2).map(_json_text))
    return st.lists(st.tuples(st.sampled_from(["manager", "assignee", "watcher"]), text), min_size=1, max_size=3, unique_by=lambda pair: pair[0]).map(tuple)


def _json_text(value: dict[str, str]) -> str:
    return json.dumps(value)


def open_session_dates(room: Room) -> st.SearchStrategy[DateSpec]:
    """Dates of a session not over yet (its date_end after today, clear of the margin)."""
    return session_dates(room.today, room.margin).filter(lambda d: (d.end.date() - room.today).days >= max(room.margin, 1))


def input_changes(room: Room) -> list[st.SearchStrategy[InputChange]]:
    """One strategy per kind of input change; Hypothesis picks the entity, the input and the value."""
    expiries = st.one_of(st.none(), day_offsets(room.margin).map(lambda o: room.today + dt.timedelta(days=o)))
    return [
        st.builds(RenameAction, PICK, labels(), st.one_of(st.none(), labels())),
        st.builds(MoveActionOffice, PICK, PICK),
        st.builds(SetPeople, st.sampled_from(["action", "action-session"]), PICK, _people()),
        st.builds(EditActionValidity, PICK, validity_edits()),
        st.builds(EditCertificateValidity, PICK, validity_edits()),
        st.builds(SetCertificateRelease, PICK, releases(room)),
        st.builds(SetCertificateExpiry, PICK, expiries),
        st.builds(RenameCertificate, PICK, labels()),
        st.builds(ReassignCertificate, PICK, PICK),
        st.builds(MoveSession, PICK, PICK),
        st.builds(MoveDateToSession, PICK, PICK),
        st.builds(MoveEnrollment, PICK, PICK),
        st.builds(MoveLink, PICK, PICK),
        st.builds(MoveLinkToCertificate, PICK, PICK),
        st.builds(MoveEntry, PICK, PICK),
        st.builds(CertifyEntry, PICK, st.lists(certificates(room), min_size=2, max_size=2).map(tuple), st.tuples(expiries, expiries)),
        st.builds(EnrollEntryAgain, PICK, st.lists(open_session_dates(room), min_size=2, max_size=2).map(tuple)),
    ]


def every_input_change(room: Room) -> st.SearchStrategy[list[InputChange]]:
    """One change of every kind, in a drawn order: each example changes every input once."""
    return st.tuples(*input_changes(room)).flatmap(lambda drawn: st.permutations(list(drawn)))
