"""What every command that talks to the API shares: the options (`--workspace`, `--json`),
one client that turns every failure into a readable message and an exit code, and output.

Exit codes, the same for every such command:
  0  done (for `kasal run --follow`: the run completed)
  1  the API refused the request, or a followed run ended other than completed
  2  the command line is wrong (Typer's)
  3  Kasal does not answer at KASAL_URL
  4  not signed in, or the token is not accepted: `kasal login`
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3
EXIT_UNAUTHENTICATED = 4

WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="KASAL_WORKSPACE",
        help="Workspace id or name (default: your default workspace)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]


def console() -> Console:
    from rich.console import Console

    # No highlighting: ids and statuses are shown as they are, not coloured as numbers.
    return Console(highlight=False, soft_wrap=True)


def emit(as_json: bool, data: Any, render: Callable[[Console], None]) -> None:
    """JSON on stdout for scripts, else what ``render`` draws."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        render(console())


def located(detail: Any) -> str:
    """The API's ``{"detail": …}``: a sentence, or ``{loc, msg}`` items one a line."""
    if not isinstance(detail, list):
        return str(detail)
    lines = []
    for item in detail:
        if isinstance(item, dict) and "msg" in item:
            lines.append(f"  {loc_path(item.get('loc') or [])}: {item['msg']}")
        else:
            lines.append(f"  {item}")
    return "\n".join(lines)


def loc_path(loc: list[Any]) -> str:
    """``["steps", 2, "agent"]`` as ``steps[2].agent``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


class Api:
    """The API of the chosen Kasal (kasal.client.target), in a workspace; every failure
    ends the command with a message (JSON on stderr with ``--json``) and an exit code."""

    def __init__(self, workspace: str | None, as_json: bool) -> None:
        from kasal.client import NotLoggedIn, api_client, target

        self.as_json = as_json
        try:
            self.credentials = target()
        except NotLoggedIn as error:
            self.fail(EXIT_UNAUTHENTICATED, str(error))
        self.url = self.credentials.url
        self.http = api_client(self.credentials, workspace)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        import httpx

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            self.unreachable(error)
        if response.status_code not in expect:
            self.refused(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        given = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=given).json()

    def post(self, path: str, body: Any = None, *, expect: tuple[int, ...] = (200,)) -> Any:
        return self.request("POST", path, json=body, expect=expect).json()

    @contextmanager
    def stream(self, path: str) -> Iterator[httpx.Response]:
        """A streamed GET (server-sent events): no read timeout beyond the keep-alives'."""
        import httpx

        try:
            with self.http.stream("GET", path, timeout=httpx.Timeout(30, read=60)) as response:
                if response.status_code != 200:
                    response.read()
                    self.refused(response)
                yield response
        except httpx.TransportError as error:
            self.unreachable(error)

    def unreachable(self, error: Exception) -> NoReturn:
        why = str(error) or type(error).__name__
        self.fail(
            EXIT_UNREACHABLE,
            f"cannot reach Kasal at {self.url} ({why}); is it running? KASAL_URL says where it is",
        )

    def refused(self, response: httpx.Response) -> NoReturn:
        try:
            detail: Any = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            detail = response.text[:500] or response.reason_phrase
        if response.status_code == 401:
            self.fail(
                EXIT_UNAUTHENTICATED,
                f"{self.url} did not accept the token ({detail}): run `kasal login` "
                "(or set KASAL_TOKEN)",
                status=401,
            )
        sentence = located(detail)
        message = (
            f"{response.status_code}: {sentence}"
            if not isinstance(detail, list)
            else (f"{response.status_code}: the request is invalid:\n{sentence}")
        )
        self.fail(EXIT_REFUSED, message, status=response.status_code, detail=detail)

    def fail(
        self, code: int, message: str, *, status: int | None = None, detail: Any = None
    ) -> NoReturn:
        fail(self.as_json, code, message, status=status, detail=detail)


def fail(
    as_json: bool, code: int, message: str, *, status: int | None = None, detail: Any = None
) -> NoReturn:
    if as_json:
        error = {"message": message, "status": status, "detail": detail}
        typer.echo(json.dumps({"error": error}), err=True)
    else:
        typer.secho(message, err=True, fg="red")
    raise typer.Exit(code)


def find_workflow(api: Api, name_or_id: str) -> dict[str, Any]:
    """A workflow (its latest version) by id or exact name; none ends the command."""
    found = workflow_named(api, name_or_id)
    if found is None:
        api.fail(EXIT_REFUSED, f"no workflow {name_or_id!r}: `kasal workflows` lists them")
    return found


def workflow_named(api: Api, name_or_id: str) -> dict[str, Any] | None:
    """A workflow by id, else by exact name (the list filters by a part of the name)."""
    import uuid

    try:
        workflow_id = uuid.UUID(name_or_id)
    except ValueError:
        listed = api.get("/workflows", name=name_or_id, limit=200)["items"]
        exact = [item["id"] for item in listed if item["name"] == name_or_id]
        if not exact:
            return None
        workflow_id = uuid.UUID(exact[0])
    return dict(api.get(f"/workflows/{workflow_id}"))


def complete_workflow_names(incomplete: str) -> list[str]:
    """Shell completion of a workflow's name: asked of the API briefly, and silent (no
    names) when it cannot answer, since a completion must never print an error."""
    from kasal.client import api_client

    try:
        with api_client() as http:
            answer = http.get("/workflows", params={"name": incomplete, "limit": 200}, timeout=2)
            names = [item["name"] for item in answer.json()["items"]]
    except Exception:  # no login, no server, a 401: nothing to offer
        return []
    return sorted(name for name in names if name.startswith(incomplete))
