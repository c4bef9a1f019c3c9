"""Apply a scenario step to the target and to the model alike.

Picks are resolved modulo what exists when the step runs; a step with nothing to act on does
nothing. A step that the rules forbid (a duplicate enrollment, subscription or link) is sent
anyway and must be refused with 422, leaving the model unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import build, oracle, rules
from .client import ApiClient
from .oracle import CertificateModel, LinkModel, World
from .scenarios import (
    AddDate,
    CertifyEntry,
    CertificateSpec,
    EditActionValidity,
    EditCertificateValidity,
    EnrollEntryAgain,
    MoveActionOffice,
    MoveDateToSession,
    MoveEnrollment,
    MoveEntry,
    MoveLink,
    MoveLinkToCertificate,
    MoveSession,
    ReassignCertificate,
    RenameAction,
    RenameCertificate,
    SetCertificateExpiry,
    SetCertificateRelease,
    SetPeople,
    ValidityEdit,
    AddSession,
    AdvanceClock,
    DeleteCertificate,
    DescribeAction,
    Enroll,
    IssueCertificate,
    LinkCertificate,
    MoveDate,
    MoveSubscription,
    RecordOutcome,
    RemoveDate,
    SetActionValidity,
    SetCertificateValidity,
    SetExpireInterval,
    SetLinkExpiry,
    SetSessionValidity,
    Step,
    Subscribe,
    Unenroll,
    Unlink,
    Unsubscribe,
)
from .target import Target

T = TypeVar("T")


def pick(items: Sequence[T], index: int) -> T | None:
    return items[index % len(items)] if items else None


@dataclass
class StepContext:
    api: ApiClient
    target: Target
    world: World


def _deleted(context: StepContext, segment: str, entity_id: str, *, force: bool) -> None:
    answer = context.api.delete(segment, entity_id, force=force)
    rules.success_status(answer.exchange, 204)
    removed = oracle.remove(context.world, segment, entity_id)
    still_there = [key for key in removed if context.api.view_or_none(*key) is not None]
    rules.force_delete_removes_listed(still_there, [answer.exchange])
    context.api.forget(removed)


def _updated(context: StepContext, segment: str, entity_id: str, body: dict[str, object], take: Callable[[], None]) -> dict[str, object]:
    """Send the update, let the model `take` it, and compare the answer's derived fields."""
    answered = context.api.update_ok(segment, entity_id, body)
    take()
    build.answer_matches_model(context.api, context.target, context.world, segment, answered)
    return answered


def enroll(context: StepContext, step: Enroll) -> None:
    world, target = context.world, context.target
    session = pick(list(world.sessions.values()), step.session_pick)
    subscription = pick(list(world.subscriptions.values()), step.subscription_pick)
    if session is None or subscription is None:
        return
    taken = any(e.session_id == session.id and e.subscription_id == subscription.id for e in world.enrollments.values())
    if taken or session.action_id != subscription.action_id:
        answer = context.api.create("action-session-subscription", build.enrollment_body(target, session.id, subscription.id, step.done, None))
        rules.duplicate_is_422(answer.exchange, ("action_subscription_id", "action_session_id"))
        return
    build.create_enrollment(context.api, target, world, session.id, subscription.id, step.done)


def unenroll(context: StepContext, step: Unenroll) -> None:
    enrollment = pick(list(context.world.enrollments.values()), step.enrollment_pick)
    if enrollment is not None:
        _deleted(context, "action-session-subscription", enrollment.id, force=False)


def record_outcome(context: StepContext, step: RecordOutcome) -> None:
    enrollment = pick(list(context.world.enrollments.values()), step.enrollment_pick)
    if enrollment is None:
        return
    answered = _updated(context, "action-session-subscription", enrollment.id, {"done": step.done}, lambda: setattr(enrollment, "done", step.done))
    rules.partial_update_keeps_unsent_fields({"done": answered.get("done")}, {"done": step.done}, [context.api.recent[-1]])


def add_date(context: StepContext, step: AddDate) -> None:
    session = pick(list(context.world.sessions.values()), step.session_pick)
    if session is not None:
        build.create_date(context.api, context.target, context.world, session.id, step.date)


