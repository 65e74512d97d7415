"""A small OpenID Connect issuer over HTTP, for the tests of ``KASAL_AUTH=oidc``.

It serves discovery, a JWKS, an authorization endpoint that signs the user in at once
and redirects back with a code, and a token endpoint that checks the client's secret,
the redirect URI and the PKCE verifier before it returns an id_token. Its keys are made
with ``cryptography``; ``rotate`` replaces them with a new one under a new kid.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.conftest import free_port


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    @classmethod
    def make(cls, algorithm: str) -> SigningKey:
        private: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(f"{algorithm.lower()}-{secrets.token_hex(4)}", algorithm, private)

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        encoded = (
            RSAAlgorithm.to_jwk(public, as_dict=True)
            if self.algorithm == "RS256"
            else ECAlgorithm.to_jwk(public, as_dict=True)
        )
        return {**encoded, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass
class Grant:
    challenge: str
    redirect_uri: str
    nonce: str


@dataclass
class Issuer:
    client_id: str
    client_secret: str
    email: str = "Sam.SSO@Kasal.test"
    name: str = "Sam Sso"
    port: int = field(default_factory=free_port)
    key: SigningKey = field(default_factory=lambda: SigningKey.make("RS256"))
    jwks_fetches: int = 0
    # A test may make the issuer answer with another nonce than the one it was sent.
    nonce_override: str | None = None
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rotate(self, algorithm: str = "ES256") -> SigningKey:
        """Publish a new key under a new kid, and no longer the old one."""
        old, self.key = self.key, SigningKey.make(algorithm)
        return old

    def token(
        self,
        *,
        aud: str,
        iss: str | None = None,
        expires_in: int = 300,
        key: SigningKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A JWT this issuer (or ``key``, under ``kid``) signed."""
        key = key or self.key
        now = int(time.time())
        body = {
            "iss": iss or self.url,
            "sub": "user-1",
            "aud": aud,
            "iat": now,
            "exp": now + expires_in,
            "email": self.email,
            "name": self.name,
            **claims,
        }
        headers = {"kid": kid or key.kid}
        return jwt.encode(body, key.private, algorithm=key.algorithm, headers=headers)

    # The endpoints

    async def _discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def _jwks(self, _: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse({"keys": [self.key.jwk()]})

    async def _authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.authorize_requests.append(query)
        problems = [
            name
            for name, ok in (
                ("response_type", query.get("response_type") == "code"),
                ("client_id", query.get("client_id") == self.client_id),
                ("scope", "openid" in query.get("scope", "").split()),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
                ("code_challenge", bool(query.get("code_challenge"))),
                ("state", bool(query.get("state"))),
                ("nonce", bool(query.get("nonce"))),
            )
            if not ok
        ]
        if problems:
            return JSONResponse({"error": "invalid_request", "bad": problems}, 400)
        code = secrets.token_urlsafe(16)
        self._grants[code] = Grant(query["code_challenge"], query["redirect_uri"], query["nonce"])
        back = urlencode({"code": code, "state": query["state"]})
        return RedirectResponse(f"{query['redirect_uri']}?{back}", 302)

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, 400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "bad": "redirect_uri"}, 400)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return JSONResponse({"error": "invalid_grant", "bad": "code_verifier"}, 400)
        id_token = self.token(aud=self.client_id, nonce=self.nonce_override or grant.nonce)
        return Response(
            json.dumps({"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}),
            media_type="application/json",
        )

    # Serving

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task
