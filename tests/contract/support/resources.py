"""The seven resources: URL segment, id field, where the run marker goes, what they hang from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class MarkerPlacement(Enum):
    PREFIX = "prefix"  # the marker starts a text field: "<marker>-<label>"
    JSON = "json"  # the marker is a key of a JSON text field
    NONE = "none"  # nothing to put it in; the entity is found through its parents


@dataclass(frozen=True)
class Resource:
    segment: str
    marker_field: str | None
    marker_placement: MarkerPlacement
    parents: tuple[tuple[str, str], ...]  # (reference field, parent segment) that cascade onto this one

    @property
    def id_field(self) -> str:
        return self.segment.replace("-", "_") + "_id"

    @property
    def operation_prefix(self) -> str:
        return self.segment.replace("-", "_")


ACTION = Resource("action", "name", MarkerPlacement.PREFIX, ())
ACTION_SUBSCRIPTION = Resource("action-subscription", "data", MarkerPlacement.JSON, (("action_id", "action"),))
ACTION_SESSION = Resource("action-session", "data", MarkerPlacement.JSON, (("action_id", "action"),))
ACTION_SESSION_DATE = Resource("action-session-date", "data", MarkerPlacement.JSON, (("action_session_id", "action-session"),))
ACTION_SESSION_SUBSCRIPTION = Resource(
    "action-session-subscription",
    "data",
    MarkerPlacement.JSON,
    (("action_session_id", "action-session"), ("action_subscription_id", "action-subscription")),
)
CERTIFICATE = Resource("certificate", "name", MarkerPlacement.PREFIX, ())
CERTIFICATE_ACTION = Resource(
    "certificate-action", None, MarkerPlacement.NONE, (("certificate_id", "certificate"), ("action_id", "action"))
)

# Creation order respects references, so the reverse is a safe order for deleting.
ALL: tuple[Resource, ...] = (
    ACTION,
    ACTION_SUBSCRIPTION,
    ACTION_SESSION,
    ACTION_SESSION_DATE,
    CERTIFICATE,
    CERTIFICATE_ACTION,
    ACTION_SESSION_SUBSCRIPTION,
)
BY_SEGMENT: dict[str, Resource] = {r.segment: r for r in ALL}
DEPENDENCY_RANK: dict[str, int] = {r.segment: i for i, r in enumerate(ALL)}

MARKER_JSON_KEY = "contract_run"


def id_field(segment: str) -> str:
    return BY_SEGMENT[segment].id_field
