"""Single sign-on for browsers (``KASAL_AUTH=oidc``): the authorization-code flow with
PKCE, ending in the same session cookie a password sign-in sets.

``/auth/oidc/login`` keeps the state, nonce, PKCE verifier and where to go afterwards in
a short-lived HttpOnly cookie, signed with a key derived from the instance secret, and
sends the browser to the issuer. ``/auth/oidc/callback`` checks that the issuer sent
back the same state, redeems the code with the verifier, checks the id_token (and its
nonce), and starts the session. Where it goes afterwards is only ever a path here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse

from api.deps import IdentityServiceDep, SecretsDep
from api.errors import NotFound, Unauthenticated
from api.oidc import OidcProvider
from api.routes.auth import start_session
from api.schemas.errors import error_responses
from db.secrets import SecretBox

router = APIRouter(prefix="/auth/oidc", tags=["auth"])

STATE_COOKIE = "kasal_oidc"
STATE_COOKIE_PATH = "/auth/oidc"
# How long a browser may take at the issuer's sign-in page.
STATE_LIFETIME_SECONDS = 600
_KEY_LABEL = "oidc-state"


def _provider(request: Request) -> OidcProvider:
    provider: OidcProvider | None = getattr(request.app.state, "oidc", None)
    if provider is None:
        raise NotFound("single sign-on is off here: KASAL_AUTH is not oidc")
    return provider


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/``: never another origin
    (``https://evil``, ``//evil``, ``/\\evil`` or one with control characters)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _sign(box: SecretBox, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(box.derive(_KEY_LABEL), body, hashlib.sha256).digest()
    return f"{body.decode()}.{base64.urlsafe_b64encode(mac).decode()}"


def _unsign(box: SecretBox, cookie: str | None) -> dict[str, Any]:
    if not cookie:
        raise Unauthenticated("this sign-in was not started here, or took too long: start it again")
    body, _, mac = cookie.partition(".")
    expected = hmac.new(box.derive(_KEY_LABEL), body.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(base64.urlsafe_b64decode(mac.encode()), expected)
        payload = json.loads(base64.urlsafe_b64decode(body.encode())) if valid else None
    except ValueError:
        valid, payload = False, None
    if not valid or not isinstance(payload, dict):
        raise Unauthenticated("the sign-in state cookie has been tampered with")
    if float(payload.get("expires", 0)) < time.time():
        raise Unauthenticated("this sign-in took too long: start it again")
    return payload


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.app_url.startswith(
        "https://"
    )


@router.get(
    "/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=error_responses(404, 503),
)
async def oidc_login(
    request: Request,
    box: SecretsDep,
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> RedirectResponse:
    """Sign in with the OIDC issuer ("Sign in with SSO"), then open `next` (a path here)."""
    authorization = await _provider(request).authorization()
    response = RedirectResponse(authorization.url, status.HTTP_302_FOUND)
    state = {
        "state": authorization.state,
        "nonce": authorization.nonce,
        "verifier": authorization.code_verifier,
        "next": local_path(next_path),
        "expires": time.time() + STATE_LIFETIME_SECONDS,
    }
    response.set_cookie(
        STATE_COOKIE,
        _sign(box, state),
        max_age=STATE_LIFETIME_SECONDS,
        path=STATE_COOKIE_PATH,
        httponly=True,
        # Lax: the issuer's redirect back is a top-level GET, which carries it.
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get(
    "/callback",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses=error_responses(401, 404, 503),
)
async def oidc_callback(
    request: Request,
    box: SecretsDep,
    identity: IdentityServiceDep,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> RedirectResponse:
    """Where the issuer sends the browser back: start the session, then open `next`."""
    provider = _provider(request)
    started = _unsign(box, request.cookies.get(STATE_COOKIE))
    if not state or not hmac.compare_digest(state, str(started.get("state", ""))):
        raise Unauthenticated("the sign-in state does not match this browser's: start again")
    if error is not None:
        described = f": {error_description}" if error_description else ""
        raise Unauthenticated(f"the identity provider refused the sign-in ({error}{described})")
    if not code:
        raise Unauthenticated("the identity provider sent no sign-in code")
    claims = await provider.redeem(code, str(started["verifier"]), str(started["nonce"]))
    user = await identity.provision(claims.email, name=claims.name)
    response = RedirectResponse(local_path(started.get("next")), status.HTTP_303_SEE_OTHER)
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    await start_session(request, response, identity, user, how="oidc")
    return response
