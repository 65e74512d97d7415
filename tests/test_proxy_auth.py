"""KASAL_AUTH=proxy (Databricks Apps, oauth2-proxy): X-Forwarded-Email names the user,
but only from an address KASAL_TRUSTED_PROXY lists. The tests' client connects from
127.0.0.1, so listing it makes the test the proxy."""

from __future__ import annotations

import httpx

from tests.api_stack import ApiStack

PROXY_HEADERS = {
    "X-Forwarded-Email": "Pat.Proxy@Example.com",
    "X-Forwarded-Preferred-Username": "pat.p",
    # Sent by oauth2-proxy and Databricks Apps; Kasal does not use it (README).
    "X-Forwarded-Access-Token": "an-upstream-access-token",
}


async def _me(api: ApiStack, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{api.server.url}/api/v1", timeout=30) as client:
        return await client.get("/me", headers=headers)


async def test_forwarded_identity_is_trusted_only_from_the_trusted_proxy(api: ApiStack) -> None:
    # In the default mode, the headers mean nothing.
    assert (await _me(api, PROXY_HEADERS)).status_code == 401

    await api.restart_api_with(KASAL_AUTH="proxy", KASAL_TRUSTED_PROXY="127.0.0.1")
    answer = await _me(api, PROXY_HEADERS)
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert me["auth"] == "proxy"
    # Provisioned on the first request: the email lowercased, the proxy's user name.
    assert me["user"]["email"] == "pat.proxy@example.com"
    assert me["user"]["name"] == "pat.p"
    assert me["workspace"] == {
        "id": "default",
        "name": "default",
        "role": "viewer",
        "personal": False,
    }
    assert {w["role"] for w in me["workspaces"]} == {"viewer", "admin"}  # and a personal one
    # The same person again is the same user.
    again = await _me(api, PROXY_HEADERS)
    assert again.json()["user"]["id"] == me["user"]["id"]
    assert (await api.http.get(f"{api.server.url}/auth/config")).json() == {"mode": "proxy"}
    # Without the header there is no principal; API tokens still work.
    assert (await _me(api, {})).status_code == 401
    assert (await api.http.get("/me")).json()["auth"] == "token"
    # A viewer cannot change anything because a proxy vouches for them.
    async with httpx.AsyncClient(base_url=f"{api.server.url}/api/v1", timeout=30) as client:
        refused = await client.post("/workspaces", json={"name": "mine"}, headers=PROXY_HEADERS)
    assert refused.status_code == 403

    # Anyone else who sends the header is not believed.
    for trusted in ("10.0.0.0/8", ""):
        await api.restart_api_with(KASAL_TRUSTED_PROXY=trusted)
        answer = await _me(api, PROXY_HEADERS)
        assert answer.status_code == 401, (trusted, answer.text)

    # CIDR ranges and lists work as well as single addresses.
    await api.restart_api_with(KASAL_TRUSTED_PROXY="10.0.0.0/8, 127.0.0.0/8")
    assert (await _me(api, PROXY_HEADERS)).status_code == 200
