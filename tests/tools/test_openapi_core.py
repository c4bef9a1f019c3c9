"""openapi-core (stock, with only a JSON reader for `application/problem+json`) judges real
exchanges with the mock: every resource's view, index, create, update and delete, and the
answers 400, 401, 404, 422 and the delete preview. The mock's whole HTTP test suite runs under
the same judge in every run (tests/mock/openapi_core_check.py; `--no-openapi-core` turns it off)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockhttp import RunningMock
from openapi_core_check import violations

pytestmark = pytest.mark.http

FIRE = "c4d5e6f7-a8b9-0c1d-2e3f-4a5b6c7d8e9f"  # the seed's FST-01 (README, fixed ids)
SESSION_DATE = "c2d3e4f5-a6b7-8901-cdef-123456789012"
MISSING = "00000000-0000-4000-8000-000000000000"
SEGMENTS = ("action", "action-session", "action-session-date", "certificate", "action-subscription",
            "action-session-subscription", "certificate-action")


def exchanges(client: httpx.Client, anonymous: httpx.Client) -> list[httpx.Response]:
    answers = []
    for segment in SEGMENTS:
        page = client.post(f"/v2/{segment}/index", json={"per-page": 2})
        answers.append(page)
        first = page.json()[0]
        entity_id = first[segment.replace("-", "_") + "_id"]
        answers += [
            client.get(f"/v2/{segment}/view/{entity_id}"),
            client.get(f"/v2/{segment}/view/{MISSING}"),  # 404
            client.get(f"/v2/{segment}/view/nope"),  # 400
            client.delete(f"/v2/{segment}/delete/nope"),  # 400 of a delete
            anonymous.get(f"/v2/{segment}/view/{entity_id}"),  # 401
            client.put(f"/v2/{segment}/update/{entity_id}", json={}),  # 200
            client.post(f"/v2/{segment}/index", json={"filter": {"colour": "blue"}}),  # 400
        ]
    answers += [
        client.delete(f"/v2/action/delete/{FIRE}"),  # the preview
        client.post("/v2/action-session-date/create", json={  # 422: a missing session
            "action_session_id": MISSING, "date_begin": "2024-03-15T09:00:00", "date_end": "2024-03-15T17:00:00",
            "subtenant_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "tenant_id": "b5a7d602-3fc9-4e2a-9d1a-6e5b4c8f7a01",
        }),
        client.put(f"/v2/action-session-date/update/{SESSION_DATE}", json={"date_end": "2024-03-15T18:00:00+01:00"}),
        client.post("/v2/action-session-date/index", json={"filter": {"manager": "abc"}}),
        client.delete(f"/v2/action-session-date/delete/{SESSION_DATE}"),  # 204
    ]
    return answers


def test_openapi_core_accepts_every_exchange(seeded_mock: RunningMock) -> None:
    with seeded_mock.client() as client, seeded_mock.client(token=None) as anonymous:
        answers = exchanges(client, anonymous)
        client.post("/__mock/reset")
    statuses = {response.status_code for response in answers}
    assert {200, 204, 400, 401, 404, 422} <= statuses, statuses
    assert any(r.status_code == 400 and "entities" in r.json() for r in answers), "no preview was judged"
    problems = [problem for response in answers for problem in violations(response)]
    assert not problems, "\n".join(problems)


def _answer(method: str, path: str, status: int, body: Any, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request(method, f"http://127.0.0.1:1{path}", headers={"Authorization": "Bearer t"})
    return httpx.Response(status, json=body, headers={"content-type": content_type}, request=request)


def test_openapi_core_flags_an_answer_that_breaks_the_spec() -> None:
    """The judge is not blind: a date-time that is no calendar date, and a problem of a delete
    under a media type the delete does not document, are both reported."""
    date = {"action_session_date_id": SESSION_DATE, "action_session_id": SESSION_DATE,
            "date_begin": "2024-02-30T09:00:00", "date_end": "2024-03-15T17:00:00",
            "subtenant_id": SESSION_DATE, "tenant_id": SESSION_DATE}
    assert violations(_answer("GET", f"/v2/action-session-date/view/{SESSION_DATE}", 200, date))
    problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "x", "field": "id"}
    assert violations(_answer("DELETE", "/v2/action/delete/nope", 400, problem, "application/problem+json"))
    assert not violations(_answer("DELETE", "/v2/action/delete/nope", 400, problem))
    date["date_begin"] = "2024-03-15T09:00:00"  # a local time, as the reference's examples are
    assert not violations(_answer("GET", f"/v2/action-session-date/view/{SESSION_DATE}", 200, date))
