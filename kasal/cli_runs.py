"""`kasal run`, `runs`, `show`, `approve`, `reject`, `retry`, `skip`, `cancel` and `logs`:
runs, over the HTTP API, as the console operates them."""

from __future__ import annotations

import json
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
    fail,
)

RunArg = Annotated[str, typer.Argument(help="The run's id (as `kasal runs` lists it)")]
StepArg = Annotated[str, typer.Argument(help="The step's id in the definition")]
INTERRUPTED = 130


def register(app: typer.Typer) -> None:
    for command in (run, runs, show, approve, reject, retry, skip, cancel, logs):
        app.command()(command)


def parse_inputs(pairs: list[str], inputs_file: Path | None) -> dict[str, Any]:
    """The file's object, then each `key=value` (a string) or `key:=json` over it."""
    inputs: dict[str, Any] = {}
    if inputs_file is not None:
        from kasal.specs import DocumentError, load_document

        try:
            loaded = load_document(inputs_file)
        except DocumentError as error:
            raise typer.BadParameter(str(error), param_hint="--inputs-file") from error
        if not isinstance(loaded, dict):
            raise typer.BadParameter("must hold an object of inputs", param_hint="--inputs-file")
        inputs.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="-i")
        if key.endswith(":"):
            try:
                inputs[key[:-1]] = json.loads(value)
            except ValueError as error:
                raise typer.BadParameter(f"{pair!r}: {error}", param_hint="-i") from error
        else:
            inputs[key] = value
    return inputs


def run(
    workflow: Annotated[
        str,
        typer.Argument(help="The workflow's name or id", autocompletion=complete_workflow_names),
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", help="An input: key=value (text) or key:=JSON; repeat for more"
        ),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        typer.Option(help="A JSON (or YAML) object of inputs; -i values win", exists=True),
    ] = None,
    version: Annotated[int | None, typer.Option(help="Run this version, not the latest")] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Show the steps live until the run closes; exit 0 only if it completed",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a run of WORKFLOW, and with --follow watch it to the end."""
    from kasal.cli_api import find_workflow

    body: dict[str, Any] = {"inputs": parse_inputs(inputs or [], inputs_file)}
    if version is not None:
        body["version"] = version
    with Api(workspace, as_json) as api:
        found = find_workflow(api, workflow)
        started = api.post(f"/workflows/{found['id']}/runs", body, expect=(201,))
        run_id = started["run_id"]
        if not follow:
            emit(
                as_json,
                started,
                lambda out: out.print(
                    f"started run {run_id} of {found['name']} v{started['version']}\n"
                    f"  kasal show {run_id}  |  kasal run {workflow} --follow"
                ),
            )
            return
        if not as_json:
            typer.echo(f"started run {run_id} of {found['name']} v{started['version']}")
        _follow_to_the_end(api, run_id)


def _follow_to_the_end(api: Api, run_id: str) -> None:
    from kasal.cli_api import console
    from kasal.run_follow import follow
    from kasal.run_views import CLOSED_OK, why_not_completed

    try:
        status = follow(api, run_id, console())
    except KeyboardInterrupt:
        typer.secho(
            f"\nstopped following; the run goes on: kasal show {run_id}", err=True, fg="yellow"
        )
        raise typer.Exit(INTERRUPTED) from None
    if status in CLOSED_OK:
        final = api.get(f"/runs/{run_id}")
        if not api.as_json and final.get("result"):
            console().print(f"\n[bold]Output[/]\n{final['result'].get('final_output', '')}")
        return
    fail(api.as_json, EXIT_REFUSED, why_not_completed(api.get(f"/runs/{run_id}")))


