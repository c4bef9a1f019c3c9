"""The simulated network and the webhooks, built from the mock's settings and added to its app."""

from __future__ import annotations

from typing import Any, Callable

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


class Network:
    """The network simulation and the webhook sender of one mock, shared by its workspaces."""

    def __init__(self, spec: dict[str, Any], config: MockConfig) -> None:
        self.spec = spec
        self.control_token = config.control_token
        self.finder = OperationFinder(spec)
        self.store = network_store(config, self.finder)
        self.sender = webhook_sender(config)
        self.events = SpecEvents(spec)

    def attach(self, state: MockState) -> None:
        """A workspace's state (new or the default): its writes send webhooks, its health shows
        the network settings."""
        state.domain.listeners.append(self.sender.listener(self.events))
        state.health_sections.append(network_controls.health_section(self.store))
        state.health_sections.append(lambda workspace: {"webhooks": self.sender.summary()})

    def forget(self, workspace: str) -> None:
        """A workspace was deleted: its fault and latency settings go with it."""
        self.store.forget(workspace)

    def install(self, app: Any, origin_allowed: Callable[[str], bool]) -> None:
        """Add the network middleware and its controls to a Connexion AsyncApp (`origin_allowed`:
        the CORS rule, for the controls' refusal of writes from foreign pages)."""
        # Before routing, security and validation: a fault is answered before anything runs.
        app.add_middleware(NetworkMiddleware, position=MiddlewarePosition.BEFORE_ROUTING,
                           store=self.store, finder=self.finder)
        for path, endpoint, methods in network_controls.routes(self.store, self.finder, self.control_token, origin_allowed):
            app.add_url_rule(path, path, endpoint, methods=methods)
        for path, endpoint, methods in network_controls.webhook_routes(self.sender, self.control_token, origin_allowed):
            app.add_url_rule(path, path, endpoint, methods=methods)
        app.network_store, app.webhook_sender = self.store, self.sender
