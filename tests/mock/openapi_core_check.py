"""openapi-core, a stock validator, judging HTTP exchanges with the mock against the spec the
mock serves (docs/DECISIONS.md, "Reading the spec with stock tools").

Every run of the mock's HTTP tests (unless `--no-openapi-core`) records each of their exchanges
(the event hook of `RunningMock.client`) and fails a test whose exchanges openapi-core rejects:
every answer must match its operation, status, headers and schema; every request the mock took
as well-formed (answered 2xx, 404 or 422) must match the spec too. Requests the mock refused
(400, 401, 415) are bad on purpose and only their answers are judged, as are requests whose
body was streamed (httpx keeps no copy of it).
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
import pytest
from werkzeug.datastructures import Headers, ImmutableMultiDict

import mockhttp
from mock_server.spec import load_spec

WELL_FORMED_REQUEST = frozenset({200, 201, 204, 404, 422})
API_PREFIX = "/v2/"


@functools.lru_cache(maxsize=1)
def openapi() -> object:
    """openapi-core over the bundled spec; `application/problem+json` read as JSON, which
    openapi-core does not do out of the box."""
    from openapi_core import Config, OpenAPI

    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(load_spec(), config=config)


@dataclass
class HttpxRequest:
    """httpx's request as openapi-core's Request protocol."""

    request: httpx.Request
    parameters: object = field(init=False)

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters

        query = parse_qsl(self.request.url.query.decode("ascii"), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(dict(self.request.headers)), cookie=ImmutableMultiDict()
        )

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode('ascii')}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def streamed(self) -> bool:
        """A body sent from a generator (chunked): httpx keeps no copy of it."""
        try:
            self.request.content
        except httpx.RequestNotRead:
            return True
        return False

    @property
    def body(self) -> bytes | None:
        return None if self.streamed else (self.request.content or None)

    @property
    def content_type(self) -> str:
        # a body without a Content-Type is read as JSON (docs/DECISIONS.md), so judged as JSON
        default = "application/json" if self.body else ""
        return self.request.headers.get("content-type", default)


@dataclass
class HttpxResponse:
    response: httpx.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "")

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def data(self) -> bytes | None:
        return self.response.content


def not_the_apis_answer(response: httpx.Response) -> bool:
    """Answers of the mock's own layers in front of the API, which the spec does not describe: a
    CORS preflight (answered by the CORS middleware), and a fault injected instead of the API's
    answer (`X-Mock-Fault: status-...`; a `slow` fault is the API's real answer, judged as any)."""
    preflight = request_is_preflight(response.request)
    injected = response.headers.get("X-Mock-Fault", "").startswith("status-")
    return preflight or injected


def request_is_preflight(request: httpx.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def violations(response: httpx.Response) -> list[str]:
    """What openapi-core finds wrong with one exchange (nothing outside the API's `/v2` paths)."""
    request = response.request
    if not request.url.path.startswith(API_PREFIX) or not_the_apis_answer(response):
        return []
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    adapted = HttpxRequest(request)
    found = []
    if response.status_code in WELL_FORMED_REQUEST and not adapted.streamed:
        found += [f"{where}: request: {error}" for error in _errors(openapi().validate_request, adapted)]
    found += [f"{where}: response: {error}" for error in _errors(openapi().validate_response, adapted, HttpxResponse(response))]
    return found


def _errors(validate, *args) -> list[str]:
    from openapi_core.validation.request.exceptions import SecurityValidationError

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Unsupported scheme type")  # oauth2, see below
            validate(*args)
    except SecurityValidationError as error:
        # openapi-core skips oauth2 ("Unsupported scheme type"), so a Bearer token looks like no
        # credentials to it; the mock's own tests judge authentication.
        if "Authorization" in args[0].request.headers:
            return []
        return [_describe(error)]
    except Exception as error:  # openapi-core's validation errors share no narrower base
        return [_describe(error)]
    return []


def _describe(error: BaseException) -> str:
    causes = [str(error)]
    for inner in getattr(error, "schema_errors", None) or getattr(getattr(error, "__cause__", None), "schema_errors", None) or []:
        causes.append(getattr(inner, "message", str(inner)))
    return "; ".join(causes)[:500]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-openapi-core", action="store_true",
                     help="do not have openapi-core judge every exchange of the mock's HTTP tests (it does by default)")


@pytest.fixture(autouse=True)
def openapi_core_validated(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.config.getoption("--no-openapi-core"):
        yield
        return
    recorded: list[httpx.Response] = []
    mockhttp.RECORDERS.append(recorded)
    try:
        yield
    finally:
        mockhttp.RECORDERS.remove(recorded)
    problems = [problem for response in recorded for problem in violations(response)]
    assert not problems, f"openapi-core rejects {len(problems)} exchange(s):\n  " + "\n  ".join(problems[:20])
