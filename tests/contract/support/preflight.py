"""Whether the suite was given a target it can judge: one that answers, serves the API, and takes
the configured token. When it is not, the run stops at once with a configuration error instead
of reporting every rule as broken.

`check_target` asks before the first test (one index of actions with the configured token), and
again when a later request sent with the configured token in the configured form is answered 401
(tests of the auth rules send wrong tokens on purpose, and are not asked): refused there too, the
token was revoked meanwhile; taken there, that 401 is the server's, and a rule judges it.
"""

from __future__ import annotations

from .target import AuthMode, Target
from .transport import TargetUnavailable

PROBE = ("POST", "/v2/action/index")
REFUSED_TOKEN_STATUSES = (401, 403)
NO_API_STATUSES = (404, 405)
TOKEN_OPTION = "--token / CONTRACT_TOKEN"
URL_OPTION = "--target-url / CONTRACT_TARGET_URL"


class ConfigurationError(RuntimeError):
    """The suite cannot judge this target as configured: no test may run (and none is a finding)."""


def _form(target: Target) -> str:
    return "the `access-token` query parameter" if target.auth_mode is AuthMode.QUERY else "Authorization: Bearer"


def token_refused(target: Target, request: str, status: int) -> ConfigurationError:
    return ConfigurationError(
        f"configuration error: the target refuses the token of {TOKEN_OPTION}: {request} with it "
        f"(as {_form(target)}, --auth-mode {target.auth_mode.value}) answered {status}. "
        "Give a token the server accepts; no rule was judged."
    )


def check_target(target: Target) -> None:
    """Raise ConfigurationError when the target does not answer, does not serve the API at its
    URL, or refuses the configured token."""
    method, path = PROBE
    request = f"{method} {target.base_url}{path}"
    try:
        answer = target.request(method, path, json={"per-page": 1})
    except TargetUnavailable as unavailable:
        raise ConfigurationError(f"configuration error: {URL_OPTION} {target.base_url} does not answer: {unavailable}") from None
    if answer.status_code in REFUSED_TOKEN_STATUSES:
        raise token_refused(target, request, answer.status_code)
    if answer.status_code in NO_API_STATUSES:
        raise ConfigurationError(
            f"configuration error: {URL_OPTION} {target.base_url} does not serve the API: {request} answered "
            f"{answer.status_code} (the URL is the server's base, without /v2); no rule was judged."
        )