def remove_date(context: StepContext, step: RemoveDate) -> None:
    date = pick(list(context.world.dates.values()), step.date_pick)
    if date is not None:
        _deleted(context, "action-session-date", date.id, force=False)


def add_session(context: StepContext, step: AddSession) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is not None:
        build.create_session(context.api, context.target, context.world, action.id)


def subscribe(context: StepContext, step: Subscribe) -> None:
    world, target = context.world, context.target
    action = pick(list(world.actions.values()), step.tree_pick)
    if action is None:
        return
    resource_pick = step.resource_pick % len(target.resources)
    resource_id = target.resources[resource_pick].resource_id
    if any(s.action_id == action.id and s.subscriber_id == resource_id for s in world.subscriptions.values()):
        answer = context.api.create("action-subscription", build.subscription_body(target, action.id, resource_pick))
        rules.duplicate_is_422(answer.exchange, ("subscriber_id", "action_id"))
        return
    build.create_subscription(context.api, target, world, action.id, resource_pick)


def unsubscribe(context: StepContext, step: Unsubscribe) -> None:
    subscription = pick(list(context.world.subscriptions.values()), step.subscription_pick)
    if subscription is not None:
        _deleted(context, "action-subscription", subscription.id, force=True)


def issue_certificate(context: StepContext, step: IssueCertificate) -> None:
    world = context.world
    action = pick(list(world.actions.values()), step.link_to_tree) if step.link_to_tree is not None else None
    action_type = action.action_type if action else "TRAINING"
    certificate_id = build.create_certificate(context.api, context.target, world, step.certificate, action_type)
    if action is not None:
        build.create_link(context.api, context.target, world, certificate_id, action.id, step.link_expiry)


def link_certificate(context: StepContext, step: LinkCertificate) -> None:
    world, target = context.world, context.target
    certificate = pick(list(world.certificates.values()), step.certificate_pick)
    action = pick(list(world.actions.values()), step.tree_pick)
    if certificate is None or action is None:
        return
    expiry = max(step.date_expire, certificate.date_release) if step.date_expire else None
    if any(link.certificate_id == certificate.id and link.action_id == action.id for link in world.links.values()):
        answer = context.api.create("certificate-action", build.link_body(target, certificate.id, action.id, expiry))
        rules.duplicate_is_422(answer.exchange, ("certificate_id", "action_id"))
        return
    build.create_link(context.api, target, world, certificate.id, action.id, expiry)


def set_link_expiry(context: StepContext, step: SetLinkExpiry) -> None:
    link = pick(list(context.world.links.values()), step.link_pick)
    if link is None:
        return
    expiry = max(step.date_expire, context.world.certificates[link.certificate_id].date_release)
    _updated(context, "certificate-action", link.id, {"date_expire": expiry.isoformat()}, lambda: setattr(link, "date_expire", expiry))


def unlink(context: StepContext, step: Unlink) -> None:
    link = pick(list(context.world.links.values()), step.link_pick)
    if link is not None:
        _deleted(context, "certificate-action", link.id, force=False)


def delete_certificate(context: StepContext, step: DeleteCertificate) -> None:
    certificate = pick(list(context.world.certificates.values()), step.certificate_pick)
    if certificate is not None:
        _deleted(context, "certificate", certificate.id, force=True)


def set_expire_interval(context: StepContext, step: SetExpireInterval) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is not None:
        _updated(context, "action", action.id, {"expire_interval": step.expire_interval}, lambda: setattr(action, "expire_interval", step.expire_interval))


def set_action_validity(context: StepContext, step: SetActionValidity) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is not None:
        def take() -> None:
            action.validity, action.validity_unit = step.validity.amount, step.validity.unit

        _updated(context, "action", action.id, {"validity": step.validity.amount, "validity_unit": step.validity.unit}, take)


def describe_action(context: StepContext, step: DescribeAction) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is not None:
        _updated(context, "action", action.id, {"description": step.description}, lambda: None)


