"""Ready-made entities for rule tests: one of each kind, and valid create bodies with fresh parents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import build
from .client import ApiClient
from .oracle import World
from .scenarios import ActionSpec, CertificateSpec, DateSpec, Validity
from .target import Target

SAMPLE_ACTION = ActionSpec(action_type="TRAINING", label="sample", code="smp", validity=Validity(1, "YEAR"), expire_interval=30)


def sample_certificate(today: dt.date, resource: int = 0) -> CertificateSpec:
    return CertificateSpec(resource=resource, label="sample", date_release=today - dt.timedelta(days=100), date_expire=None, validity=None)


def sample_date(today: dt.date) -> DateSpec:
    start = dt.datetime.combine(today + dt.timedelta(days=10), dt.time(9, 0))
    return DateSpec(start, start + dt.timedelta(hours=8))


def one_of_each(api: ApiClient, target: Target, world: World) -> dict[str, str]:
    """An action with a subscription, a session with a date and an enrollment, a linked certificate."""
    ids: dict[str, str] = {}
    ids["action"] = build.create_action(api, target, world, SAMPLE_ACTION)
    ids["action-subscription"] = build.create_subscription(api, target, world, ids["action"], 0)
    ids["action-session"] = build.create_session(api, target, world, ids["action"])
    ids["action-session-date"] = build.create_date(api, target, world, ids["action-session"], sample_date(world.today))
    ids["certificate"] = build.create_certificate(api, target, world, sample_certificate(world.today), "TRAINING")
    ids["certificate-action"] = build.create_link(api, target, world, ids["certificate"], ids["action"], None)
    ids["action-session-subscription"] = build.create_enrollment(
        api, target, world, ids["action-session"], ids["action-subscription"], -1, ids["certificate"]
    )
    return ids


def fresh_create_body(api: ApiClient, target: Target, world: World, segment: str) -> dict[str, Any]:
    """A valid create body for one more entity of the kind; parents are created for it, so no
    uniqueness rule (one subscription per resource and action, one link per certificate and
    action, one enrollment per entry and session) can refuse it."""
    if segment == "action":
        return {"action_type": "TRAINING", "name": "fresh", "subtenant_id": target.subtenant_id, "tenant_id": target.tenant_id}
    if segment == "certificate":
        return {
            "name": "fresh",
            "date_release": world.today.isoformat(),
            # given, so that it stays whatever validity an update sets
            "date_expire": (world.today + dt.timedelta(days=400)).isoformat(),
            "action_type": "TRAINING",
            "resource_id": target.resources[0].resource_id,
            "tenant_id": target.tenant_id,
        }
    action_id = build.create_action(api, target, world, SAMPLE_ACTION)
    if segment == "action-session":
        return {"action_id": action_id, "subtenant_id": target.subtenant_id, "tenant_id": target.tenant_id}
    if segment == "action-subscription":
        return build.subscription_body(target, action_id, 0)
    if segment == "certificate-action":
        certificate_id = build.create_certificate(api, target, world, sample_certificate(world.today), "TRAINING")
        return build.link_body(target, certificate_id, action_id, None)
    session_id = build.create_session(api, target, world, action_id)
    if segment == "action-session-date":
        begin, end = sample_date(world.today).texts()
        return {"action_session_id": session_id, "date_begin": begin, "date_end": end, "subtenant_id": target.subtenant_id, "tenant_id": target.tenant_id}
    subscription_id = build.create_subscription(api, target, world, action_id, 0)
    return build.enrollment_body(target, session_id, subscription_id, -1, None)
