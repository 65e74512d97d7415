"""Sign-in through an OpenID Connect issuer (``KASAL_AUTH=oidc``).

- **Bearer JWTs** (scripts): the signature is checked against the issuer's JWKS (found
  by discovery), then ``exp``, ``aud`` (KASAL_OIDC_AUDIENCE, else the client id) and
  ``iss``. A token signed by a key the cached JWKS does not have makes it fetched again,
  once: that is how a rotated key is picked up. Refetches are coalesced and at most one
  per ``JWKS_REFETCH_SECONDS``, so tokens with made-up key ids cannot flood the issuer.
- **Browsers**: the authorization-code flow with PKCE (api/routes/oidc.py). The id_token
  is checked as a bearer token is, with the client id as its audience, and its nonce.

The user is the token's ``email`` claim, lowercased (IdentityService.provision creates
them, a viewer of `default`, on first sight). An ``email_verified`` of false is refused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from api.errors import Unauthenticated, Unavailable
from api.services.identity import IdentityService
from db.models import User
from kasal.settings import Settings

ALGORITHMS = ["RS256", "ES256"]
# Clock skew tolerated on exp, nbf and iat.
LEEWAY_SECONDS = 30
JWKS_REFETCH_SECONDS = 1.0
HTTP_TIMEOUT_SECONDS = 10.0
SCOPES = "openid email profile"


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what the callback must find again."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Claims:
    email: str
    name: str


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcProvider:
    """One issuer: its discovery document, its keys, and the client Kasal is to it."""

    def __init__(self, settings: Settings) -> None:
        if not settings.KASAL_OIDC_ISSUER:
            raise RuntimeError("KASAL_AUTH=oidc needs KASAL_OIDC_ISSUER")
        if not (settings.KASAL_OIDC_AUDIENCE or settings.KASAL_OIDC_CLIENT_ID):
            raise RuntimeError(
                "KASAL_AUTH=oidc needs KASAL_OIDC_CLIENT_ID (or KASAL_OIDC_AUDIENCE for "
                "bearer tokens only)"
            )
        self.issuer = settings.KASAL_OIDC_ISSUER.rstrip("/")
        self.client_id = settings.KASAL_OIDC_CLIENT_ID
        self.client_secret = settings.KASAL_OIDC_CLIENT_SECRET
        self.audience = settings.KASAL_OIDC_AUDIENCE or settings.KASAL_OIDC_CLIENT_ID
        self.redirect_uri = f"{settings.app_url}/auth/oidc/callback"
        self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS)
        self._metadata: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None
        self._discovery_lock = asyncio.Lock()
        self._refetch_lock = asyncio.Lock()
        self._fetched_at = float("-inf")

    async def close(self) -> None:
        await self._http.aclose()

    # Discovery and keys

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched on first use (and again after a failure)."""
        if self._metadata is not None:
            return self._metadata
        async with self._discovery_lock:
            if self._metadata is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                document = await self._get_json(url, "its discovery document")
                for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(document.get(key), str):
                        raise Unavailable(f"the OIDC discovery document at {url} has no {key}")
                if document["issuer"].rstrip("/") != self.issuer:
                    raise Unavailable(
                        f"the OIDC discovery document names the issuer {document['issuer']!r}, "
                        f"not KASAL_OIDC_ISSUER {self.issuer!r}"
                    )
                self._jwks = jwt.PyJWKClient(
                    document["jwks_uri"],
                    cache_keys=False,
                    cache_jwk_set=True,
                    lifespan=3600,
                    timeout=int(HTTP_TIMEOUT_SECONDS),
                )
                self._metadata = document
        return self._metadata

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Unavailable(f"the OIDC issuer's {what} could not be read: {error}") from None
        if not isinstance(document, dict):
            raise Unavailable(f"the OIDC issuer's {what} is not a JSON object")
        return document

    async def _signing_key(self, token: str) -> Any:
        """The issuer's key that signed ``token``, refetching the JWKS once if its kid is
        not among the cached keys (the issuer rotated its keys)."""
        await self.metadata()
        assert self._jwks is not None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the bearer token is not a JWT: {error}") from None
        missed_at = time.monotonic()
        key = await self._find_key(kid, refresh=False)
        if key is None:
            async with self._refetch_lock:
                # Requests that missed while another refetched use what it fetched.
                if self._fetched_at < missed_at:
                    wait = self._fetched_at + JWKS_REFETCH_SECONDS - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self._find_key(kid, refresh=True)
                    self._fetched_at = time.monotonic()
            key = await self._find_key(kid, refresh=False)
        if key is None:
            raise Unauthenticated(
                f"the token was signed by a key the issuer does not publish (kid {kid!r})"
            )
        return key.key

    async def _find_key(self, kid: str | None, *, refresh: bool) -> jwt.PyJWK | None:
        client = self._jwks
        assert client is not None
        try:
            keys = await asyncio.to_thread(client.get_signing_keys, refresh)
        except jwt.PyJWKClientConnectionError as error:
            raise Unavailable(f"the OIDC issuer's keys could not be fetched: {error}") from None
        except jwt.PyJWKClientError:
            return None  # a JWKS with no signing keys
        if refresh:
            self._fetched_at = time.monotonic()
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.key_id == kid), None)

    # Tokens

    async def verify(
        self, token: str, *, audience: str | None = None, nonce: str | None = None
    ) -> Claims:
        """The claims of a JWT this issuer signed for ``audience``, still valid."""
        metadata = await self.metadata()
        key = await self._signing_key(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=audience or self.audience,
                issuer=metadata["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(
                f"the token is not for this audience ({audience or self.audience})"
            ) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated(f"the token was not issued by {metadata['issuer']}") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from None
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise Unauthenticated("the id_token's nonce is not this sign-in's")
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise Unauthenticated("the token has no email claim; Kasal knows users by email")
        if claims.get("email_verified") is False:
            raise Unauthenticated("the issuer says this email address is not verified")
        name = claims.get("name") or claims.get("preferred_username") or ""
        return Claims(email.strip().lower(), str(name))

    async def user_from_bearer(self, token: str, identity: IdentityService) -> User:
        """The user a bearer JWT names (api/authorization.py)."""
        claims = await self.verify(token)
        return await identity.provision(claims.email, name=claims.name)

    # The authorization-code flow with PKCE

    async def authorization(self) -> Authorization:
        if not self.client_id:
            raise Unavailable("browser sign-in needs KASAL_OIDC_CLIENT_ID")
        metadata = await self.metadata()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": SCOPES,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        endpoint = metadata["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return Authorization(f"{endpoint}{separator}{query}", state, nonce, verifier)

    async def redeem(self, code: str, code_verifier: str, nonce: str) -> Claims:
        """Exchange an authorization code at the token endpoint; the id_token's claims."""
        metadata = await self.metadata()
        assert self.client_id is not None  # authorization() required it
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": code_verifier,
        }
        auth: httpx.BasicAuth | None = None
        if self.client_secret:
            # client_secret_basic is the default when the issuer names no methods.
            methods = metadata.get("token_endpoint_auth_methods_supported", [])
            if not methods or "client_secret_basic" in methods:
                auth = httpx.BasicAuth(self.client_id, self.client_secret)
            else:
                form["client_secret"] = self.client_secret
        try:
            response = await self._http.post(
                metadata["token_endpoint"], data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as error:
            raise Unavailable(f"the OIDC issuer's token endpoint did not answer: {error}") from None
        if response.status_code != 200:
            raise Unauthenticated(
                f"the OIDC issuer refused the sign-in code ({response.status_code}: "
                f"{response.text[:200]})"
            )
        try:
            id_token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("the OIDC issuer's token response has no id_token") from None
        return await self.verify(str(id_token), audience=self.client_id, nonce=nonce)
