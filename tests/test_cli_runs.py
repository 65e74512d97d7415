"""`kasal run`, `runs`, `show`, `approve`, `retry`, `cancel`, `logs`, `apply` and `export`
as a person or a script runs them: the real `kasal` entry point, as a process, against the
real API, Temporal dev server and worker, with the stub LLM behind them."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from db.seeds.workflows import RESEARCH_BRIEF
from kasal.cli_api import loc_path
from kasal.cli_runs import parse_inputs
from kasal.run_follow import server_sent_events
from tests.api_stack import ApiStack
from tests.conftest import STUB_MODEL
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import wait_for_run

# The CLI is a client of the API: what it does is the same on either database.
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """`kasal` as a process talking to the stack's API with an admin's KASAL_TOKEN (and no
    stored login). Asynchronous: the API it calls is served by this test's event loop."""

    def __init__(self, api: ApiStack, config: Path, **env: str) -> None:
        token = api.http.headers["Authorization"].removeprefix("Bearer ")
        base = {k: v for k, v in os.environ.items() if not k.startswith("KASAL_")}
        self.env = {
            **base,
            "KASAL_URL": api.server.url,
            "KASAL_TOKEN": token,
            "KASAL_CONFIG_DIR": str(config),
            "COLUMNS": "160",
            **env,
        }

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kasal",
            *args,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def __call__(self, *args: str, code: int = 0) -> Done:
        return await self.finish(await self.start(*args), code)

    @staticmethod
    async def finish(process: asyncio.subprocess.Process, code: int = 0) -> Done:
        out, err = await asyncio.wait_for(process.communicate(), timeout=90)
        done = Done(process.returncode or 0, out.decode(), err.decode())
        assert done.code == code, (done.code, done.out, done.err)
        return done


@pytest.fixture
def cli(api: ApiStack, tmp_path: Path) -> Cli:
    return Cli(api, tmp_path / "config")


def research_brief_on_the_stub() -> dict[str, Any]:
    """The seeded example, its agents on the stub model instead of the bundled one."""
    document = copy.deepcopy(RESEARCH_BRIEF)
    for each in document["spec"]["agents"]:
        each["llm"] = STUB_MODEL
    return document


async def run_id_of(api: ApiStack, workflow_id: str, status: str) -> str:
    """The newest run of the workflow in ``status``, once there is one. (By id: the
    session's Temporal holds other tests' runs, of workflows of the same name.)"""

    async def listed() -> list[dict[str, Any]]:
        params = {"status": status, "workflow_id": workflow_id}
        return list((await api.http.get("/runs", params=params)).json()["items"])

    return str((await eventually(listed, bool, timeout=30))[0]["run_id"])


@on_sqlite
async def test_apply_then_run_with_follow_shows_progress_and_exits_0(
    api: ApiStack, cli: Cli, stub_llm: StubLLM, tmp_path: Path
) -> None:
    stub_llm.script("List three key facts", Reply("Final Answer: tides follow the moon"))
    stub_llm.script("three-sentence brief", Reply("Final Answer: A brief on tides."))
    source = tmp_path / "research-brief.json"
    source.write_text(json.dumps(research_brief_on_the_stub()))
    applied = (await cli("apply", str(source), "--json")).json()
    assert applied["action"] == "created" and applied["version"] == 1

    # The shell completes a workflow's name from the API.
    completing = Cli(api, tmp_path / "config", _KASAL_COMPLETE="complete_bash")
    completing.env |= {"COMP_WORDS": "kasal run res", "COMP_CWORD": "2"}
    assert "research-brief" in (await completing()).out.split()

    followed = await cli("run", "research-brief", "-i", "topic=tides", "--follow")
    for shown in ("research", "brief", "completed", "A brief on tides."):
        assert shown in followed.out, followed.out
    assert "tides" in stub_llm.calls("List three key facts")[0].messages_text
    # The live table's last frame: each step with its duration and tokens.
    assert "duration" in followed.out and "tokens" in followed.out

    runs = await cli("runs", "--workflow", "research-brief", "--status", "completed", "--json")
    [listed] = runs.json()["items"]
    assert listed["workflow_name"] == "research-brief"
    shown = (await cli("show", listed["run_id"], "--json")).json()
    assert [(s["id"], s["status"]) for s in shown["steps"]] == [
        ("research", "completed"),
        ("brief", "completed"),
    ]
    transcript = (await cli("logs", listed["run_id"], "research", "--json")).json()
    assert transcript["attempts"][0]["entries"][0]["kind"] == "llm"
    text = await cli("logs", listed["run_id"], "research")
    assert "tides follow the moon" in text.out
    table = await cli("show", listed["run_id"])
    assert "research-brief v1" in table.out and "A brief on tides." in table.out


@on_sqlite
async def test_apply_export_apply_is_a_no_op_and_a_change_is_a_new_version(
    cli: Cli, tmp_path: Path
) -> None:
    document = research_brief_on_the_stub()
    first = tmp_path / "brief.yaml"
    first.write_text(yaml.safe_dump(document))
    assert (await cli("apply", str(first), "--json")).json()["action"] == "created"

    exported_json = await cli("export", "research-brief")
    assert json.loads(exported_json.out) == document
    exported_yaml = await cli("export", "research-brief", "--format", "yaml")
    assert yaml.safe_load(exported_yaml.out) == document
    for text, suffix in ((exported_json.out, "json"), (exported_yaml.out, "yaml")):
        again = tmp_path / f"again.{suffix}"
        again.write_text(text)
        unchanged = (await cli("apply", str(again), "--json")).json()
        assert (unchanged["action"], unchanged["version"]) == ("unchanged", 1)

    document["spec"]["steps"][1]["description"] = "Write two sentences about {topic}."
    first.write_text(yaml.safe_dump(document))
    updated = (await cli("apply", str(first), "--json")).json()
    assert (updated["action"], updated["version"]) == ("updated", 2)
    exported = tmp_path / "exported.json"
    await cli("export", "research-brief", "-o", str(exported))
    assert json.loads(exported.read_text())["spec"] == document["spec"]
    listed = (await cli("workflows", "--json")).json()["items"]
    assert [(w["name"], w["version"]) for w in listed] == [("research-brief", 2)]