def move_subscription(context: StepContext, step: MoveSubscription) -> None:
    world, resources = context.world, context.target.resources
    subscription = pick(list(world.subscriptions.values()), step.subscription_pick)
    if subscription is None:
        return
    # a resource subscribed to the action by another entry would be a duplicate (422): never picked
    taken = {s.subscriber_id for s in world.subscriptions.values() if s.action_id == subscription.action_id and s.id != subscription.id}
    resource = pick([r for r in resources if r.resource_id not in taken], step.resource_pick)
    assert resource is not None  # the entry's own resource is never taken

    def take() -> None:
        subscription.subscriber_id, subscription.subscriber_type = resource.resource_id, resource.resource_type

    body = {"subscriber_id": resource.resource_id, "subscriber_type": resource.resource_type}
    _updated(context, "action-subscription", subscription.id, body, take)


def set_session_validity(context: StepContext, step: SetSessionValidity) -> None:
    session = pick(list(context.world.sessions.values()), step.session_pick)
    if session is not None:
        body = {"validity": step.validity.amount, "validity_unit": step.validity.unit}
        _updated(context, "action-session", session.id, body, lambda: None)


def move_date(context: StepContext, step: MoveDate) -> None:
    date = pick(list(context.world.dates.values()), step.date_pick)
    if date is None:
        return
    begin, end = step.date.texts()

    def take() -> None:
        date.date_begin, date.date_end = begin, end

    _updated(context, "action-session-date", date.id, {"date_begin": begin, "date_end": end}, take)


def set_certificate_validity(context: StepContext, step: SetCertificateValidity) -> None:
    certificate = pick(list(context.world.certificates.values()), step.certificate_pick)
    if certificate is None:
        return

    def take() -> None:
        certificate.validity, certificate.validity_unit = step.validity.amount, step.validity.unit

    _updated(context, "certificate", certificate.id, {"validity": step.validity.amount, "validity_unit": step.validity.unit}, take)


def advance_clock(context: StepContext, step: AdvanceClock) -> None:
    day = context.world.today + dt.timedelta(days=step.days)
    context.target.set_today(day)
    context.world.today = day


# ---------------------------------------------------------------- changes of one input of derived values


def rename_action(context: StepContext, step: RenameAction) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is None:
        return
    body = {**context.api.marked("action", {"name": step.label}), "code": step.code}

    def take() -> None:
        action.name, action.code = str(body["name"]), step.code

    _updated(context, "action", action.id, body, take)


def move_action_office(context: StepContext, step: MoveActionOffice) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    office = pick(context.target.subtenant_ids, step.office_pick)
    if action is None or office is None:
        return
    answered = _updated(context, "action", action.id, {"subtenant_id": office}, lambda: setattr(action, "subtenant_id", office))
    context.world.office_names.setdefault(office, answered.get("office_name"))  # type: ignore[arg-type]


def set_people(context: StepContext, step: SetPeople) -> None:
    table = context.world.actions if step.segment == "action" else context.world.sessions
    entity = pick(list(table.values()), step.pick)
    if entity is None:
        return
    body = dict(step.people)

    def take() -> None:
        for name, value in body.items():
            setattr(entity, name, value)

    _updated(context, step.segment, entity.id, body, take)


def _certificates_read_by_links(world: World, *, inheriting: bool) -> list[oracle.CertificateModel]:
    """The certificates whose links read the changed input (those that inherit the expiry, for an
    input of it), when there are any: a change of a certificate no link reads is judged on the
    certificate alone, which every change already is."""
    read = [
        certificate
        for certificate in world.certificates.values()
        if any(link.certificate_id == certificate.id and (link.date_expire is None or not inheriting) for link in world.links.values())
    ]
    return read or list(world.certificates.values())


def _validity_body(edit: ValidityEdit, validity: int | None, unit: str | None) -> dict[str, object]:
    """What the edit sends, given the stored validity: one field alone only when the other is set
    (a validity without a unit derives nothing, so both are sent then)."""
    if edit.fields == "clear":
        return {"validity": None, "validity_unit": None}
    if edit.fields == "validity" and unit is not None:
        return {"validity": edit.amount}
    if edit.fields == "validity_unit" and validity is not None:
        return {"validity_unit": edit.unit}
    return {"validity": edit.amount, "validity_unit": edit.unit}


def _edit_validity(context: StepContext, segment: str, entity: oracle.ActionModel | oracle.CertificateModel, edit: ValidityEdit) -> None:
    body = _validity_body(edit, entity.validity, entity.validity_unit)

    def take() -> None:
        entity.validity = body.get("validity", entity.validity)  # type: ignore[assignment]
        entity.validity_unit = body.get("validity_unit", entity.validity_unit)  # type: ignore[assignment]

    _updated(context, segment, entity.id, body, take)


