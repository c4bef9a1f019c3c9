"""A client of the seven resources that only ever changes what it created itself.

Every entity it creates carries the run marker (in `name`, or in the `data` JSON) and is recorded;
`cleanup` deletes the recorded ones, newest first, with force=true. An update or delete of an id
it did not create raises `ForeignEntityError` before anything is sent, so a run against a shared
server cannot touch anyone else's data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import preflight, rules, spec_view
from .budget import BUDGET
from .exchange import Exchange, from_httpx
from .resources import BY_SEGMENT, MARKER_JSON_KEY, MarkerPlacement
from .target import AuthMode, Target
from .transport import LEDGER as REQUEST_LEDGER
from .transport import AnswerLost

MAX_PAGES_WALKED = 200
# Independent reads of one test sent side by side over HTTP (`ApiClient.gather`).
CONCURRENT_READS = 8
T = TypeVar("T")
WRITE_PATH = re.compile(r"^/v2/(?P<segment>[a-z-]+)/(?P<verb>update|delete)/(?P<id>[^/?]*)$")


class ForeignEntityError(RuntimeError):
    """The suite tried to change an entity that this run did not create."""


class CleanupError(RuntimeError):
    """Some entities this run created could not be deleted."""


class ReconcileError(RuntimeError):
    """A create's answer was lost and the search for its marker found more than one new entity."""


@dataclass(frozen=True)
class Answer:
    exchange: Exchange

    @property
    def status(self) -> int:
        return self.exchange.status

    @property
    def body(self) -> Any:
        try:
            return self.exchange.json()
        except ValueError:
            return None


def new_run_id() -> str:
    """Short, lowercase, alphanumeric: safe inside names, JSON and case-insensitive searches."""
    return "ct" + secrets.token_hex(4)


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def marker_filter(segment: str, marker: str, sent: Mapping[str, Any]) -> dict[str, Any]:
    """An index filter that finds what a create of `sent` made: its marker, or (certificate-action,
    which has no text field, or a body without the marker) its first parent."""
    resource = BY_SEGMENT[segment]
    name = resource.marker_field
    if resource.marker_placement is MarkerPlacement.PREFIX and name:
        return {name: marker}
    if resource.marker_placement is MarkerPlacement.JSON and name in sent:
        # JSON text is searched as free text (the marker as a JSON string is a substring of
        # it); an object field matches the objects that hold the given keys
        return {name: json.dumps(marker) if spec_view.is_json_text(segment, name) else {MARKER_JSON_KEY: marker}}
    return parent_filter(segment, sent)


def parent_filter(segment: str, sent: Mapping[str, Any]) -> dict[str, Any]:
    """An index filter on the first parent that `sent` names (empty when it names none)."""
    return {name: sent[name] for name, _ in BY_SEGMENT[segment].parents[:1] if name in sent}


def unknown_matches(
    segment: str, items: Sequence[Mapping[str, Any]], sent: Mapping[str, Any], known: Callable[[str, str], bool]
) -> list[dict[str, Any]]:
    """The items that `known(segment, id)` does not know and whose reference ids (`..._id`) equal
    those of `sent` (ids compared without regard to case)."""
    id_field = BY_SEGMENT[segment].id_field
    wanted = {name: value for name, value in sent.items() if name.endswith("_id")}
    return [
        dict(item) for item in items
        if not known(segment, str(item.get(id_field, "")))
        and all(name not in item or str(item[name]).lower() == str(value).lower() for name, value in wanted.items())
    ]


@dataclass
class Scope:
    marker: str
    created: list[tuple[str, str]] = field(default_factory=list)