def runs(
    status: Annotated[
        str | None,
        typer.Option(help="Only runs in this status: running, waiting_for_approval, …"),
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only runs of this workflow")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first."""
    from kasal.cli_api import find_workflow

    with Api(workspace, as_json) as api:
        workflow_id = find_workflow(api, workflow)["id"] if workflow else None
        page = api.get("/runs", status=status, workflow_id=workflow_id, limit=limit)

    def render(out: Any) -> None:
        from rich.table import Table

        from kasal.run_views import status_text

        table = Table()
        for column in ("run", "workflow", "version", "status", "started", "closed"):
            table.add_column(column, no_wrap=True)
        for item in page["items"]:
            table.add_row(
                item["run_id"],
                item["workflow_name"],
                str(item["version"]),
                status_text(item["status"]),
                _when(item.get("started_at")),
                _when(item.get("closed_at")),
            )
        out.print(table if page["items"] else "no runs")

    emit(as_json, page, render)


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else ""


def show(
    run_id: RunArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Follow it live, as `kasal run --follow` does")
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """A run: its status, each step, what it waits for, and its output."""
    with Api(workspace, as_json) as api:
        if follow:
            _follow_to_the_end(api, run_id)
            return
        found = api.get(f"/runs/{run_id}")

    def render(out: Any) -> None:
        from kasal.run_views import hint, status_text, steps_table

        state = status_text(found["status"])
        out.print(
            f"run [bold]{found['run_id']}[/] of {found['workflow_name']} v{found['version']}: "
            f"[{state.style}]{found['status']}[/]"
        )
        started, closed = _when(found.get("started_at")), _when(found.get("closed_at"))
        out.print(f"started {started}  closed {closed}")
        out.print(f"Temporal: {found['temporal']['web_url']}")
        if found.get("forked_from"):
            origin = found["forked_from"]
            out.print(f"forked from {origin['run_id']} at {origin['step_id']}")
        out.print(steps_table(found["steps"]))
        for step in found["steps"]:
            if (waiting := hint(found["run_id"], step)) is not None:
                out.print(waiting)
        if found.get("result"):
            out.print(f"\n[bold]Output[/]\n{found['result'].get('final_output', '')}")

    emit(as_json, found, render)


def _operate(
    workspace: str | None, as_json: bool, path: str, body: dict[str, Any], done: str
) -> None:
    with Api(workspace, as_json) as api:
        step = api.post(path, body)
    emit(as_json, step, lambda out: out.print(f"{done}: {step['id']} is {step['status']}"))


CommentOption = Annotated[str, typer.Option("--message", "-m", help="A comment for the record")]
# What the operator saw, as the hints print it (run_views.hint): the run refuses a
# request for a gate or pause that has moved on, and waits for one still being applied.
RoundOption = Annotated[
    int | None,
    typer.Option("--round", min=1, help="The gate's round you saw waiting (refused if over)"),
]
ExecutionOption = Annotated[
    int | None, typer.Option(min=1, help="The step's execution you saw paused")
]


def _seen(name: str, value: int | None) -> dict[str, Any]:
    return {} if value is None else {name: value}


def approve(
    run_id: RunArg,
    step_id: StepArg,
    message: CommentOption = "",
    seen_round: RoundOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a gate that waits for a decision."""
    body = {"decision": "approve", "comment": message, **_seen("round", seen_round)}
    _operate(workspace, as_json, f"/runs/{run_id}/steps/{step_id}/decision", body, "approved")


def reject(
    run_id: RunArg,
    step_id: StepArg,
    message: CommentOption = "",
    seen_round: RoundOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a gate that waits for a decision (its on_reject says what follows)."""
    body = {"decision": "reject", "comment": message, **_seen("round", seen_round)}
    _operate(workspace, as_json, f"/runs/{run_id}/steps/{step_id}/decision", body, "rejected")


def retry(
    run_id: RunArg,
    step_id: StepArg,
    execution: ExecutionOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a paused step again (its model config is read afresh)."""
    body = _seen("execution", execution)
    _operate(workspace, as_json, f"/runs/{run_id}/steps/{step_id}/retry", body, "retried")


def skip(
    run_id: RunArg,
    step_id: StepArg,
    output: Annotated[
        str, typer.Option(help="What the skipped step hands to the steps after it")
    ] = "",
    execution: ExecutionOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pass over a paused step; the steps after it get --output as its output."""
    body = {"output": output, **_seen("execution", execution)}
    _operate(workspace, as_json, f"/runs/{run_id}/steps/{step_id}/skip", body, "skipped")


def cancel(run_id: RunArg, workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Cancel a run: steps in flight stop, finished outputs stay."""
    with Api(workspace, as_json) as api:
        answer = api.post(f"/runs/{run_id}/cancel", expect=(202,))
    emit(as_json, answer, lambda out: out.print(f"cancel requested for run {run_id}"))


def logs(
    run_id: RunArg,
    step_id: StepArg,
    prompts: Annotated[
        bool, typer.Option("--prompts", help="Print every message sent, not only the replies")
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """A task step's transcript: every attempt's LLM and tool calls, failed ones too."""
    with Api(workspace, as_json) as api:
        transcript = api.get(f"/runs/{run_id}/steps/{step_id}/transcript")

    def render(out: Any) -> None:
        from kasal.run_views import print_transcript

        print_transcript(out, transcript, prompts)

    emit(as_json, transcript, render)
