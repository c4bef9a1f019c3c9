"""The mock's error answers and their log lines.

Replaces Connexion's default exception handlers, which log `%r` of the exception (the whole
client value it quotes) at WARNING and answer a 415 or 401 without what a client needs:

- every problem's `detail` is bounded, and so is its log line (4xx at INFO, 5xx at ERROR);
- a 415 names `field: "Content-Type"`;
- a 401 carries `WWW-Authenticate` (RFC 6750);
- an unexpected exception answers 500 problem+json with an `error_id` the ERROR log line
  (with the traceback) carries too.
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
import typing as t
from http import HTTPStatus

from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem
from starlette.exceptions import HTTPException

from .security import www_authenticate

logger = logging.getLogger("mock_server.problems")

# How much of any client value a detail or a log line quotes.
EXCERPT_CHARS = 100
# A detail longer than this is cut: the safety net for messages built elsewhere (Connexion's).
MAX_DETAIL_CHARS = 500
ERROR_ID_BYTES = 6  # 12 hex digits: unique enough to find one log line


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)`, cut to `limit` characters with the full length said when longer."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def bounded(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` cut to `limit` characters (a detail or log text that quotes client data)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


def escape_controls(text: str) -> str:
    """ASCII control characters percent-escaped, as in a URL."""
    return _CONTROL_CHARACTERS.sub(lambda match: f"%{ord(match.group()):02X}", text)


def _request_line(request: ConnexionRequest) -> str:
    """Method and path for a log line; control characters escaped, so one request is one line."""
    return bounded(f"{request.method} {escape_controls(request.scope['path'])}", 200)


DELETE_400_MEDIA_TYPE = "application/json"


def problem_handler(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    """Every Connexion problem: bounded detail and log line; 415 names the header, 401 challenges."""
    ext = dict(exc.ext or {})
    headers = dict(exc.headers or {})
    if isinstance(exc, UnsupportedMediaTypeProblem):
        ext["field"] = "Content-Type"
    if exc.status == 401:
        headers["WWW-Authenticate"] = www_authenticate(exc)
    detail = None if exc.detail is None else bounded(str(exc.detail))
    field = f" (field {ext['field']})" if "field" in ext else ""
    line = bounded(f"{_request_line(request)} -> {exc.status} {exc.title}: {detail}{field}")
    logger.log(logging.ERROR if exc.status >= 500 else logging.INFO, "%s", line)
    response = problem(status=exc.status, title=exc.title, detail=detail, type=exc.type, instance=exc.instance,
                       headers=headers or None, ext=ext or None)
    if exc.status == 400 and request.method == "DELETE":
        # A delete documents one media type for its 400, the preview's (docs/DECISIONS.md,
        # "Reading the spec with stock tools"): a generated client parses the problem as well.
        response.mimetype = response.content_type = response.headers["Content-Type"] = DELETE_400_MEDIA_TYPE
    return response


def http_exception_handler(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
    """Starlette's own HTTP errors (no route: 404, wrong method: 405) as problems."""
    return problem_handler(request, ProblemException(
        status=exc.status_code, title=_reason(exc.status_code), detail=exc.detail, headers=exc.headers))


def internal_error_handler(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """An unexpected exception: 500 with an id that the ERROR log line (and its traceback) has."""
    error_id = secrets.token_hex(ERROR_ID_BYTES)
    logger.error("%s -> 500 error_id=%s: %s\n%s", _request_line(request), error_id,
                 bounded(f"{type(exc).__name__}: {exc}"), bounded_traceback(exc))
    return problem(
        status=500,
        title="Internal Server Error",
        detail=f"The mock failed unexpectedly; its log has the details under error_id {error_id}.",
        ext={"error_id": error_id},
    )


def bounded_traceback(exc: BaseException) -> str:
    """The traceback as `logging` would print it, each part bounded: an exception's message
    may quote a client value whole (a KeyError of a 2 MB key)."""
    parts = traceback.TracebackException.from_exception(exc).format()
    return "\n".join(bounded(part.rstrip("\n")) for part in parts)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def add_error_handlers(app: t.Any) -> None:
    """Register the handlers above on a Connexion AsyncApp (they replace Connexion's defaults)."""
    app.add_error_handler(ProblemException, problem_handler)
    app.add_error_handler(HTTPException, http_exception_handler)
    app.add_error_handler(Exception, internal_error_handler)
