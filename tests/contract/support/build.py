"""Create scenario entities through the API and record them in the model, one function per kind."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import oracle, rules, spec_view, verify
from .client import ApiClient
from .oracle import (
    ActionModel,
    CertificateModel,
    DateModel,
    EnrollmentModel,
    LinkModel,
    SessionModel,
    SubscriptionModel,
    World,
)
from .resources import id_field
from .scenarios import ActionSpec, CertificateSpec, DateSpec, ForestSpec, Room, Validity
from .target import Target


def room_of(target: Target) -> Room:
    """The scenario bounds of a target, on its today."""
    return Room(
        today=target.today(),
        margin=target.date_margin,
        resource_count=len(target.resources),
        office_count=len(target.subtenant_ids),
        clock_settable=target.can_set_clock,
    )


def _comparable(segment: str, name: str, value: Any) -> Any:
    if isinstance(value, str) and spec_view.is_json_text(segment, name):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, str) and spec_view.sendable_fields(segment).get(name, {}).get("format") == "uuid":
        return value.lower()
    return value


def check_echo(api: ApiClient, segment: str, entity: Mapping[str, Any]) -> None:
    """The created entity answers every stored field as it was sent."""
    sent = api.recent[-1].request_json() or {}
    stored = {k: v for k, v in sent.items() if k in spec_view.sendable_fields(segment)}
    answered = {k: _comparable(segment, k, entity.get(k)) for k in stored}
    expected = {k: _comparable(segment, k, v) for k, v in stored.items()}
    rules.created_entity_echoes_sent_fields(answered, expected, [api.recent[-1]])


def _created(api: ApiClient, segment: str, body: Mapping[str, Any]) -> dict[str, Any]:
    entity = api.create_ok(segment, body)
    check_echo(api, segment, entity)
    return entity


def answer_matches_model(api: ApiClient, target: Target, world: World, segment: str, entity: Mapping[str, Any]) -> None:
    """The derived fields of a write's answer (the last exchange) against the model, once the
    model has taken the write."""
    verify.derived_fields_match_model(world, segment, entity, [api.recent[-1]], oracle.uncertain(world, target.date_margin))


def _id(segment: str, entity: Mapping[str, Any]) -> str:
    return str(entity[id_field(segment)]).lower()


def _validity_fields(validity: Validity | None) -> dict[str, Any]:
    return {"validity": validity.amount, "validity_unit": validity.unit} if validity else {}


def create_action(api: ApiClient, target: Target, world: World, spec: ActionSpec) -> str:
    office = target.subtenant_ids[spec.office % len(target.subtenant_ids)]
    body: dict[str, Any] = {
        "action_type": spec.action_type,
        "name": spec.label,
        "subtenant_id": office,
        "tenant_id": target.tenant_id,
        **_validity_fields(spec.validity),
    }
    if spec.code is not None:
        body["code"] = spec.code
    if spec.expire_interval is not None:
        body["expire_interval"] = spec.expire_interval
    entity = _created(api, "action", body)
    action_id = _id("action", entity)
    world.actions[action_id] = ActionModel(
        id=action_id,
        action_type=spec.action_type,
        name=entity["name"],
        code=spec.code,
        validity=spec.validity.amount if spec.validity else None,
        validity_unit=spec.validity.unit if spec.validity else None,
        expire_interval=spec.expire_interval,
        subtenant_id=office,
        tenant_id=target.tenant_id,
    )
    # reference data: the name is the directory's, used only to predict the order of a sort by it
    world.office_names.setdefault(office, entity.get("office_name"))
    answer_matches_model(api, target, world, "action", entity)
    return action_id


def office_of(world: World, action_id: str) -> str:
    """Children of an action are created in the action's office."""
    return world.actions[action_id].subtenant_id


def subscription_body(target: Target, action_id: str, resource_index: int, office: str | None = None) -> dict[str, Any]:
    resource = target.resources[resource_index]
    return {
        "action_id": action_id,
        "subscriber_id": resource.resource_id,
        "subscriber_type": resource.resource_type,
        "subtenant_id": office or target.subtenant_id,
        "tenant_id": target.tenant_id,
    }


def create_subscription(api: ApiClient, target: Target, world: World, action_id: str, resource_index: int) -> str:
    body = subscription_body(target, action_id, resource_index, office_of(world, action_id))
    entity = _created(api, "action-subscription", body)
    subscription_id = _id("action-subscription", entity)
    world.subscriptions[subscription_id] = SubscriptionModel(
        subscription_id, action_id, body["subscriber_id"], body["subscriber_type"], body["subtenant_id"], body["tenant_id"]
    )
    answer_matches_model(api, target, world, "action-subscription", entity)
    return subscription_id


def create_session(api: ApiClient, target: Target, world: World, action_id: str) -> str:
    body = {"action_id": action_id, "subtenant_id": office_of(world, action_id), "tenant_id": target.tenant_id}
    entity = _created(api, "action-session", body)
    session_id = _id("action-session", entity)
    world.sessions[session_id] = SessionModel(session_id, action_id)
    answer_matches_model(api, target, world, "action-session", entity)
    return session_id


