"""Compare everything the target answers about a run's entities with what the model predicts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import oracle, rules
from .client import ApiClient
from .exchange import Exchange
from .oracle import World


def _by_id(items: list[dict[str, Any]], id_field: str) -> dict[str, dict[str, Any]]:
    return {str(item[id_field]).lower(): item for item in items}


def _children_of(api: ApiClient, segment: str, id_field: str, filter_: dict[str, Any], expected_ids: list[str]) -> tuple[dict[str, dict[str, Any]], list[Exchange]]:
    items, exchanges = api.index_all(segment, filter_)
    found = _by_id(items, id_field)
    rules.filter_matches_exactly(found, expected_ids, filter_, exchanges)
    return found, exchanges


def verify_action_tree(api: ApiClient, world: World, action_id: str, unsure: oracle.Uncertain) -> None:
    action_answer = api.view("action", action_id)
    rules.success_status(action_answer.exchange, 200)
    action = action_answer.body
    rules.counts_add_up(action, [action_answer.exchange])
    if action_id not in unsure.actions:
        rules.action_counts_match_model(action, oracle.action_counts(world, action_id), [action_answer.exchange])
    parent = oracle.action_parent_fields(world, action_id)

    expected_sessions = [s.id for s in world.sessions.values() if s.action_id == action_id]
    sessions, exchanges = _children_of(api, "action-session", "action_session_id", {"action_id": action_id}, expected_sessions)
    for session_id, session in sessions.items():
        rules.session_counts_match_enrollments(session, exchanges)
        predicted = oracle.predicted_session(world, session_id)
        counts = {k: v for k, v in predicted.items() if k.startswith("count_")}
        rules.session_counts_match_model(session, counts, exchanges)
        rules.session_dates_span_its_dates(session, {"date_begin": predicted["date_begin"], "date_end": predicted["date_end"]}, exchanges)
        rules.parent_fields_copied(session, parent, f"session {session_id}", exchanges)

    expected_subscriptions = [s.id for s in world.subscriptions.values() if s.action_id == action_id]
    subscriptions, exchanges = _children_of(api, "action-subscription", "action_subscription_id", {"action_id": action_id}, expected_subscriptions)
    for subscription_id, subscription in subscriptions.items():
        if subscription_id not in unsure.subscriptions:
            rules.subscription_status_matches_certificates(subscription, oracle.subscription_status(world, subscription_id), exchanges)
        rules.parent_fields_copied(subscription, parent, f"subscription {subscription_id}", exchanges)

    expected_links = [link.id for link in world.links.values() if link.action_id == action_id]
    links, exchanges = _children_of(api, "certificate-action", "certificate_action_id", {"action_id": action_id}, expected_links)
    for link_id, link in links.items():
        rules.link_expiry_inherited(link, oracle.predicted_link(world, link_id), exchanges)


def verify_dates(api: ApiClient, world: World, session_id: str) -> None:
    expected = [d.id for d in world.dates.values() if d.session_id == session_id]
    dates, exchanges = _children_of(api, "action-session-date", "action_session_date_id", {"action_session_id": session_id}, expected)
    action_id = world.sessions[session_id].action_id
    parent = {"action_id": action_id, **oracle.action_parent_fields(world, action_id)}
    for date_id, date in dates.items():
        rules.parent_fields_copied(date, parent, f"session date {date_id}", exchanges)


def verify_enrollments(api: ApiClient, world: World, session_id: str) -> None:
    expected = [e.id for e in world.enrollments.values() if e.session_id == session_id]
    found, exchanges = _children_of(api, "action-session-subscription", "action_session_subscription_id", {"action_session_id": session_id}, expected)
    for enrollment_id, enrollment in found.items():
        model = world.enrollments[enrollment_id]
        stored = {"done": model.done, "certificate_id": model.certificate_id}
        answered = {"done": enrollment.get("done"), "certificate_id": (enrollment.get("certificate_id") or None) and str(enrollment["certificate_id"]).lower()}
        if model.certificate_id is None and answered["certificate_id"] is not None:
            rules.enrollment_certificate_cleared(enrollment, exchanges[-1])
        rules.partial_update_keeps_unsent_fields(answered, stored, exchanges)


def verify_certificates(api: ApiClient, world: World, marker: str) -> None:
    filter_ = {"name": marker}
    items, exchanges = api.index_all("certificate", filter_)
    found = _by_id(items, "certificate_id")
    rules.filter_matches_exactly(found, list(world.certificates), filter_, exchanges)
    for certificate_id, certificate in found.items():
        predicted = oracle.predicted_certificate(world, certificate_id)
        rules.certificate_expiry_derivation(certificate, {"date_expire": predicted["date_expire"]}, exchanges)
        subtenant = certificate.get("subtenant_id")
        answered = {"subtenant_id": str(subtenant).lower() if subtenant else None}
        rules.certificate_office_from_first_link(answered, {"subtenant_id": predicted["subtenant_id"]}, exchanges)


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
