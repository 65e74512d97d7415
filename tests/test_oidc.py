"""KASAL_AUTH=oidc against a real issuer over HTTP (tests/oidc_issuer.py): bearer JWTs
checked against its JWKS (signature, exp, aud, iss, rotated keys), and the browser's
authorization-code flow with PKCE, which ends in the session cookie."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.authorization import SESSION_COOKIE
from api.routes.oidc import STATE_COOKIE
from tests.api_stack import ApiStack, bearer
from tests.oidc_issuer import Issuer, SigningKey

CLIENT_ID = "kasal-web"
CLIENT_SECRET = "issuer-client-secret"
AUDIENCE = "kasal-api"


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    issuer = Issuer(CLIENT_ID, CLIENT_SECRET)
    await issuer.start()
    try:
        yield issuer
    finally:
        await issuer.stop()


async def _in_oidc_mode(api: ApiStack, issuer: Issuer) -> None:
    await api.restart_api_with(
        KASAL_AUTH="oidc",
        KASAL_OIDC_ISSUER=issuer.url,
        KASAL_OIDC_CLIENT_ID=CLIENT_ID,
        KASAL_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        KASAL_OIDC_AUDIENCE=AUDIENCE,
    )


async def _me(api: ApiStack, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{api.server.url}/api/v1", timeout=30) as client:
        return await client.get("/me", headers=bearer(token))


async def test_bearer_jwts_are_checked_against_the_issuer(api: ApiStack, issuer: Issuer) -> None:
    # Until KASAL_AUTH=oidc, a JWT is no credential and single sign-on is off.
    refused = await _me(api, issuer.token(aud=AUDIENCE))
    assert refused.status_code == 401
    assert "kasal_" in refused.json()["detail"]
    async with httpx.AsyncClient(base_url=api.server.url) as browser:
        assert (await browser.get("/auth/oidc/login")).status_code == 404

    await _in_oidc_mode(api, issuer)
    accepted = await _me(api, issuer.token(aud=AUDIENCE))
    assert accepted.status_code == 200, accepted.text
    me = accepted.json()
    assert me["auth"] == "oidc"
    assert me["user"]["email"] == "sam.sso@kasal.test"  # the email claim, lowercased
    assert me["user"]["name"] == "Sam Sso"
    # Provisioned on first sight: a viewer of `default`.
    assert me["workspace"]["id"] == "default"
    assert me["workspace"]["role"] == "viewer"
    config = (await api.http.get(f"{api.server.url}/auth/config")).json()
    assert config == {"mode": "oidc"}

    stranger = SigningKey.make("RS256")
    cases = {
        "for another audience": (issuer.token(aud="someone-else"), "audience"),
        "from another issuer": (issuer.token(aud=AUDIENCE, iss="http://evil.test"), "issued"),
        "expired": (issuer.token(aud=AUDIENCE, expires_in=-3600), "expired"),
        # The issuer's kid, but not its key.
        "badly signed": (
            issuer.token(aud=AUDIENCE, key=stranger, kid=issuer.key.kid),
            "signature",
        ),
        "without an email": (issuer.token(aud=AUDIENCE, email=None), "email"),
        "with an unverified email": (
            issuer.token(aud=AUDIENCE, email_verified=False),
            "not verified",
        ),
        "not a JWT": ("not-a-jwt", "not a JWT"),
    }
    for case, (token, says) in cases.items():
        answer = await _me(api, token)
        assert answer.status_code == 401, (case, answer.text)
        assert says in answer.json()["detail"], (case, answer.json())
        assert answer.headers["www-authenticate"].startswith("Bearer")
    # API tokens still work alongside.
    assert (await api.http.get("/me")).json()["auth"] == "token"


async def test_a_rotated_key_is_fetched_once_and_the_old_one_dropped(
    api: ApiStack, issuer: Issuer
) -> None:
    await _in_oidc_mode(api, issuer)
    assert (await _me(api, issuer.token(aud=AUDIENCE))).status_code == 200
    assert (await _me(api, issuer.token(aud=AUDIENCE))).status_code == 200
    fetched = issuer.jwks_fetches
    assert fetched == 1  # the keys are cached

    old = issuer.rotate("ES256")  # a new key, of another type, under a new kid
    answer = await _me(api, issuer.token(aud=AUDIENCE))
    assert answer.status_code == 200, answer.text
    assert issuer.jwks_fetches == fetched + 1
    assert (await _me(api, issuer.token(aud=AUDIENCE))).status_code == 200
    assert issuer.jwks_fetches == fetched + 1

    # The retired key is no longer published: its tokens are refused.
    retired = await _me(api, issuer.token(aud=AUDIENCE, key=old))
    assert retired.status_code == 401
    assert "does not publish" in retired.json()["detail"]


async def _sign_in(
    api: ApiStack, browser: httpx.AsyncClient, next_path: str
) -> tuple[httpx.Response, str]:
    """Start the flow and follow the issuer back: the callback's URL, not yet opened."""
    started = await browser.get(f"{api.server.url}/auth/oidc/login", params={"next": next_path})
    assert started.status_code == 302, started.text
    assert STATE_COOKIE in browser.cookies
    at_issuer = await browser.get(started.headers["location"])
    assert at_issuer.status_code == 302, at_issuer.text
    return started, at_issuer.headers["location"]


