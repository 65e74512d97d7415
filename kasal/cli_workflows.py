"""`kasal workflows`, `kasal apply` and `kasal export`: definitions as files, kept in step
with the API. Applying a file that `kasal export` wrote changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kasal.cli_api import (
    EXIT_REFUSED,
    Api,
    JsonOption,
    WorkspaceOption,
    complete_workflow_names,
    emit,
)


def register(app: typer.Typer) -> None:
    for command in (workflows, apply, export):
        app.command()(command)


def workflows(
    name: Annotated[str | None, typer.Option(help="Only names that contain this")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 200,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the workflows, newest first."""
    with Api(workspace, as_json) as api:
        page = api.get("/workflows", name=name, limit=limit)

    def render(out: Any) -> None:
        from rich.table import Table

        table = Table()
        for column in ("name", "version", "updated", "id", "description"):
            table.add_column(column, no_wrap=column != "description")
        for item in page["items"]:
            table.add_row(
                item["name"],
                str(item["version"]),
                str(item["updated_at"]).replace("T", " ")[:19],
                item["id"],
                item["description"],
            )
        out.print(table if page["items"] else "no workflows")

    emit(as_json, page, render)


def apply(
    file: Annotated[Path, typer.Argument(help="A .json, .yaml or .yml file", exists=True)],
    name: Annotated[
        str | None, typer.Option(help="The name, for a file that holds a bare definition")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create or update the workflow a file describes.

    A new version only when its definition (or description, or layout) differs from
    the latest, sent with If-Match; nothing when it does not.
    """
    from kasal.cli_api import fail, workflow_named
    from kasal.specs import DocumentError, load_document, workflow_document

    try:
        wanted, spec, extra = workflow_document(load_document(file), name or file.stem)
    except DocumentError as error:
        fail(as_json, EXIT_REFUSED, f"{file}: {error}")
    with Api(workspace, as_json) as api:
        current = workflow_named(api, wanted)
        if current is None:
            body = {"name": wanted, "spec": spec, **extra}
            saved = api.request("POST", "/workflows", json=body, expect=(201,)).json()
            action = "created"
        elif current["spec"] == spec and all(current.get(k) == v for k, v in extra.items()):
            saved, action = current, "unchanged"
        else:
            # Based on the version just read: another save in between is a 412, not lost.
            response = api.request(
                "PUT",
                f"/workflows/{current['id']}",
                json={"spec": spec, **extra},
                headers={"If-Match": f'"{current["version"]}"'},
            )
            saved, action = response.json(), "updated"
    result = {"action": action, **{key: saved[key] for key in ("id", "name", "version")}}
    emit(
        as_json,
        result,
        lambda out: out.print(f"{saved['name']}: {action} (version {saved['version']})"),
    )


def export(
    workflow: Annotated[
        str,
        typer.Argument(help="The workflow's name or id", autocompletion=complete_workflow_names),
    ],
    format: Annotated[str, typer.Option("--format", help="json or yaml")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a workflow as a file that `kasal apply` takes back.

    {name, description, spec, layout} of the latest version, as JSON (also --json) or YAML.
    """
    from kasal.cli_api import find_workflow

    if format not in {"json", "yaml"}:
        raise typer.BadParameter("json or yaml", param_hint="--format")
    with Api(workspace, as_json) as api:
        found = find_workflow(api, workflow)
        chosen = {"format": "json" if as_json else format}
        text = api.request("GET", f"/workflows/{found['id']}/export", params=chosen).text
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