class ApiClient:
    def __init__(self, target: Target, run_id: str, *, keep_data: bool = False) -> None:
        self.target = target
        self.run_id = run_id
        self.keep_data = keep_data  # nothing is deleted at the end of a scope (the caller keeps the rest too)
        self.recent: deque[Exchange] = deque(maxlen=30)
        self._owned: dict[str, str] = {}  # id -> segment, created (or minted absent) by this run
        self._created: list[tuple[str, str]] = []
        self._deleted: set[str] = set()
        self._scopes: list[Scope] = []
        self._scope_count = 0
        self.cleanup_problems: list[str] = []

    # ------------------------------------------------------------ markers and scopes

    @property
    def marker(self) -> str:
        return self._scopes[-1].marker if self._scopes else self.run_id

    @contextlib.contextmanager
    def scope(self) -> Iterator[Scope]:
        """Entities created inside get a marker of their own and are deleted on exit (kept with
        --keep-data, so that the curl lines of a failure inside repeat it after the run)."""
        self._scope_count += 1
        scope = Scope(marker=f"{self.run_id}s{self._scope_count:04d}")
        self._scopes.append(scope)
        try:
            yield scope
        finally:
            self._scopes.pop()
            if not self.keep_data:
                self._delete_all(scope.created)

    def marked(self, segment: str, body: Mapping[str, Any]) -> dict[str, Any]:
        resource = BY_SEGMENT[segment]
        marked = dict(body)
        name = resource.marker_field
        if name is None or not spec_view.has_field(segment, name):
            return marked
        if resource.marker_placement is MarkerPlacement.PREFIX:
            value = str(marked.get(name, ""))
            if not value.startswith(self.run_id):
                marked[name] = f"{self.marker}-{value}"
        elif resource.marker_placement is MarkerPlacement.JSON and name not in marked:
            content = {MARKER_JSON_KEY: self.marker}
            marked[name] = json.dumps(content) if spec_view.is_json_text(segment, name) else content
        return marked

    # ------------------------------------------------------------ ownership

    def owns(self, segment: str, entity_id: str) -> bool:
        return self._owned.get(str(entity_id).lower()) == segment

    def _ensure_may_change(self, segment: str, entity_id: str) -> None:
        # A text that is not a uuid cannot name anyone's entity: malformed-id probes may use it.
        if is_uuid(entity_id) and not self.owns(segment, entity_id):
            raise ForeignEntityError(f"refusing to change {segment} {entity_id}: this run did not create it")

    def absent_id(self, segment: str) -> str:
        """A fresh uuid that names no entity (checked), owned by this run for 404 probes."""
        entity_id = str(uuid.uuid4())
        answer = self._send("GET", f"/v2/{segment}/view/{entity_id}", label=f"view absent {segment}")
        rules.absent_id_is_404(answer.exchange)
        self._owned[entity_id] = segment
        self._deleted.add(entity_id)
        return entity_id

    def created_keys(self) -> list[tuple[str, str]]:
        return [key for key in self._created if key[1] not in self._deleted]

    def forget(self, keys: Sequence[tuple[str, str]]) -> None:
        """Entities known to be gone (a force delete that the test checked): no cleanup needed."""
        self._deleted.update(entity_id for _, entity_id in keys)

    # ------------------------------------------------------------ transport

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        auth: AuthMode | None = None,
        token: str | None = None,
        label: str = "",
    ) -> Answer:
        response = self.target.request(method, path, json=json_body, content=content, params=params, auth=auth, token=token)
        exchange = from_httpx(response, label=label)
        self.recent.append(exchange)
        if exchange.status == 401 and token is None and auth in (None, self.target.auth_mode):
            # The configured token in the configured form was refused: when the probe of the
            # preflight is refused too, the token is wrong (revoked meanwhile), not the server;
            # when the probe takes it, this 401 is the server's answer, for the rules to judge.
            preflight.check_target(self.target)
        rules.no_server_error(exchange)
        return Answer(exchange)

    def raw(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        auth: AuthMode | None = None,
        token: str | None = None,
        label: str = "",
    ) -> Answer:
        """Any request, e.g. a malformed one; updates and deletes still only of owned ids."""
        if method.upper() in ("PUT", "DELETE", "PATCH"):
            match = WRITE_PATH.match(path)
            if match is None:
                raise ForeignEntityError(f"refusing {method} {path}: not an update or delete path of an owned entity")
            self._ensure_may_change(match["segment"], match["id"])
        return self._send(method.upper(), path, json_body=json_body, content=content, params=params, auth=auth, token=token, label=label)

    # ------------------------------------------------------------ the five operations

    def create(
        self, segment: str, body: Mapping[str, Any], *, mark: bool = True, auth: AuthMode | None = None, token: str | None = None
    ) -> Answer:
        """A create; whatever it creates is recorded for cleanup, even when it should have been refused.

        A create whose answer was lost (a dropped connection, 502/504: the server may have made
        it) is never sent blindly again: the entity is looked for by the run marker (`reconcile`),
        adopted when found, and the create is sent again only when nothing was made."""
        sent = self.marked(segment, body) if mark else dict(body)
        label = f"create {segment}"
        try:
            answer = self._send("POST", f"/v2/{segment}/create", json_body=sent, auth=auth, token=token, label=label)
        except AnswerLost as lost:
            found = self.reconcile(segment, sent)
            if found is not None:
                REQUEST_LEDGER.note_reconciled(f"{lost.reason}: found {segment} {found.body.get(BY_SEGMENT[segment].id_field)} by its marker")
                return found
            REQUEST_LEDGER.note_reconciled(f"{lost.reason}: nothing was created, sent again")
            answer = self._send("POST", f"/v2/{segment}/create", json_body=sent, auth=auth, token=token, label=label)
        if answer.status == 201 and isinstance(answer.body, dict):
            entity_id = str(answer.body.get(BY_SEGMENT[segment].id_field, "")).lower()
            if entity_id:
                self._record(segment, entity_id)
        return answer

    def _marker_filter(self, segment: str, sent: Mapping[str, Any]) -> dict[str, Any]:
        return marker_filter(segment, self.marker, sent)

    def unknown_matches(
        self, segment: str, sent: Mapping[str, Any], filter_: Mapping[str, Any], known: Callable[[str, str], bool]
    ) -> list[dict[str, Any]]:
        """The entities an index query with `filter_` finds that `known` does not know and whose
        reference ids are those `sent` names: what a create whose answer was lost may have made."""
        items, _ = self.index_all(segment, filter_)
        return unknown_matches(segment, items, sent, known)

    def answer_from_view(self, segment: str, entity_id: str) -> Answer:
        """A 201 answer of the create that made this entity, built from its view (the real answer
        was lost)."""
        view = self.view(segment, entity_id)
        rules.success_status(view.exchange, 200)
        return Answer(dataclasses.replace(view.exchange, status=201, label=f"create {segment} (answer lost; reconciled from its view)"))

    def reconcile(self, segment: str, sent: Mapping[str, Any]) -> Answer | None:
        """After a lost create answer: the entity it made (an answer built from its view, status
        201, recorded for cleanup), or None when the search finds nothing new.

        Clients send one create at a time, so an entity that carries this scope's marker and that
        the run does not know yet is the one that create made."""
        id_field = BY_SEGMENT[segment].id_field
        new = self.unknown_matches(segment, sent, self._marker_filter(segment, sent), self.owns)
        for item in new:
            self._record(segment, str(item[id_field]).lower())
        if not new:
            return None
        if len(new) > 1:
            raise ReconcileError(f"a lost create of {segment} was looked for by marker {self.marker}: {len(new)} new entities ({[i[id_field] for i in new]}); all recorded for cleanup")
        return self.answer_from_view(segment, str(new[0][id_field]))

    def _record(self, segment: str, entity_id: str) -> None:
        self._owned[entity_id] = segment
        self._created.append((segment, entity_id))
        if self._scopes:
            self._scopes[-1].created.append((segment, entity_id))

    def create_ok(self, segment: str, body: Mapping[str, Any], *, mark: bool = True) -> dict[str, Any]:
        answer = self.create(segment, body, mark=mark)
        rules.success_status(answer.exchange, 201)
        return answer.body

    def gather(self, reads: Sequence[Callable[[], T]]) -> list[T]:
        """Each read's result, in order. Over HTTP the reads are sent side by side (at most
        CONCURRENT_READS at a time): they are independent, so their order does not matter, and
        over a network the round trips, not the server, take the time. In-process one after the
        other. The first error, in the reads' order, is raised once all have finished."""
        if self.target.in_process or len(reads) < 2:
            return [read() for read in reads]
        with ThreadPoolExecutor(max_workers=min(CONCURRENT_READS, len(reads))) as pool:
            futures = [pool.submit(read) for read in reads]
        return [future.result() for future in futures]

    def view(self, segment: str, entity_id: str, *, auth: AuthMode | None = None, token: str | None = None) -> Answer:
        return self._send("GET", f"/v2/{segment}/view/{entity_id}", auth=auth, token=token, label=f"view {segment}")

    def view_ok(self, segment: str, entity_id: str) -> dict[str, Any]:
        answer = self.view(segment, entity_id)
        rules.success_status(answer.exchange, 200)
        return answer.body

    def view_or_none(self, segment: str, entity_id: str) -> dict[str, Any] | None:
        """The entity, or None when it answers 404 (anything else breaks a rule)."""
        answer = self.view(segment, entity_id)
        if answer.status == 404:
            return None
        rules.success_status(answer.exchange, 200)
        return answer.body

    def update(
        self, segment: str, entity_id: str, body: Mapping[str, Any], *, auth: AuthMode | None = None, token: str | None = None
    ) -> Answer:
        self._ensure_may_change(segment, entity_id)
        return self._send("PUT", f"/v2/{segment}/update/{entity_id}", json_body=dict(body), auth=auth, token=token, label=f"update {segment}")

    def update_ok(self, segment: str, entity_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.update(segment, entity_id, body)
        rules.success_status(answer.exchange, 200)
        return answer.body

    def delete(
        self, segment: str, entity_id: str, *, force: bool | None = None, auth: AuthMode | None = None, token: str | None = None
    ) -> Answer:
        self._ensure_may_change(segment, entity_id)
        params = {} if force is None else {"force": "true" if force else "false"}
        answer = self._send("DELETE", f"/v2/{segment}/delete/{entity_id}", params=params, auth=auth, token=token, label=f"delete {segment}")
        if answer.status == 204:
            self._deleted.add(str(entity_id).lower())
        return answer

    def index(
        self,
        segment: str,
        request: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        auth: AuthMode | None = None,
        token: str | None = None,
    ) -> Answer:
        """One index page; the pagination header arithmetic is checked on every 200."""
        answer = self._send(
            "POST", f"/v2/{segment}/index", json_body=dict(request or {}), params=params, auth=auth, token=token, label=f"index {segment}"
        )
        if answer.status == 200:
            rules.pagination_headers_match_body(answer.exchange)
        return answer

    def index_all(
        self,
        segment: str,
        filter_: Mapping[str, Any] | None = None,
        *,
        sort: str | None = None,
        per_page: int = 100,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], list[Exchange]]:
        """Walk every page of one query."""
        items: list[dict[str, Any]] = []
        exchanges: list[Exchange] = []
        page = 1
        while page <= MAX_PAGES_WALKED:
            request: dict[str, Any] = {"per-page": per_page, "page": page}
            if filter_:
                request["filter"] = dict(filter_)
            if sort:
                request["sort"] = sort
            answer = self.index(segment, request, params=params)
            rules.success_status(answer.exchange, 200)
            exchanges.append(answer.exchange)
            items += answer.body
            if page >= int(answer.exchange.header("X-Pagination-Page-Count") or 0):
                break
            page += 1
        return items, exchanges

    # ------------------------------------------------------------ cleanup

    def _delete_all(self, keys: Sequence[tuple[str, str]]) -> None:
        # newest first: children were created after their parents
        for segment, entity_id in reversed(keys):
            if entity_id in self._deleted:
                continue
            try:
                with BUDGET.cleaning():  # past the request budget too: nothing of the run stays
                    answer = self.delete(segment, entity_id, force=True)
            except Exception as error:  # noqa: BLE001 - cleanup goes on whatever one delete does
                self.cleanup_problems.append(f"{segment} {entity_id}: {error!r}")
                continue
            if answer.status in (204, 404):
                self._deleted.add(entity_id)
            else:
                self.cleanup_problems.append(f"{segment} {entity_id}: delete answered {answer.status}")

    def cleanup(self) -> list[tuple[str, str]]:
        """Delete whatever this run created and still exists; answer what could not be deleted."""
        self.cleanup_problems.clear()
        self._delete_all(self._created)
        return [key for key in self._created if key[1] not in self._deleted]