GATED: dict[str, Any] = {
    "agents": [agent()],
    "steps": [
        task("draft"),
        {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"},
        task("publish", after=["review"]),
    ],
}


@on_sqlite
async def test_a_followed_run_waits_at_a_gate_until_kasal_approve(
    api: ApiStack, cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "gated.json"
    source.write_text(json.dumps({"name": "gated", "spec": GATED}))
    gated = (await cli("apply", str(source), "--json")).json()["id"]
    following = await cli.start("run", "gated", "--follow")
    run_id = await run_id_of(api, gated, "waiting_for_approval")

    approved = (await cli("approve", run_id, "review", "-m", "fine", "--json")).json()
    assert approved["status"] == "approved"
    assert approved["decisions"][0]["comment"] == "fine"
    followed = await cli.finish(following)
    assert f"kasal approve {run_id} review" in followed.out  # it said what it waited for
    assert "Publish?" in followed.out and "publish" in followed.out
    again = await cli("approve", run_id, "review", code=1)
    assert "409" in again.err


@on_sqlite
async def test_a_paused_step_is_retried_and_a_cancelled_run_exits_1(
    api: ApiStack, cli: Cli, stub_llm: StubLLM, tmp_path: Path
) -> None:
    stub_llm.script(marker("a"), Reply.error(400, "bad request"), Reply("Final Answer: fixed"))
    source = tmp_path / "flaky.json"
    spec = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    source.write_text(json.dumps({"name": "flaky", "spec": spec}))
    flaky = (await cli("apply", str(source), "--json")).json()["id"]

    following = await cli.start("run", "flaky", "--follow", "--json")
    run_id = await run_id_of(api, flaky, "needs_attention")
    retried = (await cli("retry", run_id, "a", "--execution", "1", "--json")).json()
    assert retried["id"] == "a"
    followed = await cli.finish(following)
    events = [json.loads(line) for line in followed.out.splitlines()]
    assert events[0]["event"] == "snapshot"
    assert {"event": "run", "data": {"run_id": run_id, "status": "completed"}} in events
    assert any(e["event"] == "step" and e["data"]["status"] == "paused" for e in events)

    stub_llm.reset()
    stub_llm.script(marker("a"), Reply.error(400, "bad again"))
    following = await cli.start("run", "flaky", "--follow")
    second = await eventually(
        lambda: run_id_of(api, flaky, "needs_attention"), lambda found: found != run_id
    )
    assert (await cli("cancel", second, "--json")).json()["status"] == "cancel_requested"
    stopped = await cli.finish(following, code=1)
    assert f"run {second} ended cancelled" in stopped.err
    # The pause was explained while it lasted, with the execution it showed.
    assert f"kasal retry {second} a --execution 1" in stopped.out
    await wait_for_run(api, second, "cancelled")


@on_sqlite
async def test_errors_are_readable_and_have_their_own_exit_codes(
    api: ApiStack, cli: Cli, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    spec = {"agents": [agent()], "steps": [task("a") | {"agent": "nobody"}]}
    broken.write_text(json.dumps({"name": "broken", "spec": spec}))
    refused = await cli("apply", str(broken), code=1)
    assert "steps[0].agent:" in refused.err, refused.err
    as_json = await cli("apply", str(broken), "--json", code=1)
    error = json.loads(as_json.err)["error"]
    assert error["status"] == 422 and error["detail"][0]["loc"] == ["steps", 0, "agent"]

    missing = await cli("run", "no-such-workflow", code=1)
    assert "no workflow 'no-such-workflow'" in missing.err

    cli.env["KASAL_TOKEN"] = "kasal_not-a-token"
    assert "kasal login" in (await cli("runs", code=4)).err
    del cli.env["KASAL_TOKEN"]
    assert "kasal login" in (await cli("workflows", code=4)).err  # nothing stored either

    cli.env["KASAL_URL"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    cli.env["KASAL_TOKEN"] = "kasal_whatever"
    unreachable = await cli("workflows", code=3)
    assert "cannot reach Kasal at http://127.0.0.1:9" in unreachable.err
    assert "KASAL_URL" in unreachable.err


def test_inputs_are_text_or_json_and_the_command_line_wins(tmp_path: Path) -> None:
    given = tmp_path / "inputs.json"
    given.write_text(json.dumps({"topic": "waves", "depth": 1}))
    parsed = parse_inputs(["topic=tides", "items:=[1, 2]", "note=a=b"], given)
    assert parsed == {"topic": "tides", "depth": 1, "items": [1, 2], "note": "a=b"}


def test_server_sent_events_and_locations() -> None:
    lines = [": keep-alive", "", "event: run", 'data: {"status": "completed"}', ""]
    assert list(server_sent_events(iter(lines))) == [("run", {"status": "completed"})]
    assert loc_path(["steps", 2, "agent"]) == "steps[2].agent"
    assert loc_path([]) == "(root)"


def test_completion_is_offered() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "kasal", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "_KASAL_COMPLETE" in shown.stdout