def edit_action_validity(context: StepContext, step: EditActionValidity) -> None:
    action = pick(list(context.world.actions.values()), step.tree_pick)
    if action is not None:
        _edit_validity(context, "action", action, step.edit)


def edit_certificate_validity(context: StepContext, step: EditCertificateValidity) -> None:
    certificate = pick(_certificates_read_by_links(context.world, inheriting=True), step.certificate_pick)
    if certificate is not None:
        _edit_validity(context, "certificate", certificate, step.edit)


def set_certificate_release(context: StepContext, step: SetCertificateRelease) -> None:
    certificate = pick(_certificates_read_by_links(context.world, inheriting=True), step.certificate_pick)
    if certificate is None:
        return
    # a client date_expire before the release would be a 422: the release stays on or before it
    release = min(step.date_release, certificate.date_expire) if certificate.date_expire else step.date_release
    _updated(context, "certificate", certificate.id, {"date_release": release.isoformat()}, lambda: setattr(certificate, "date_release", release))


def set_certificate_expiry(context: StepContext, step: SetCertificateExpiry) -> None:
    certificate = pick(_certificates_read_by_links(context.world, inheriting=True), step.certificate_pick)
    if certificate is None:
        return
    expiry = max(step.date_expire, certificate.date_release) if step.date_expire else None
    body = {"date_expire": expiry.isoformat() if expiry else None}
    _updated(context, "certificate", certificate.id, body, lambda: setattr(certificate, "date_expire", expiry))


def rename_certificate(context: StepContext, step: RenameCertificate) -> None:
    certificate = pick(_certificates_read_by_links(context.world, inheriting=False), step.certificate_pick)
    if certificate is None:
        return
    body = context.api.marked("certificate", {"name": step.label})
    _updated(context, "certificate", certificate.id, body, lambda: setattr(certificate, "name", str(body["name"])))


def reassign_certificate(context: StepContext, step: ReassignCertificate) -> None:
    certificate = pick(_certificates_read_by_links(context.world, inheriting=False), step.certificate_pick)
    resource = pick(context.target.resources, step.resource_pick)
    if certificate is None or resource is None:
        return
    body = {"resource_id": resource.resource_id}
    _updated(context, "certificate", certificate.id, body, lambda: setattr(certificate, "resource_id", resource.resource_id))


def move_session(context: StepContext, step: MoveSession) -> None:
    world = context.world
    # what a move of a session with enrollments does is not written down: only empty ones move
    movable = [s for s in world.sessions.values() if not any(e.session_id == s.id for e in world.enrollments.values())]
    session, action = pick(movable, step.session_pick), pick(list(world.actions.values()), step.tree_pick)
    if session is None or action is None:
        return
    _updated(context, "action-session", session.id, {"action_id": action.id}, lambda: setattr(session, "action_id", action.id))


def move_date_to_session(context: StepContext, step: MoveDateToSession) -> None:
    """To a session of another action when there is one (every copied field changes), else to
    another session of its action (its people may change), else nowhere."""
    world = context.world
    date = pick(list(world.dates.values()), step.date_pick)
    if date is None:
        return
    current = world.sessions.get(date.session_id)
    others = [s for s in world.sessions.values() if s is not current]
    session = pick([s for s in others if current is None or s.action_id != current.action_id] or others, step.session_pick)
    if session is None:
        return
    _updated(context, "action-session-date", date.id, {"action_session_id": session.id}, lambda: setattr(date, "session_id", session.id))


def move_enrollment(context: StepContext, step: MoveEnrollment) -> None:
    world = context.world
    enrollment = pick(list(world.enrollments.values()), step.enrollment_pick)
    session = pick(list(world.sessions.values()), step.session_pick)
    if enrollment is None or session is None:
        return
    subscription = world.subscriptions[enrollment.subscription_id]
    taken = any(e.id != enrollment.id and e.session_id == session.id and e.subscription_id == subscription.id for e in world.enrollments.values())
    body = {"action_session_id": session.id}
    if taken or session.action_id != subscription.action_id:
        # the rules of create apply to the moved enrollment: one per entry and session, of the entry's action
        answer = context.api.update("action-session-subscription", enrollment.id, body)
        rules.duplicate_is_422(answer.exchange, ("action_subscription_id", "action_session_id"))
        return
    _updated(context, "action-session-subscription", enrollment.id, body, lambda: setattr(enrollment, "session_id", session.id))


