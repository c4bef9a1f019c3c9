"""Tokens: which are valid, and the OAuth2 password flow that issues more.

Connexion's own security handlers read the token (Bearer header or `access-token` query
parameter) and answer 401; these subclasses only tell them which tokens are valid.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any
from urllib.parse import parse_qs

from connexion.exceptions import OAuthResponseProblem
from connexion.security import ApiKeySecurityHandler, OAuthSecurityHandler
from starlette.requests import Request
from starlette.responses import JSONResponse

# The path of the reference's token URL, served by the mock itself.
TOKEN_PATH = "/realms/4hse/protocol/openid-connect/token"
TOKEN_LIFETIME_SECONDS = 3600
REALM = "4hse"


class Tokens:
    def __init__(self, tokens: tuple[str, ...], users: dict[str, str]) -> None:
        self._tokens = {token: "api" for token in tokens}
        self._users = dict(users)
        self._lock = threading.Lock()

    def info(self, token: str) -> dict[str, Any] | None:
        """Connexion's token info for a valid token, None for any other."""
        subject = self._tokens.get(token)
        return None if subject is None else {"sub": subject, "scope": []}

    def issue(self, username: str, password: str) -> str | None:
        if username not in self._users or not secrets.compare_digest(self._users[username], password):
            return None
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = username
        return token


def security_map(tokens: Tokens) -> dict[str, type]:
    """Connexion security handlers bound to `tokens`."""

    class BearerToken(OAuthSecurityHandler):
        def get_tokeninfo_func(self, security_definition: dict) -> Any:
            return lambda token: tokens.info(token)

    class QueryToken(ApiKeySecurityHandler):
        def _resolve_func(self, security_scheme: dict) -> Any:
            return lambda apikey, required_scopes=None: tokens.info(apikey)

    return {"oauth2": BearerToken, "apiKey": QueryToken}


def www_authenticate(problem: Exception) -> str:
    """The `WWW-Authenticate` challenge of a 401 (RFC 6750 section 3). Connexion raises
    OAuthResponseProblem when a token came (Bearer header or `access-token` query) but is not
    valid, and a plain OAuthProblem when none did."""
    if isinstance(problem, OAuthResponseProblem):
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'


def token_endpoint(tokens: Tokens):
    """POST TOKEN_PATH, form `grant_type=password&username=..&password=..` (as Keycloak takes it)."""

    async def issue_token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "password":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "only the password grant"}, 400)
        token = tokens.issue(form.get("username", ""), form.get("password", ""))
        if token is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid user credentials"}, 401)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS, "scope": ""}
        )

    return issue_token
