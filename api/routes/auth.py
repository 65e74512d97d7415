"""Signing in and out. Outside `/api/v1`: these are the routes that need no principal."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from api.authorization import SESSION_COOKIE, record
from api.deps import IdentityServiceDep, SettingsDep
from api.errors import RateLimited, Unauthenticated
from api.schemas.errors import error_responses
from api.schemas.identity import SignIn
from db.models import User
from kasal.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])


class AuthConfig(BaseModel):
    mode: Literal["local", "oidc", "proxy"]


@router.get("/config", response_model=AuthConfig)
async def config(settings: SettingsDep) -> AuthConfig:
    """How to sign in here: what the sign-in page shows."""
    return AuthConfig(mode=settings.KASAL_AUTH)


@router.post(
    "/login", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(400, 401, 422, 429)
)
async def login(
    body: SignIn, request: Request, response: Response, identity: IdentityServiceDep
) -> None:
    """Check an email and password and set the session cookie."""
    limiter = request.app.state.sign_in_limiter
    client = request.client.host if request.client else "unknown"
    if limiter.blocked(client):
        raise RateLimited("too many failed sign-ins from this address; wait a few minutes")
    user = await identity.check_password(body.email, body.password)
    if user is None:
        limiter.failed(client)
        raise Unauthenticated("wrong email or password")
    await start_session(request, response, identity, user, how="password")


@router.get("/link", status_code=status.HTTP_303_SEE_OTHER, response_class=RedirectResponse)
async def link(
    request: Request, identity: IdentityServiceDep, token: Annotated[str, Query(max_length=200)]
) -> RedirectResponse:
    """Redeem a one-time sign-in link (`kasal dev` prints one) and open the app."""
    user = await identity.redeem_link(token)
    if user is None:
        return RedirectResponse("/#/sign-in?link=expired", status.HTTP_303_SEE_OTHER)
    response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    await start_session(request, response, identity, user, how="link")
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, response: Response, identity: IdentityServiceDep) -> None:
    """End this browser's session (a no-op without one)."""
    session = request.cookies.get(SESSION_COOKIE)
    found = await identity.resolve(session, ("session",)) if session else None
    if found is not None:
        await identity.end(found[0].id)
    response.delete_cookie(SESSION_COOKIE, path="/")


async def start_session(
    request: Request, response: Response, identity: IdentityServiceDep, user: User, *, how: str
) -> None:
    """Set the session cookie and audit the sign-in: every way of signing in ends here
    (password, link, OIDC in api/routes/oidc.py)."""
    settings: Settings = request.app.state.settings
    lifetime = timedelta(hours=settings.KASAL_SESSION_HOURS)
    issued = await identity.issue(user.id, "session", name=how, lifetime=lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or settings.app_url.startswith("https://"),
    )
    await record(request, user.email, None, via="session", action=f"sign-in ({how})")