def create_date(api: ApiClient, target: Target, world: World, session_id: str, spec: DateSpec) -> str:
    begin, end = spec.texts()
    body = {
        "action_session_id": session_id,
        "date_begin": begin,
        "date_end": end,
        "subtenant_id": office_of(world, world.sessions[session_id].action_id),
        "tenant_id": target.tenant_id,
    }
    entity = _created(api, "action-session-date", body)
    date_id = _id("action-session-date", entity)
    world.dates[date_id] = DateModel(date_id, session_id, begin, end, body["subtenant_id"], body["tenant_id"])
    answer_matches_model(api, target, world, "action-session-date", entity)
    return date_id


def enrollment_body(
    target: Target, session_id: str, subscription_id: str, done: int, certificate_id: str | None, office: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action_session_id": session_id,
        "action_subscription_id": subscription_id,
        "done": done,
        "subtenant_id": office or target.subtenant_id,
        "tenant_id": target.tenant_id,
    }
    if certificate_id is not None:
        body["certificate_id"] = certificate_id
    return body


def create_enrollment(
    api: ApiClient, target: Target, world: World, session_id: str, subscription_id: str, done: int, certificate_id: str | None = None
) -> str:
    office = office_of(world, world.sessions[session_id].action_id)
    entity = _created(api, "action-session-subscription", enrollment_body(target, session_id, subscription_id, done, certificate_id, office))
    enrollment_id = _id("action-session-subscription", entity)
    world.enrollments[enrollment_id] = EnrollmentModel(enrollment_id, session_id, subscription_id, done, certificate_id)
    answer_matches_model(api, target, world, "action-session-subscription", entity)
    return enrollment_id


def create_certificate(api: ApiClient, target: Target, world: World, spec: CertificateSpec, action_type: str) -> str:
    resource = target.resources[spec.resource]
    body: dict[str, Any] = {
        "name": spec.label,
        "date_release": spec.date_release.isoformat(),
        "action_type": action_type,
        "resource_id": resource.resource_id,
        "tenant_id": target.tenant_id,
        **_validity_fields(spec.validity),
    }
    if spec.date_expire is not None:
        body["date_expire"] = spec.date_expire.isoformat()
    entity = api.create_ok("certificate", body)
    # date_expire is computed when not given: only the given one must come back as sent
    check_echo(api, "certificate", entity)
    certificate_id = _id("certificate", entity)
    world.certificates[certificate_id] = CertificateModel(
        id=certificate_id,
        name=entity["name"],
        resource_id=resource.resource_id,
        action_type=action_type,
        date_release=spec.date_release,
        date_expire=spec.date_expire,
        validity=spec.validity.amount if spec.validity else None,
        validity_unit=spec.validity.unit if spec.validity else None,
        tenant_id=target.tenant_id,
    )
    answer_matches_model(api, target, world, "certificate", entity)
    return certificate_id


def link_body(target: Target, certificate_id: str, action_id: str, date_expire: dt.date | None) -> dict[str, Any]:
    body: dict[str, Any] = {"certificate_id": certificate_id, "action_id": action_id, "tenant_id": target.tenant_id}
    if date_expire is not None:
        body["date_expire"] = date_expire.isoformat()
    return body


def create_link(api: ApiClient, target: Target, world: World, certificate_id: str, action_id: str, date_expire: dt.date | None) -> str:
    entity = api.create_ok("certificate-action", link_body(target, certificate_id, action_id, date_expire))
    link_id = _id("certificate-action", entity)
    world.links[link_id] = LinkModel(link_id, certificate_id, action_id, date_expire, world.next_seq())
    answer_matches_model(api, target, world, "certificate-action", entity)
    return link_id


@dataclass
class BuiltTree:
    action_id: str
    subscription_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    date_ids: list[str] = field(default_factory=list)
    enrollment_ids: list[str] = field(default_factory=list)


@dataclass
class BuiltForest:
    world: World
    trees: list[BuiltTree]
    certificate_ids: list[str]
    link_ids: list[str]


def build_forest(api: ApiClient, target: Target, forest: ForestSpec, today: dt.date) -> BuiltForest:
    """Create every entity of the scenario, parents first, and the model that mirrors them."""
    world = World(today=today)
    built_trees: list[BuiltTree] = []
    for tree in forest.trees:
        built = BuiltTree(create_action(api, target, world, tree.action))
        built.subscription_ids = [create_subscription(api, target, world, built.action_id, r) for r in tree.subscribers]
        for session in tree.sessions:
            session_id = create_session(api, target, world, built.action_id)
            built.session_ids.append(session_id)
            built.date_ids += [create_date(api, target, world, session_id, d) for d in session.dates]
        built_trees.append(built)
    certificate_ids = []
    for spec in forest.certificates:
        linked_tree = next((link.tree for link in forest.links if link.certificate == len(certificate_ids)), 0)
        certificate_ids.append(create_certificate(api, target, world, spec, forest.trees[linked_tree].action.action_type))
    link_ids = [
        create_link(api, target, world, certificate_ids[link.certificate], built_trees[link.tree].action_id, link.date_expire)
        for link in forest.links
    ]
    for tree, built in zip(forest.trees, built_trees):
        for enrollment in tree.enrollments:
            certificate_id = certificate_ids[enrollment.certificate] if enrollment.certificate is not None else None
            built.enrollment_ids.append(
                create_enrollment(
                    api, target, world, built.session_ids[enrollment.session], built.subscription_ids[enrollment.subscription], enrollment.done, certificate_id
                )
            )
    return BuiltForest(world, built_trees, certificate_ids, link_ids)
