"""Force delete (semantics.md, "Force delete"; DECISIONS.md for the preview order): what lies
below an entity, the preview without force (nothing deleted), and the cascade with force."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mock_server.domain.errors import HasDescendants, NotFound
from mockworld import MISSING, PERSON_1, PERSON_2, World


def _uuid(kind: str, number: int) -> str:
    return f"{kind}0000000-0000-4000-8000-{number:012d}"


@dataclass
class Tree:
    """Action A with two entries, two sessions, three dates, three enrollments and one link;
    action B (same project) with its own entry, session, date and enrollment, and a second
    link of the same certificate. Ids are chosen so that creation order != id order."""

    world: World
    a: str = _uuid("4", 1)
    b: str = _uuid("4", 2)
    s1: str = _uuid("5", 2)  # PERSON_1 on A, created first
    s2: str = _uuid("5", 1)  # PERSON_2 on A
    s3: str = _uuid("5", 3)  # PERSON_1 on B
    se1: str = _uuid("6", 2)
    se2: str = _uuid("6", 1)
    seb: str = _uuid("6", 3)
    d1: str = _uuid("7", 3)  # of se1
    d2: str = _uuid("7", 1)  # of se1
    d3: str = _uuid("7", 2)  # of se2
    db: str = _uuid("7", 4)  # of seb
    e1: str = _uuid("e", 3)  # se1 x s1, certificate c1
    e2: str = _uuid("e", 1)  # se2 x s2
    e3: str = _uuid("e", 2)  # se2 x s1
    eb: str = _uuid("e", 4)  # seb x s3, certificate c1
    c1: str = _uuid("8", 1)  # PERSON_1
    c2: str = _uuid("8", 2)  # PERSON_2, unlinked
    l1: str = _uuid("9", 2)  # c1 -> A
    l2: str = _uuid("9", 1)  # c1 -> B

    def build(self) -> "Tree":
        w = self.world
        w.action(action_id=self.a)
        w.action(action_id=self.b)
        w.subscription(self.a, PERSON_1, action_subscription_id=self.s1)
        w.subscription(self.a, PERSON_2, action_subscription_id=self.s2)
        w.subscription(self.b, PERSON_1, action_subscription_id=self.s3)
        w.session(self.a, action_session_id=self.se1)
        w.session(self.a, action_session_id=self.se2)
        w.session(self.b, action_session_id=self.seb)
        w.date(self.se1, "2026-07-01T09:00:00", "2026-07-01T17:00:00", action_session_date_id=self.d1)
        w.date(self.se1, "2026-07-02T09:00:00", "2026-07-02T17:00:00", action_session_date_id=self.d2)
        w.date(self.se2, "2026-08-01T09:00:00", "2026-08-01T17:00:00", action_session_date_id=self.d3)
        w.date(self.seb, "2026-09-01T09:00:00", "2026-09-01T17:00:00", action_session_date_id=self.db)
        w.certificate(PERSON_1, "2025-01-01", certificate_id=self.c1)
        w.certificate(PERSON_2, "2025-01-01", certificate_id=self.c2)
        w.link(self.c1, self.a, certificate_action_id=self.l1)
        w.link(self.c1, self.b, certificate_action_id=self.l2)
        w.enroll(self.se1, self.s1, action_session_subscription_id=self.e1, certificate_id=self.c1, done=1)
        w.enroll(self.se2, self.s2, action_session_subscription_id=self.e2)
        w.enroll(self.se2, self.s1, action_session_subscription_id=self.e3)
        w.enroll(self.seb, self.s3, action_session_subscription_id=self.eb, certificate_id=self.c1)
        return self

    def everything(self) -> list[tuple[str, str]]:
        return [
            ("action", self.a), ("action", self.b),
            ("action-subscription", self.s1), ("action-subscription", self.s2), ("action-subscription", self.s3),
            ("action-session", self.se1), ("action-session", self.se2), ("action-session", self.seb),
            ("action-session-date", self.d1), ("action-session-date", self.d2),
            ("action-session-date", self.d3), ("action-session-date", self.db),
            ("action-session-subscription", self.e1), ("action-session-subscription", self.e2),
            ("action-session-subscription", self.e3), ("action-session-subscription", self.eb),
            ("certificate", self.c1), ("certificate", self.c2),
            ("certificate-action", self.l1), ("certificate-action", self.l2),
        ]


@pytest.fixture
def tree(world: World) -> Tree:
    return Tree(world).build()


def _preview(world: World, segment: str, entity_id: str) -> list[tuple[str, str]]:
    with pytest.raises(HasDescendants) as raised:
        world.domain.delete(segment, entity_id, force=False)
    return list(raised.value.entities)


def _existing(tree: Tree) -> set[tuple[str, str]]:
    return {(segment, i) for segment, i in tree.everything() if tree.world.exists(segment, i)}


def test_action_preview_lists_entries_sessions_dates_enrollments_links_in_order(tree: Tree) -> None:
    t = tree
    # order by type (subscription, session, date, enrollment, link), then by id ascending;
    # e1 and e3 are below both a session and an entry of A, and are listed once
    expected = [
        ("action-subscription", t.s2), ("action-subscription", t.s1),
        ("action-session", t.se2), ("action-session", t.se1),
        ("action-session-date", t.d2), ("action-session-date", t.d3), ("action-session-date", t.d1),
        ("action-session-subscription", t.e2), ("action-session-subscription", t.e3), ("action-session-subscription", t.e1),
        ("certificate-action", t.l1),
    ]
    assert _preview(t.world, "action", t.a) == expected


def test_preview_deletes_nothing(tree: Tree) -> None:
    before = _existing(tree)
    _preview(tree.world, "action", tree.a)
    _preview(tree.world, "action-session", tree.se2)
    _preview(tree.world, "certificate", tree.c1)
    _preview(tree.world, "action-subscription", tree.s1)
    # every entity is still there
    assert _existing(tree) == before == set(tree.everything())


def test_force_delete_of_an_action_removes_its_tree_and_keeps_certificates(tree: Tree) -> None:
    t = tree
    t.world.domain.delete("action", t.a, force=True)
    # gone: A and its 11 descendants; kept: B's tree, both certificates, the link to B
    kept = {
        ("action", t.b), ("action-subscription", t.s3), ("action-session", t.seb),
        ("action-session-date", t.db), ("action-session-subscription", t.eb),
        ("certificate", t.c1), ("certificate", t.c2), ("certificate-action", t.l2),
    }
    assert _existing(t) == kept


def test_session_preview_lists_its_dates_then_its_enrollments(tree: Tree) -> None:
    t = tree
    # se1: dates d2 < d1 by id, then its enrollment e1
    assert _preview(t.world, "action-session", t.se1) == [
        ("action-session-date", t.d2), ("action-session-date", t.d1), ("action-session-subscription", t.e1),
    ]


def test_force_delete_of_a_session_keeps_action_and_entries(tree: Tree) -> None:
    t = tree
    t.world.domain.delete("action-session", t.se2, force=True)
    # gone: se2, its date d3, its enrollments e2 and e3
    gone = {("action-session", t.se2), ("action-session-date", t.d3),
            ("action-session-subscription", t.e2), ("action-session-subscription", t.e3)}
    assert _existing(t) == set(t.everything()) - gone


def test_subscription_preview_lists_its_enrollments(tree: Tree) -> None:
    t = tree
    # s1 is enrolled in se1 (e1) and se2 (e3): e3 < e1 by id
    assert _preview(t.world, "action-subscription", t.s1) == [
        ("action-session-subscription", t.e3), ("action-session-subscription", t.e1),
    ]


def test_force_delete_of_a_subscription_keeps_sessions_and_certificates(tree: Tree) -> None:
    t = tree
    t.world.domain.delete("action-subscription", t.s1, force=True)
    gone = {("action-subscription", t.s1), ("action-session-subscription", t.e1), ("action-session-subscription", t.e3)}
    # only the entry and its two enrollments went
    assert _existing(t) == set(t.everything()) - gone


def test_certificate_preview_lists_its_links_only(tree: Tree) -> None:
    t = tree
    # the enrollments naming c1 are not below it: only its links, l2 < l1 by id
    assert _preview(t.world, "certificate", t.c1) == [("certificate-action", t.l2), ("certificate-action", t.l1)]


def test_force_delete_of_a_certificate_clears_enrollments_certificate_id(tree: Tree) -> None:
    t = tree
    t.world.domain.delete("certificate", t.c1, force=True)
    gone = {("certificate", t.c1), ("certificate-action", t.l1), ("certificate-action", t.l2)}
    # the links went; the enrollments that named c1 stay, with certificate_id null
    assert _existing(t) == set(t.everything()) - gone
    assert t.world.view("action-session-subscription", t.e1)["certificate_id"] is None
    assert t.world.view("action-session-subscription", t.eb)["certificate_id"] is None
    assert t.world.view("action-session-subscription", t.e1)["done"] == 1


def test_certificate_named_only_by_enrollments_is_deleted_without_force(world: World) -> None:
    action = world.action()
    sub = world.subscription(action, PERSON_1)
    session = world.session(action)
    certificate = world.certificate(PERSON_1, "2025-01-01")
    enrollment = world.enroll(session, sub, certificate_id=certificate)
    world.domain.delete("certificate", certificate, force=False)
    # no link below it: deleted; the enrollment stays with certificate_id cleared
    assert not world.exists("certificate", certificate)
    assert world.view("action-session-subscription", enrollment)["certificate_id"] is None


@pytest.mark.parametrize("segment, attribute", [
    ("action-session-date", "d1"),
    ("action-session-subscription", "e1"),
    ("certificate-action", "l1"),
    ("certificate", "c2"),
])
def test_entity_with_nothing_below_is_deleted_without_force(tree: Tree, segment: str, attribute: str) -> None:
    entity_id = getattr(tree, attribute)
    tree.world.domain.delete(segment, entity_id, force=False)
    # only that entity went
    assert _existing(tree) == set(tree.everything()) - {(segment, entity_id)}


def test_action_without_children_is_deleted_without_force(world: World) -> None:
    action = world.action()
    world.domain.delete("action", action, force=False)
    assert not world.exists("action", action)


@pytest.mark.parametrize("segment", [
    "action", "action-session", "action-session-date", "certificate",
    "action-subscription", "action-session-subscription", "certificate-action",
])
def test_deleting_a_missing_entity_is_not_found(world: World, segment: str) -> None:
    with pytest.raises(NotFound):
        world.domain.delete(segment, MISSING, force=True)


def test_counts_reflect_a_cascade(tree: Tree) -> None:
    t = tree
    t.world.domain.delete("action-subscription", t.s2, force=True)
    # se2 had e2 (s2) and e3 (s1): one left; A has one entry left
    assert t.world.view("action-session", t.se2)["count_subscribed"] == 1
    assert t.world.view("action", t.a)["countSubscribed"] == 1
