"""Build the mock: the bundled spec served by Connexion over the in-memory domain."""

from __future__ import annotations

import copy
from typing import Any

from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from jsonschema.exceptions import best_match

from . import controls, handlers, problems, security
from .config import MockConfig
from .domain.clock import Clock
from .domain.service import Domain
from .resources import SEGMENTS, read_resources, schema_name
from .seed import read_seed, without_entities
from .spec import load_spec
from .validation import add_input_middleware, error_field, error_message, schema_validator, validator_map


def served_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the mock serves it: its OAuth2 token URL points at the mock itself, so the
    docs' Authorize button and a frontend's real login work locally."""
    spec = copy.deepcopy(spec)
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    flows["password"]["tokenUrl"] = security.TOKEN_PATH
    return spec


def create_body_checker(spec: dict[str, Any]):
    """Checks a create body against the resource's `XCreate` schema, as the API does."""
    validators = {
        segment: schema_validator({"$ref": f"#/components/schemas/{schema_name(segment)}Create"}, spec=spec)
        for segment in SEGMENTS
    }

    def check(segment: str, body: dict[str, Any]) -> None:
        error = best_match(validators[segment].iter_errors(body))
        if error is not None:
            raise ValueError(f"{error_field(error)}: {error_message(error)}")

    return check


def create_app(config: MockConfig | None = None) -> AsyncApp:
    config = config or MockConfig()
    spec = load_spec()
    domain = Domain(read_resources(spec), Clock(config.today), check_body=create_body_checker(spec))
    seed = read_seed(config.seed_path)
    initial = without_entities(seed) if config.empty else seed
    domain.load(initial)
    state = controls.MockState(domain=domain, initial=initial)
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
    app.mock_state = state  # type: ignore[attr-defined]  # for in-process tests
    return app
