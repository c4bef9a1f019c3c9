"""Delete over HTTP on the small world (semantics.md, "Force delete"): without force an entity
with related entities answers 400 with the preview and nothing is deleted; with force=true the
entity and everything below it go in one step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockhttp import view
from mockworld import (
    CERT_1, CERT_UNLINKED, CRANE_MAINTENANCE, DATE_NEXT_1, DATE_NEXT_2, DATE_PAST, ENROLLMENT_1, ENROLLMENT_2,
    FIRE, LINK_1, SESSION_NEXT, SESSION_PAST, SUB_1, SUB_2, SUB_3, SUB_CRANE,
)

pytestmark = pytest.mark.http

# Everything below FIRE, in preview order: by type, then by id.
BELOW_FIRE = [
    ("action-subscription", SUB_1), ("action-subscription", SUB_2), ("action-subscription", SUB_3),
    ("action-session", SESSION_PAST), ("action-session", SESSION_NEXT),
    ("action-session-date", DATE_PAST), ("action-session-date", DATE_NEXT_1), ("action-session-date", DATE_NEXT_2),
    ("action-session-subscription", ENROLLMENT_1), ("action-session-subscription", ENROLLMENT_2),
    ("certificate-action", LINK_1),
]


def _preview(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    entities = [(e["type"], e["id"]) for e in body["entities"]]
    assert body["total"] == len(entities)
    return entities


def _state(client: httpx.Client) -> dict[str, Any]:
    return client.get("/__mock/state").json()


@pytest.mark.parametrize("params", [{}, {"force": "false"}])
def test_action_delete_without_force_previews_its_tree_and_deletes_nothing(api: httpx.Client, params: dict[str, str]) -> None:
    before = _state(api)
    assert _preview(api.delete(f"/v2/action/delete/{FIRE}", params=params)) == BELOW_FIRE
    assert _state(api) == before


def test_action_force_delete_removes_its_tree(api: httpx.Client) -> None:
    assert api.delete(f"/v2/action/delete/{FIRE}", params={"force": "true"}).status_code == 204
    for segment, entity_id in [("action", FIRE), *BELOW_FIRE]:
        assert api.get(f"/v2/{segment}/view/{entity_id}").status_code == 404, (segment, entity_id)
    # certificates stay; the other actions' entities stay
    for segment, entity_id in [("certificate", CERT_1), ("certificate", CERT_UNLINKED),
                               ("action", CRANE_MAINTENANCE), ("action-subscription", SUB_CRANE)]:
        assert api.get(f"/v2/{segment}/view/{entity_id}").status_code == 200, (segment, entity_id)
    # small world: 3 actions, 4 entries, 2 sessions, 3 dates, 2 certificates, 1 link, 2 enrollments
    assert api.get("/__mock/health").json()["entities"] == {
        "action": 2, "action-subscription": 1, "action-session": 0, "action-session-date": 0,
        "certificate": 2, "certificate-action": 0, "action-session-subscription": 0,
    }


def test_session_delete_previews_its_dates_and_enrollments(api: httpx.Client) -> None:
    expected = [("action-session-date", DATE_NEXT_1), ("action-session-date", DATE_NEXT_2),
                ("action-session-subscription", ENROLLMENT_2)]
    assert _preview(api.delete(f"/v2/action-session/delete/{SESSION_NEXT}")) == expected


def test_session_force_delete_updates_the_action_counts(api: httpx.Client) -> None:
    # before: SUB_1 valid, SUB_2 scheduled (enrolled in SESSION_NEXT), SUB_3 to do
    counts = view(api, "action", FIRE)
    assert (counts["countValid"], counts["countScheduled"], counts["countToDo"]) == (1, 1, 1)
    assert api.delete(f"/v2/action-session/delete/{SESSION_NEXT}", params={"force": "true"}).status_code == 204
    # SUB_2 lost its enrollment: to do; the entry itself stays
    counts = view(api, "action", FIRE)
    assert (counts["countSubscribed"], counts["countValid"], counts["countScheduled"], counts["countToDo"]) == (3, 1, 0, 2)
    assert api.get(f"/v2/action-subscription/view/{SUB_2}").status_code == 200


def test_subscription_force_delete_removes_its_enrollments(api: httpx.Client) -> None:
    assert _preview(api.delete(f"/v2/action-subscription/delete/{SUB_2}")) == [("action-session-subscription", ENROLLMENT_2)]
    assert api.delete(f"/v2/action-subscription/delete/{SUB_2}", params={"force": "true"}).status_code == 204
    # SESSION_NEXT had only ENROLLMENT_2
    assert view(api, "action-session", SESSION_NEXT)["count_subscribed"] == 0
    assert view(api, "action", FIRE)["countSubscribed"] == 2


def test_certificate_force_delete_clears_enrollments_and_statuses(api: httpx.Client) -> None:
    assert _preview(api.delete(f"/v2/certificate/delete/{CERT_1}")) == [("certificate-action", LINK_1)]
    assert api.delete(f"/v2/certificate/delete/{CERT_1}", params={"force": "true"}).status_code == 204
    enrollment = view(api, "action-session-subscription", ENROLLMENT_1)
    # the enrollment stays, done 1, with certificate_id cleared; SUB_1 has no link left: NEW
    assert (enrollment["certificate_id"], enrollment["done"]) == (None, 1)
    assert view(api, "action-subscription", SUB_1)["status"] == "NEW"
    assert view(api, "action", FIRE)["countValid"] == 0


def test_unlinked_certificate_is_deleted_without_force(api: httpx.Client) -> None:
    assert api.delete(f"/v2/certificate/delete/{CERT_UNLINKED}").status_code == 204
    assert api.get(f"/v2/certificate/view/{CERT_UNLINKED}").status_code == 404


def test_preview_is_valid_json_with_a_message(api: httpx.Client) -> None:
    response = api.delete(f"/v2/action-session/delete/{SESSION_PAST}")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("message"), str)
    assert body["total"] == 2  # DATE_PAST and ENROLLMENT_1