def move_link(context: StepContext, step: MoveLink) -> None:
    world = context.world
    link = pick(list(world.links.values()), step.link_pick)
    action = pick(list(world.actions.values()), step.tree_pick)
    if link is None or action is None:
        return
    body = {"action_id": action.id}
    if any(other.id != link.id and other.certificate_id == link.certificate_id and other.action_id == action.id for other in world.links.values()):
        answer = context.api.update("certificate-action", link.id, body)
        rules.duplicate_is_422(answer.exchange, ("certificate_id", "action_id"))
        return
    _updated(context, "certificate-action", link.id, body, lambda: setattr(link, "action_id", action.id))


def move_link_to_certificate(context: StepContext, step: MoveLinkToCertificate) -> None:
    world = context.world
    moves = [(link, certificate) for link in world.links.values() for certificate in world.certificates.values() if certificate.id != link.certificate_id]
    # the edge of the rule: a move that makes the moved link the first (created first) link of a
    # certificate whose expiry comes from its first link; only there the two orders differ
    telling = [(link, certificate) for link, certificate in moves if _becomes_first_link(world, link, certificate)]
    if not telling:
        telling = _make_a_telling_move(context)
    chosen = pick(telling or moves, step.link_pick * 8 + step.certificate_pick)  # both picks drawn from PICK (0..7)
    if chosen is None:
        return
    link, certificate = chosen
    body = {"certificate_id": certificate.id}
    if any(other.id != link.id and other.certificate_id == certificate.id and other.action_id == link.action_id for other in world.links.values()):
        answer = context.api.update("certificate-action", link.id, body)
        rules.duplicate_is_422(answer.exchange, ("certificate_id", "action_id"))
        return
    _updated(context, "certificate-action", link.id, body, lambda: setattr(link, "certificate_id", certificate.id))


def _make_a_telling_move(context: StepContext) -> list[tuple[LinkModel, CertificateModel]]:
    """When no move reaches the edge, make one: a new certificate that inherits its expiry, linked
    to an action whose validity or office differs from that of the oldest link's action; the
    oldest link moved onto it becomes its first link, and its answer must change."""
    world = context.world
    oldest = min(world.links.values(), key=lambda link: link.seq, default=None)
    moved_action = world.actions.get(oldest.action_id) if oldest else None
    if oldest is None or moved_action is None:
        return []
    differing = [
        a for a in world.actions.values()
        if a.id != moved_action.id and ((a.validity, a.validity_unit) != (moved_action.validity, moved_action.validity_unit) or a.subtenant_id != moved_action.subtenant_id)
    ]
    if not differing:
        return []
    spec = CertificateSpec(resource=0, label="first-link", date_release=world.today - dt.timedelta(days=30), date_expire=None, validity=None)
    certificate_id = build.create_certificate(context.api, context.target, world, spec, differing[0].action_type)
    build.create_link(context.api, context.target, world, certificate_id, differing[0].id, None)
    return [(oldest, world.certificates[certificate_id])]


def _becomes_first_link(world: World, link: LinkModel, certificate: CertificateModel) -> bool:
    """Whether the move makes `link` the certificate's first link (the one created first) in a way
    an answer shows: the certificate's expiry comes from its first link, or the first link's
    action is of another office (the certificate's `subtenant_id`). A move onto a certificate
    already linked to the link's action is refused (422) and shows nothing."""
    first = oracle.first_link(world, certificate.id)
    if first is None or first.seq < link.seq:
        return False
    if any(other.certificate_id == certificate.id and other.action_id == link.action_id for other in world.links.values()):
        return False
    inherits = certificate.date_expire is None and certificate.validity is None
    first_action, moved_action = world.actions.get(first.action_id), world.actions.get(link.action_id)
    other_office = first_action is not None and moved_action is not None and first_action.subtenant_id != moved_action.subtenant_id
    return inherits or other_office


