"""`kasal user`, `kasal token`, `kasal workspace` (on the server's host, straight on the
database) and `kasal login` / `logout` / `whoami` (over HTTP, as any client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from kasal.settings import get_settings

user_app = typer.Typer(help="Manage users (on the server's host).", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens (on the server's host).", no_args_is_help=True)
workspace_app = typer.Typer(help="Manage workspaces (on the server's host).", no_args_is_help=True)

T = TypeVar("T")
RoleOption = Annotated[
    str, typer.Option("--role", help="viewer, operator, editor or admin", show_default=True)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _roles() -> tuple[str, ...]:
    from workflows.roles import ROLE_ORDER

    return tuple(role.value for role in ROLE_ORDER)


def _out(as_json: bool, data: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(data) if as_json else text)


def _with_accounts(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(accounts)`` on the settings' database; domain errors become exit 1."""
    from api.errors import BadRequest, Conflict, NotFound
    from kasal.accounts import Accounts

    accounts = Accounts(get_settings())

    async def run() -> T:
        try:
            return await work(accounts)
        finally:
            await accounts.close()

    try:
        return asyncio.run(run())
    except (BadRequest, Conflict, NotFound) as error:
        typer.secho(str(error), err=True, fg="red")
        raise typer.Exit(1) from error


def _role(value: str) -> Any:
    from workflows.roles import Role

    if value not in _roles():
        typer.secho(f"--role must be one of {', '.join(_roles())}", err=True, fg="red")
        raise typer.Exit(2)
    return Role(value)


@user_app.command("add")
def user_add(
    email: str,
    role: RoleOption = "viewer",
    workspace: Annotated[str, typer.Option(help="Workspace id or name")] = "default",
    as_json: JsonOption = False,
) -> None:
    """Add a user (with a personal workspace) and give them ROLE in WORKSPACE."""
    chosen = _role(role)
    user = _with_accounts(
        lambda accounts: accounts.identity.add_user(email, role=chosen, workspace=workspace)
    )
    data = {"id": str(user.id), "email": user.email, "role": role, "workspace": workspace}
    _out(as_json, data, f"{user.email} is {role} in {workspace}")


@user_app.command("reset-password")
def user_reset_password(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password: asked for, or read from stdin; never an argument on the
    command line, where other users of the host could read it."""
    import sys

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        # Prompts on stderr, so that stdout holds only the answer (`--json`).
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    _with_accounts(lambda accounts: accounts.identity.set_password(email, password))
    _out(as_json, {"email": email.strip().lower()}, f"password set for {email}")


@token_app.command("create")
def token_create(
    email: str,
    expires: Annotated[str, typer.Option(help="Lifetime: 30d, 12h, 45m")] = "30d",
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Print a new personal API token of EMAIL (`Authorization: Bearer kasal_…`)."""
    from api.errors import NotFound
    from kasal.accounts import parse_duration

    try:
        lifetime = parse_duration(expires)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--expires") from error

    async def create(accounts: Any) -> Any:
        async with accounts.identity.uow as uow:
            user = await uow.users.by_email(email.strip().lower())
        if user is None:
            raise NotFound(f"no user {email!r}")
        return await accounts.identity.issue(user.id, "token", name=name, lifetime=lifetime)

    issued = _with_accounts(create)
    expires_at = issued.credential.expires_at
    data = {"token": issued.secret, "id": str(issued.credential.id), "expires_at": str(expires_at)}
    _out(as_json, data, issued.secret)


@workspace_app.command("create")
def workspace_create(name: str, as_json: JsonOption = False) -> None:
    """Create a shared workspace; the first admin of `default` becomes its admin."""
    from api.errors import NotFound

    async def create(accounts: Any) -> Any:
        async with accounts.identity.uow as uow:
            first = await uow.users.first()
        if first is None:
            raise NotFound("no users yet: `kasal user add EMAIL --role admin` first")
        return await accounts.workspaces.create(name, first.id)

    created = _with_accounts(create)
    _out(
        as_json,
        {"id": created.id, "name": created.name},
        f"workspace {created.name} ({created.id})",
    )


@workspace_app.command("add")
def workspace_add(
    name: str, email: str, role: RoleOption = "viewer", as_json: JsonOption = False
) -> None:
    """Give EMAIL a role in workspace NAME (id or name)."""
    chosen = _role(role)
    from api.errors import NotFound

    async def add(accounts: Any) -> Any:
        async with accounts.identity.uow as uow:
            workspace = await uow.workspaces.by_id_or_name(name)
        if workspace is None:
            raise NotFound(f"no workspace {name!r}")
        await accounts.workspaces.put_member(workspace.id, email, chosen)
        return workspace

    workspace = _with_accounts(add)
    data = {"workspace": workspace.id, "email": email, "role": role}
    _out(as_json, data, f"{email} is {role} in {workspace.name}")


def login(
    url: Annotated[str | None, typer.Option(help="The Kasal to sign in to")] = None,
    token: Annotated[
        str | None, typer.Option(help="Store this API token instead of signing in")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign in and store a personal API token for the commands that follow."""
    import httpx

    from kasal.client import Credentials, api_client, save_credentials

    base = (url or get_settings().app_url).rstrip("/")
    if token is None:
        email = typer.prompt("Email")
        password = typer.prompt("Password", hide_input=True)
        # The same sign-in as the app's; then a token, asked for as that browser would.
        with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as browser:
            signed_in = browser.post("/auth/login", json={"email": email, "password": password})
            if signed_in.status_code != 204:
                typer.secho(_detail(signed_in), err=True, fg="red")
                raise typer.Exit(1)
            created = browser.post("/api/v1/me/tokens", json={"name": "kasal login"})
            created.raise_for_status()
            token = str(created.json()["token"])
            browser.post("/auth/logout")
    with api_client(Credentials(base, token)) as api:
        me = api.get("/me")
    if me.status_code != 200:
        typer.secho(_detail(me), err=True, fg="red")
        raise typer.Exit(1)
    email = me.json()["user"]["email"]
    path = save_credentials(Credentials(base, token, email))
    _out(as_json, {"url": base, "email": email}, f"logged in to {base} as {email} ({path})")


def logout(as_json: JsonOption = False) -> None:
    """Forget the stored token (it stays valid until revoked in the app)."""
    from kasal.client import forget_credentials

    forgotten = forget_credentials()
    _out(as_json, {"logged_out": forgotten}, "logged out" if forgotten else "not logged in")


def whoami(as_json: JsonOption = False) -> None:
    """Who the stored token signs in as, and their workspaces."""
    from kasal.client import NotLoggedIn, api_client

    try:
        with api_client() as api:
            me = api.get("/me")
    except NotLoggedIn as error:
        typer.secho(str(error), err=True, fg="red")
        raise typer.Exit(1) from error
    if me.status_code != 200:
        typer.secho(_detail(me), err=True, fg="red")
        raise typer.Exit(1)
    data = me.json()
    roles = ", ".join(f"{w['name']} ({w['role']})" for w in data["workspaces"])
    _out(as_json, data, f"{data['user']['email']}: {roles}")


def _detail(response: Any) -> str:
    try:
        return str(response.json()["detail"])
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
