"""Build the mock: the bundled spec served by Connexion over the in-memory domain."""

from __future__ import annotations

import copy
from typing import Any

from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from . import controls, handlers, network_setup, problems, security
from .config import MockConfig
from .domain.clock import Clock
from .domain.service import Domain
from .resources import read_resources
from .seed import read_seed, without_entities
from .spec import load_spec
from .state_format import StateChecker
from .validation import add_input_middleware, validator_map


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
    domain = Domain(read_resources(spec), Clock(config.today), check_body=checker.check_entity)
    seed = read_seed(config.seed_path)
    state = controls.MockState(
        domain=domain, seed=without_entities(seed) if config.empty else seed, checker=checker,
        control_token=config.control_token,
    )
    state.reset()  # loads the seed for today; a StateError (a ValueError) when it does not load
    tokens = security.Tokens(config.tokens, config.users)

    app = AsyncApp(__name__, swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"))
    app.add_api(
        served_spec(spec),
        resolver=Resolver(function_resolver=handlers.function_resolver(domain)),
        strict_validation=True,
        validate_responses=config.validate_responses,
        validator_map=validator_map(),
        security_map=security.security_map(tokens),
    )
    problems.add_error_handlers(app)
    add_input_middleware(app, spec)
    app.add_url_rule(security.TOKEN_PATH, "token", security.token_endpoint(tokens), methods=["POST"])
    for path, endpoint, methods in controls.routes(state):
        app.add_url_rule(path, path, endpoint, methods=methods)
    network_setup.install(app, spec, config, state)
    app.mock_state = state  # type: ignore[attr-defined]  # for in-process tests
    return app