async def test_the_browser_signs_in_with_pkce_and_gets_a_session(
    api: ApiStack, issuer: Issuer
) -> None:
    await _in_oidc_mode(api, issuer)
    async with httpx.AsyncClient(timeout=30) as browser:
        started, callback = await _sign_in(api, browser, "/#/runs")
        asked = dict(parse_qs(urlsplit(started.headers["location"]).query))
        assert asked["response_type"] == ["code"]
        assert asked["client_id"] == [CLIENT_ID]
        assert asked["redirect_uri"] == [f"{api.server.url}/auth/oidc/callback"]
        assert asked["scope"] == ["openid email profile"]
        assert asked["code_challenge_method"] == ["S256"]
        cookie = next(c for c in browser.cookies.jar if c.name == STATE_COOKIE)
        assert cookie.path == "/auth/oidc"
        assert cookie.has_nonstandard_attr("HttpOnly")

        # The issuer's token endpoint checks the verifier against the challenge.
        signed_in = await browser.get(callback)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/#/runs"
        assert SESSION_COOKIE in browser.cookies
        assert STATE_COOKIE not in browser.cookies

        me = await browser.get(f"{api.server.url}/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["auth"] == "session"
        assert me.json()["user"]["email"] == "sam.sso@kasal.test"
        # EventSource sends no headers: the cookie alone authenticates the stream (404
        # for a run that does not exist, not 401).
        stream = await browser.get(f"{api.server.url}/api/v1/runs/{uuid.uuid4()}/events")
        assert stream.status_code == 404, stream.text

        # The code was spent: replaying the callback does not sign in again.
        browser.cookies.delete(SESSION_COOKIE)
        replayed = await browser.get(callback)
        assert replayed.status_code == 401
    entries = (await api.http.get("/audit")).json()["items"]
    assert any(e["action"] == "sign-in (oidc)" for e in entries)


async def test_a_forged_state_or_nonce_and_a_foreign_next_are_refused(
    api: ApiStack, issuer: Issuer
) -> None:
    await _in_oidc_mode(api, issuer)
    async with httpx.AsyncClient(timeout=30) as browser:
        # A state other than the one this browser started with.
        _, callback = await _sign_in(api, browser, "/")
        forged = callback.replace("state=", "state=x")
        refused = await browser.get(forged)
        assert refused.status_code == 401
        assert "state does not match" in refused.json()["detail"]
        assert SESSION_COOKIE not in browser.cookies

        # A state cookie someone edited (here: to another `next`).
        _, callback = await _sign_in(api, browser, "/")
        cookie = browser.cookies[STATE_COOKIE]
        body, _, mac = cookie.partition(".")
        browser.cookies.set(
            STATE_COOKIE, f"{body[:-4]}AAAA.{mac}", domain="127.0.0.1", path="/auth/oidc"
        )
        refused = await browser.get(callback)
        assert refused.status_code == 401
        assert "tampered" in refused.json()["detail"]

        # A callback without the cookie at all.
        _, callback = await _sign_in(api, browser, "/")
        async with httpx.AsyncClient(timeout=30) as other_browser:
            refused = await other_browser.get(callback)
        assert refused.status_code == 401

        # An id_token whose nonce is not this sign-in's.
        issuer.nonce_override = "someone-elses-nonce"
        _, callback = await _sign_in(api, browser, "/")
        refused = await browser.get(callback)
        assert refused.status_code == 401
        assert "nonce" in refused.json()["detail"]
        issuer.nonce_override = None

        # `next` is only ever a path here.
        for foreign in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            browser.cookies.clear()
            _, callback = await _sign_in(api, browser, foreign)
            signed_in = await browser.get(callback)
            assert signed_in.status_code == 303, (foreign, signed_in.text)
            assert signed_in.headers["location"] == "/", foreign
