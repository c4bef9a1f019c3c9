"""The functions Connexion calls, resolved from operationIds (`<segment>_<verb>`).

HTTP only: each handler hands the validated request to the domain and turns its answer, or
its error, into the documented status code and body.

Handlers are plain functions, which Connexion runs in its thread pool: the domain's work
(a search over a large table, a cascade) then never holds up the event loop, so the other
requests, `/__mock/health` among them, are answered meanwhile.
"""

from __future__ import annotations

from typing import Any, Callable

from connexion.exceptions import ProblemException
from starlette.responses import Response

from .domain.errors import HasDescendants, NotFound, RuleViolations
from .domain.service import Domain

Handler = Callable[..., Any]
JSON = {"Content-Type": "application/json"}


def not_found(error: NotFound) -> ProblemException:
    return ProblemException(status=404, title="Not Found", detail=str(error))


def unprocessable(error: RuleViolations) -> tuple[list[dict[str, str]], int, dict[str, str]]:
    return [{"field": v.field, "message": v.message} for v in error.violations], 422, JSON


def preview(error: HasDescendants) -> tuple[dict[str, Any], int, dict[str, str]]:
    body = {
        "message": "The entity has related entities; repeat with force=true to delete them all.",
        "total": len(error.entities),
        "entities": [{"type": segment, "id": entity_id} for segment, entity_id in error.entities],
    }
    return body, 400, JSON


def _index(domain: Domain, segment: str) -> Handler:
    def index(body: dict[str, Any] | None = None, subscriber_id: str | None = None):
        page = domain.search(segment, body, subscriber_id)
        return page.items, 200, {**JSON, **page.headers()}

    return index


def _create(domain: Domain, segment: str) -> Handler:
    def create(body: dict[str, Any]):
        try:
            return domain.create(segment, body), 201, JSON
        except RuleViolations as error:
            return unprocessable(error)

    return create


def _view(domain: Domain, segment: str) -> Handler:
    def view(id: str):  # noqa: A002 - the spec names the path parameter `id`
        try:
            return domain.view(segment, id), 200, JSON
        except NotFound as error:
            raise not_found(error) from None

    return view


def _update(domain: Domain, segment: str) -> Handler:
    def update(id: str, body: dict[str, Any]):  # noqa: A002
        try:
            return domain.update(segment, id, body), 200, JSON
        except NotFound as error:
            raise not_found(error) from None
        except RuleViolations as error:
            return unprocessable(error)

    return update


def _delete(domain: Domain, segment: str) -> Handler:
    def delete(id: str, force: bool = False):  # noqa: A002
        try:
            domain.delete(segment, id, force=bool(force))
        except NotFound as error:
            raise not_found(error) from None
        except HasDescendants as error:
            return preview(error)
        return Response(status_code=204)

    return delete


FACTORIES: dict[str, Callable[[Domain, str], Handler]] = {
    "index": _index,
    "create": _create,
    "view": _view,
    "update": _update,
    "delete": _delete,
}


def function_resolver(domain: Domain) -> Callable[[str], Handler]:
    """For Connexion's Resolver: operationId -> the handler bound to `domain`."""

    def resolve(operation_id: str) -> Handler:
        resource_key, verb = operation_id.rsplit("_", 1)
        return FACTORIES[verb](domain, resource_key.replace("_", "-"))

    return resolve
