"""Build the mock: the bundled spec served by Connexion over the in-memory domain."""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any, AsyncIterator

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from . import controls, dashboard, handlers, problems, security
from .config import MockConfig
from .cors import add_cors, origin_policy
from .domain.clock import Clock
from .domain.service import Domain
from .network_setup import Network
from .persistence import StateFile
from .resources import read_resources
from .seed import read_seed, without_entities
from .spec import SPEC_PATH, load_spec, spec_endpoint
from .state_format import StateChecker
from .validation import add_input_middleware, validator_map
from .workspaces import DEFAULT_WORKSPACE, DomainRouter, WorkspaceMiddleware, Workspaces

logger = logging.getLogger("mock_server.persistence")


def served_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the mock serves it: its OAuth2 token URL points at the mock itself, so the
    docs' Authorize button and a frontend's real login work locally."""
    spec = copy.deepcopy(spec)
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    flows["password"]["tokenUrl"] = security.TOKEN_PATH
    return spec


def create_app(config: MockConfig | None = None) -> AsyncApp:
    config = config or MockConfig()
    spec = load_spec()
    checker = StateChecker(spec)
    resources = read_resources(spec)
    seed = read_seed(config.seed_path)
    seed = without_entities(seed) if config.empty else seed

    network = Network(spec, config)  # a NetworkConfigError (a ValueError) for a bad setting

    def new_state(workspace: str) -> controls.MockState:
        """A workspace's state: its own domain and clock, loaded from the seed."""
        domain = Domain(resources, Clock(config.today), check_body=checker.check_entity, workspace=workspace)
        state = controls.MockState(domain=domain, seed=seed, checker=checker, control_token=config.control_token)
        state.reset()  # loads the seed for today; a StateError (a ValueError) when it does not load
        network.attach(state)  # after the seed: loading it sends no webhooks
        return state

    default = new_state(DEFAULT_WORKSPACE)
    state_file = None
    if config.state_file is not None:
        state_file = StateFile(config.state_file, default.domain)
        state_file.load(default.import_state)  # a StateError (a ValueError) when it does not load
    workspaces = Workspaces(default, new_state, on_delete=network.forget)
    tokens = security.Tokens(config.tokens, config.users)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        if state_file is not None:  # a graceful stop (SIGINT, SIGTERM): the requests are answered
            try:
                await run_in_threadpool(state_file.save)
            except OSError as error:
                logger.error("cannot save the state to %s: %s", state_file.path, error)

    app = AsyncApp(__name__, lifespan=lifespan, swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs", serve_spec=False))
    app.add_api(
        served_spec(spec),
        resolver=Resolver(function_resolver=handlers.function_resolver(
            DomainRouter(lambda: workspaces.default))),  # type: ignore[arg-type]  # Domain-like
        strict_validation=True,
        validate_responses=config.validate_responses,
        validator_map=validator_map(),
        security_map=security.security_map(tokens),
    )
    problems.add_error_handlers(app)
    # Outermost first: CORS answers preflights before anything else runs.
    if config.cors:
        add_cors(app, config.cors_origins, spec)
    app.add_middleware(WorkspaceMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       workspaces=workspaces, token_path=security.TOKEN_PATH)
    add_input_middleware(app, spec)
    # the bundle with its named components (Connexion's own copy has every $ref inlined)
    app.add_url_rule(SPEC_PATH, "openapi_json", spec_endpoint(served_spec(spec)), methods=["GET"])
    app.add_url_rule(security.TOKEN_PATH, "token", security.token_endpoint(tokens), methods=["POST"])

    async def save() -> Response:
        assert state_file is not None
        written = await run_in_threadpool(state_file.save)
        return controls.AsciiJSONResponse({"saved": str(config.state_file), "bytes": written})

    origin_allowed = origin_policy(config.cors, config.cors_origins)
    for path, endpoint, methods in controls.routes(workspaces, save if state_file else None, origin_allowed):
        app.add_url_rule(path, path, endpoint, methods=methods)
    for path, endpoint, methods in dashboard.routes(workspaces, resources, config.control_token, origin_allowed):
        app.add_url_rule(path, path, endpoint, methods=methods)
    network.install(app, origin_allowed)
    # For in-process tests and the command line:
    app.mock_config = config  # type: ignore[attr-defined]
    app.mock_state = default  # type: ignore[attr-defined]
    app.mock_workspaces = workspaces  # type: ignore[attr-defined]
    app.mock_state_file = state_file  # type: ignore[attr-defined]
    return app