def move_entry(context: StepContext, step: MoveEntry) -> None:
    world = context.world
    # what a move of an enrolled entry does is not written down: only entries enrolled nowhere move
    movable = [s for s in world.subscriptions.values() if not any(e.subscription_id == s.id for e in world.enrollments.values())]
    subscription, action = pick(movable, step.subscription_pick), pick(list(world.actions.values()), step.tree_pick)
    if subscription is None or action is None:
        return
    body = {"action_id": action.id}
    if any(s.id != subscription.id and s.action_id == action.id and s.subscriber_id == subscription.subscriber_id for s in world.subscriptions.values()):
        answer = context.api.update("action-subscription", subscription.id, body)
        rules.duplicate_is_422(answer.exchange, ("subscriber_id", "action_id"))
        return
    _updated(context, "action-subscription", subscription.id, body, lambda: setattr(subscription, "action_id", action.id))


def certify_entry(context: StepContext, step: CertifyEntry) -> None:
    world, target = context.world, context.target
    subscription = pick(list(world.subscriptions.values()), step.subscription_pick)
    if subscription is None:
        return
    action = world.actions[subscription.action_id]
    resource = next(i for i, r in enumerate(target.resources) if r.resource_id == subscription.subscriber_id)
    certificate_ids = []
    for spec, expiry in zip(step.certificates, step.link_expiries, strict=True):
        spec = dataclasses.replace(spec, resource=resource)
        certificate_ids.append(build.create_certificate(context.api, target, world, spec, action.action_type))
        build.create_link(context.api, target, world, certificate_ids[-1], action.id, max(expiry, spec.date_release) if expiry else None)
    answer = context.api.create("certificate-action", build.link_body(target, certificate_ids[0], action.id, None))
    rules.duplicate_is_422(answer.exchange, ("certificate_id", "action_id"))


def enroll_entry_again(context: StepContext, step: EnrollEntryAgain) -> None:
    world, target = context.world, context.target
    subscription = pick(list(world.subscriptions.values()), step.subscription_pick)
    if subscription is None:
        return
    session_ids = []
    for date in step.dates:
        session_ids.append(build.create_session(context.api, target, world, subscription.action_id))
        build.create_date(context.api, target, world, session_ids[-1], date)
        build.create_enrollment(context.api, target, world, session_ids[-1], subscription.id, -1)
    answer = context.api.create("action-session-subscription", build.enrollment_body(target, session_ids[0], subscription.id, -1, None))
    rules.duplicate_is_422(answer.exchange, ("action_subscription_id", "action_session_id"))


HANDLERS = {
    RenameAction: rename_action,
    MoveActionOffice: move_action_office,
    SetPeople: set_people,
    EditActionValidity: edit_action_validity,
    EditCertificateValidity: edit_certificate_validity,
    SetCertificateRelease: set_certificate_release,
    SetCertificateExpiry: set_certificate_expiry,
    RenameCertificate: rename_certificate,
    ReassignCertificate: reassign_certificate,
    MoveSession: move_session,
    MoveDateToSession: move_date_to_session,
    MoveEnrollment: move_enrollment,
    MoveLink: move_link,
    MoveLinkToCertificate: move_link_to_certificate,
    MoveEntry: move_entry,
    CertifyEntry: certify_entry,
    EnrollEntryAgain: enroll_entry_again,
    Enroll: enroll,
    Unenroll: unenroll,
    RecordOutcome: record_outcome,
    AddDate: add_date,
    RemoveDate: remove_date,
    AddSession: add_session,
    Subscribe: subscribe,
    Unsubscribe: unsubscribe,
    IssueCertificate: issue_certificate,
    LinkCertificate: link_certificate,
    SetLinkExpiry: set_link_expiry,
    Unlink: unlink,
    DeleteCertificate: delete_certificate,
    SetExpireInterval: set_expire_interval,
    SetActionValidity: set_action_validity,
    DescribeAction: describe_action,
    MoveSubscription: move_subscription,
    SetSessionValidity: set_session_validity,
    MoveDate: move_date,
    SetCertificateValidity: set_certificate_validity,
    AdvanceClock: advance_clock,
}


def apply_step(context: StepContext, step: Step) -> None:
    HANDLERS[type(step)](context, step)  # type: ignore[operator]

