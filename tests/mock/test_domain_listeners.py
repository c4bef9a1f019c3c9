"""The domain's listeners: told of each API write once it committed, in commit order, with the
entity before and after as the API answers it; never of a write that was undone, a load, or a
cascaded delete; a failing listener never fails the call."""

from __future__ import annotations

import pytest

from mock_server.domain.errors import RuleViolations
from mock_server.domain.service import Change
from mockworld import World, create_body


def test_listeners_hear_each_committed_write_in_order(world: World) -> None:
    heard: list[Change] = []
    world.domain.listeners.append(heard.append)
    created = world.domain.create("certificate", create_body("certificate"))
    certificate_id = created["certificate_id"]
    updated = world.domain.update("certificate", certificate_id, {"name": "Renamed"})
    world.domain.delete("certificate", certificate_id, force=False)
    assert [(c.kind, c.segment, c.entity_id, c.workspace) for c in heard] == [
        ("created", "certificate", certificate_id, "default"),
        ("updated", "certificate", certificate_id, "default"),
        ("deleted", "certificate", certificate_id, "default"),
    ]
    assert heard[0].before is None and heard[0].after == created
    assert heard[1].before == created and heard[1].after == updated
    assert heard[2].before == updated and heard[2].after is None


def test_an_undone_write_and_a_load_tell_nothing(world: World) -> None:
    heard: list[Change] = []
    world.domain.listeners.append(heard.append)
    with pytest.raises(RuleViolations):
        world.domain.create("certificate", {**create_body("certificate"), "resource_id": "00000000-0000-4000-8000-00000000ffff"})
    world.domain.load(world.domain.export())
    assert heard == []


def test_a_cascade_tells_only_of_its_target(world: World) -> None:
    action = world.domain.create("action", create_body("action"))
    heard: list[Change] = []
    world.domain.listeners.append(heard.append)
    session = world.domain.create("action-session", {**create_body("action-session"), "action_id": action["action_id"]})
    world.domain.delete("action", action["action_id"], force=True)
    assert [(c.kind, c.segment) for c in heard] == [("created", "action-session"), ("deleted", "action")]
    assert session["action_session_id"] not in [c.entity_id for c in heard[1:]]


def test_a_failing_listener_is_logged_with_the_change_it_failed_on(world: World, caplog: pytest.LogCaptureFixture) -> None:
    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    world.domain.listeners.append(broken)
    created = world.domain.create("certificate", create_body("certificate"))
    assert f"a listener of created certificate {created['certificate_id']} failed" in caplog.messages


def test_a_failing_listener_never_fails_the_call(world: World) -> None:
    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    heard: list[Change] = []
    world.domain.listeners += [broken, heard.append]
    created = world.domain.create("certificate", create_body("certificate"))
    assert world.domain.view("certificate", created["certificate_id"]) == created
    assert len(heard) == 1
