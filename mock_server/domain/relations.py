"""How the seven resources hang together: which field of which resource names which parent.

The force-delete cascade follows these edges downwards; the referential rules check them
upwards. A certificate named by an enrollment's `certificate_id` is a reference, not a parent:
deleting the certificate clears the field instead of deleting the enrollment.
"""

from __future__ import annotations

from ..storage import JoinedIndex

PARENTS: dict[str, dict[str, str]] = {
    "action": {},
    "action-session": {"action_id": "action"},
    "action-session-date": {"action_session_id": "action-session"},
    "certificate": {},
    "action-subscription": {"action_id": "action"},
    "action-session-subscription": {
        "action_session_id": "action-session",
        "action_subscription_id": "action-subscription",
    },
    "certificate-action": {"certificate_id": "certificate", "action_id": "action"},
}

# Optional references that are cleared, not cascaded, when their target is deleted.
CLEARED_REFERENCES: dict[str, dict[str, str]] = {
    "action-session-subscription": {"certificate_id": "certificate"},
}

# The order of types in a delete preview (and in the DeletePreview schema's enum).
PREVIEW_ORDER = (
    "action-subscription",
    "action-session",
    "action-session-date",
    "action-session-subscription",
    "certificate-action",
)

# Fields the storage indexes: every parent and cleared reference, plus what computed fields
# and the `subscriber_id` search look rows up by.
INDEXED: dict[str, tuple[str, ...]] = {
    segment: tuple(PARENTS[segment]) + tuple(CLEARED_REFERENCES.get(segment, {}))
    for segment in PARENTS
}
INDEXED["action-subscription"] += ("subscriber_id",)
INDEXED["certificate"] += ("resource_id",)


def children_of(segment: str) -> list[tuple[str, str]]:
    """(child segment, field naming the parent) for every direct child type of `segment`."""
    return [
        (child, field)
        for child, fields in PARENTS.items()
        for field, parent in fields.items()
        if parent == segment
    ]

# A compliance schedule entry's status reads the links of its action to certificates of its
# resource: indexed by both, so it costs the same however many certificates the resource holds.
LINKS_BY_ACTION_AND_SUBJECT = JoinedIndex(
    segment="certificate-action", own_field="action_id",
    via_field="certificate_id", target="certificate", target_field="resource_id",
)
JOINS = (LINKS_BY_ACTION_AND_SUBJECT,)
