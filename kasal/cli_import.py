"""`kasal import FILE…`: Kasal's exported crews and flows, as definitions of this Kasal.

The files go to `POST /api/v1/import/kasal` as one bundle, so they are stored together
or not at all, and a flow finds the crews imported beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kasal.client import NotLoggedIn, api_client

ON_CONFLICT = ("new_version", "rename")


def import_files(
    files: Annotated[list[Path], typer.Argument(help="Kasal crew and flow JSON files.")],
    model_map: Annotated[
        list[str] | None,
        typer.Option("--model-map", help="KASAL_MODEL=OURS, e.g. databricks-claude-sonnet-4=local"),
    ] = None,
    on_conflict: Annotated[
        str | None,
        typer.Option(help="When a name exists: new_version or rename (default: refuse)."),
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", envvar="KASAL_WORKSPACE")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's answer as JSON.")
    ] = False,
) -> None:
    """Import Kasal's crews and flows; all of them, or none when any fails."""
    if on_conflict is not None and on_conflict not in ON_CONFLICT:
        raise typer.BadParameter("new_version or rename", param_hint="--on-conflict")
    body = {"crews": [], "flows": [], "model_map": _model_map(model_map or [])}
    for path in files:
        document = _read(path)
        key = "flows" if _is_flow(document) else "crews"
        body[key].append(document)
    params = {"on_conflict": on_conflict} if on_conflict else {}
    try:
        with api_client(workspace=workspace) as client:
            response = client.post("/import/kasal", json=body, params=params)
    except NotLoggedIn as error:
        raise _fail(str(error), 4) from error
    except OSError as error:  # httpx's connection errors are OSErrors underneath
        raise _fail(f"Kasal does not answer: {error}", 3) from error
    answer = response.json()
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
    if response.status_code != 201:
        raise _fail(_located(answer.get("detail")), 1)
    if not as_json:
        for item in answer["created"]:
            typer.echo(f"{item['kind']} {item['name']} (version {item['version']}): {item['id']}")
        for warning in answer["warnings"]:
            typer.echo(f"warning: {_loc(warning['loc'])}: {warning['msg']}", err=True)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise _fail(f"{path}: {error}", 2) from error
    if not isinstance(document, dict):
        raise _fail(f"{path}: a Kasal crew or flow is a JSON object", 2)
    return document


def _is_flow(document: dict[str, Any]) -> bool:
    nodes = document.get("nodes")
    return "flow_config" in document or (
        isinstance(nodes, list)
        and any(isinstance(n, dict) and n.get("type") == "crewNode" for n in nodes)
    )


def _model_map(pairs: list[str]) -> dict[str, str]:
    mapped = {}
    for pair in pairs:
        kasal, sep, ours = pair.partition("=")
        if not sep or not kasal or not ours:
            raise typer.BadParameter(f"'{pair}' is not KASAL_MODEL=OURS", param_hint="--model-map")
        mapped[kasal] = ours
    return mapped


def _located(detail: Any) -> str:
    if isinstance(detail, list):
        return "\n".join(f"{_loc(e.get('loc', []))}: {e.get('msg')}" for e in detail)
    return str(detail)


def _loc(loc: list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "(body)"


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(message, err=True, fg="red")
    return typer.Exit(code)
