"""Integers and derived dates at the limits, over HTTP (a real server on loopback).

Each test is a defect once found: a value the API accepted made a computed date leave the
calendar, the answer was a 500 after the value was stored, and from then on every read that
computed that date failed. Now such a value is refused (400 by the spec's bounds, 422 when only
the derived date leaves the calendar) and the state stays readable. The expectations come from
docs/DECISIONS.md ("Integers and the calendar"), not from the mock.
"""

from __future__ import annotations

import httpx
import pytest

from mockhttp import create, view
from mockworld import CERT_1, FIRE, LINK_1, P_ACME, PERSON_4, SUB_1

INT_MAX = 2**31 - 1
# What a poisoned state broke: every read that computes a certificate's or a link's expiry.
READS = ("action", "certificate", "action-subscription", "certificate-action")


def export(api: httpx.Client) -> dict:
    response = api.get("/__mock/state")
    assert response.status_code == 200, response.text
    return response.json()


def assert_readable(api: httpx.Client) -> None:
    for segment in READS:
        response = api.post(f"/v2/{segment}/index", json={})
        assert response.status_code == 200, f"{segment}/index: {response.status_code} {response.text[:300]}"
    assert api.get(f"/v2/action/view/{FIRE}").status_code == 200


def assert_refused(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    fields = [body["field"]] if status == 400 else [v["field"] for v in body]
    assert field in fields, body


def test_action_validity_that_puts_an_inherited_expiry_past_9999_is_422_and_changes_nothing(api: httpx.Client) -> None:
    # CERT_1 (released 2025-01-10, no validity of its own) inherits FIRE's validity.
    assert view(api, "certificate", CERT_1)["validity"] is None
    before = export(api)
    response = api.put(f"/v2/action/update/{FIRE}", json={"validity": 7975})  # 2025 + 7975 years
    assert_refused(response, 422, "validity")
    assert export(api) == before
    assert_readable(api)
    # The largest validity that still fits is stored and served.
    accepted = api.put(f"/v2/action/update/{FIRE}", json={"validity": 9999 - 2025})
    assert accepted.status_code == 200, accepted.text
    assert view(api, "certificate", CERT_1)["date_expire"] == "9999-01-10"
    assert_readable(api)


@pytest.mark.parametrize("validity", [2**31, -3_000_000, 10**20, -1])
def test_action_validity_outside_the_int_column_is_400(api: httpx.Client, validity: int) -> None:
    before = export(api)
    assert_refused(api.put(f"/v2/action/update/{FIRE}", json={"validity": validity}), 400, "validity")
    assert export(api) == before
    assert_readable(api)


def test_an_action_validity_nothing_inherits_is_stored_but_linking_an_inheriting_certificate_is_422(
    api: httpx.Client,
) -> None:
    action = create(api, "action", {
        "action_type": "TRAINING", "name": "Far validity", "validity": INT_MAX, "validity_unit": "YEAR",
        "tenant_id": P_ACME, "subtenant_id": view(api, "action", FIRE)["subtenant_id"],
    })
    assert action["validity"] == INT_MAX
    before = export(api)
    link = api.post("/v2/certificate-action/create", json={"certificate_id": CERT_1, "action_id": action["action_id"]})
    assert_refused(link, 422, "action_id")
    assert export(api) == before
    assert_readable(api)


def test_certificate_own_validity_past_the_calendar_is_422_and_changes_nothing(api: httpx.Client) -> None:
    before = export(api)
    response = api.put(f"/v2/certificate/update/{CERT_1}",
                       json={"date_expire": None, "validity": 3_000_000, "validity_unit": "DAY"})
    assert_refused(response, 422, "validity")
    assert export(api) == before
    assert_readable(api)


def test_certificate_released_in_9999_cannot_be_linked_to_an_action_it_would_inherit_from(api: httpx.Client) -> None:
    certificate = create(api, "certificate", {
        "name": "Late", "date_release": "9999-01-01", "action_type": "TRAINING",
        "resource_id": PERSON_4, "tenant_id": P_ACME,
    })
    assert certificate["date_expire"] is None  # nothing to inherit from yet
    before = export(api)
    link = api.post("/v2/certificate-action/create",
                    json={"certificate_id": certificate["certificate_id"], "action_id": FIRE})
    assert_refused(link, 422, "action_id")
    assert export(api) == before
    assert_readable(api)


def test_moving_a_linked_certificate_release_so_its_inherited_expiry_leaves_the_calendar_is_422(
    api: httpx.Client,
) -> None:
    before = export(api)
    response = api.put(f"/v2/certificate/update/{CERT_1}", json={"date_release": "9998-06-01"})  # + 5 years
    assert_refused(response, 422, "date_release")
    assert export(api) == before
    assert_readable(api)


def test_a_link_that_stops_being_first_keeps_every_expiry_computable(api: httpx.Client) -> None:
    """Every action a certificate is linked to must give it a computable expiry, not only the
    first: deleting the first link hands the certificate to the next one's action."""
    far = create(api, "action", {
        "action_type": "TRAINING", "name": "Far", "validity": 7975, "validity_unit": "YEAR",
        "tenant_id": P_ACME, "subtenant_id": view(api, "action", FIRE)["subtenant_id"],
    })
    second = api.post("/v2/certificate-action/create", json={"certificate_id": CERT_1, "action_id": far["action_id"]})
    assert_refused(second, 422, "action_id")  # 2025 + 7975 years
    deleted = api.delete(f"/v2/certificate-action/delete/{LINK_1}")
    assert deleted.status_code == 204, deleted.text
    assert_readable(api)


@pytest.mark.parametrize("interval", [2**31, -3_000_000, -1])
def test_expire_interval_outside_the_int_column_is_400(api: httpx.Client, interval: int) -> None:
    before = export(api)
    assert_refused(api.put(f"/v2/action/update/{FIRE}", json={"expire_interval": interval}), 400, "expire_interval")
    assert export(api) == before
    assert_readable(api)


def test_the_largest_expire_interval_makes_every_unexpired_entry_expiring(api: httpx.Client) -> None:
    assert view(api, "action-subscription", SUB_1)["status"] == "VALID"
    response = api.put(f"/v2/action/update/{FIRE}", json={"expire_interval": INT_MAX})
    assert response.status_code == 200, response.text
    # today + INT_MAX days is past the calendar: every expiry from today on is within it.
    assert view(api, "action-subscription", SUB_1)["status"] == "EXPIRING"
    assert_readable(api)
    found = api.post("/v2/action-subscription/index", json={"filter": {"status": "EXPIRING"}})
    assert found.status_code == 200 and SUB_1 in {s["action_subscription_id"] for s in found.json()}
