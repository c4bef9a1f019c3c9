"""The simulated network and the webhooks, built from the mock's settings and added to its app."""

from __future__ import annotations

from typing import Any

from connexion.middleware import MiddlewarePosition

from . import network_controls
from .config import MockConfig
from .controls import MockState
from .network import Latency, NetworkMiddleware, NetworkStore, OperationFinder, parse_latency_text, read_rules_file
from .state_format import StateError
from .webhooks import SpecEvents, WebhookSender, check_url


class NetworkConfigError(ValueError):
    """A start-up setting of the network or the webhooks that cannot be used (exit 2)."""


def network_store(config: MockConfig, finder: OperationFinder) -> NetworkStore:
    try:
        latency = Latency(parse_latency_text(config.latency)) if config.latency else Latency()
    except ValueError as error:
        raise NetworkConfigError(f"--latency: {error}") from None
    rules = []
    if config.faults_path is not None:
        try:
            rules = read_rules_file(config.faults_path, finder.operation_ids)
        except OSError as error:
            raise NetworkConfigError(f"--faults: cannot read {config.faults_path}: {error}") from None
        except StateError as error:
            raise NetworkConfigError(f"--faults {config.faults_path}: {error.field}: {error.message}") from None
    return NetworkStore(rules, latency, config.fault_seed)


def webhook_sender(config: MockConfig) -> WebhookSender:
    for url in config.webhook_urls:
        problem = check_url(url)
        if problem:
            raise NetworkConfigError(f"--webhook-url {problem}")
    if config.webhook_secret == "":
        raise NetworkConfigError("--webhook-secret must not be empty")
    return WebhookSender(list(dict.fromkeys(config.webhook_urls)), config.webhook_secret)


def install(app: Any, spec: dict[str, Any], config: MockConfig, state: MockState) -> None:
    """Add the network middleware, its controls and its health section to a Connexion AsyncApp."""
    finder = OperationFinder(spec)
    store = network_store(config, finder)
    # Before routing, security and validation: a fault is answered before anything runs.
    app.add_middleware(NetworkMiddleware, position=MiddlewarePosition.BEFORE_ROUTING, store=store, finder=finder)
    for path, endpoint, methods in network_controls.routes(store, finder, config.control_token):
        app.add_url_rule(path, path, endpoint, methods=methods)
    sender = webhook_sender(config)
    state.domain.listeners.append(sender.listener(SpecEvents(spec)))
    for path, endpoint, methods in network_controls.webhook_routes(sender, config.control_token):
        app.add_url_rule(path, path, endpoint, methods=methods)
    state.health_sections.append(network_controls.health_section(store))
    state.health_sections.append(lambda request: {"webhooks": sender.summary()})
    app.network_store, app.webhook_sender = store, sender
