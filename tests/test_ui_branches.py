"""Branches in a real browser against the real stack (issue 12): a router's run shows the
route it took, the steps of the other routes `not_taken` (apart from `skipped`), and its
edges drawn taken and dimmed; in the designer, drawing from a route's handle puts the step
in that route's targets and the router in its `after`."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.async_api import Page, expect

from tests.api_stack import ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.test_ui import browser, database_url, drag, drop_from_palette, page, select_node

__all__ = ["browser", "database_url", "page"]  # fixtures, used by name


def triage() -> dict[str, Any]:
    return {
        "agents": [agent()],
        "steps": [
            task("classify"),
            {
                "id": "route",
                "type": "router",
                "after": ["classify"],
                "routes": [
                    {"name": "refund", "if": 'output("classify").label == "refund"'},
                    {"name": "bug", "if": 'output("classify").label == "bug"'},
                ],
                "default": "other",
                "targets": {"refund": ["refund"], "bug": ["bug"], "other": ["other"]},
            },
            task("refund", after=["route"]),
            task("bug", after=["route"]),
            task("other", after=["route"]),
        ],
    }


async def test_the_console_colours_the_route_taken_and_marks_the_others_not_taken(
    api: ApiStack, stub_llm: StubLLM, page: Page
) -> None:
    stub_llm.script(marker("classify"), Reply(json.dumps({"label": "bug"})))
    stub_llm.script(marker("bug"), Reply("Filed."))
    workflow_id = await create_workflow(api, triage())
    run = await start(api, workflow_id)
    await wait_for_run(api, run["run_id"], "completed")

    await page.goto(f"/#/runs/{run['run_id']}")
    graph = page.get_by_role("application", name="Run graph")
    await expect(graph.get_by_test_id("rf__node-route")).to_contain_text("Branch: bug")
    await expect(graph.get_by_test_id("rf__node-bug")).to_contain_text("Completed")
    for other in ("refund", "other"):
        await expect(graph.get_by_test_id(f"rf__node-{other}")).to_contain_text("Not taken")
        node = graph.get_by_test_id(f"rf__node-{other}").locator(".node")
        await expect(node).to_have_class(re.compile("tone-not_taken"))
        await expect(graph.get_by_test_id(f"rf__edge-route:{other}->{other}")).to_have_class(
            re.compile("edge--not-taken")
        )
    taken = graph.get_by_test_id("rf__edge-route:bug->bug")
    await expect(taken).to_have_class(re.compile("edge--taken"))
    legend = page.get_by_role("list", name="Step statuses")
    await expect(legend).to_contain_text("Not taken")
    await expect(legend).to_contain_text("Skipped")


async def test_drawing_from_a_routes_handle_adds_the_step_to_its_targets(
    api: ApiStack, page: Page
) -> None:
    workflow_id = await create_workflow(api, triage())
    await page.goto(f"/#/workflows/{workflow_id}")
    await expect(page.get_by_test_id("rf__node-route")).to_be_visible()
    await drop_from_palette(page, "Add task", 700, 120)
    await expect(page.get_by_test_id("rf__node-task_1")).to_be_visible()
    await select_node(page, "task_1")
    panel = page.get_by_role("complementary", name="Properties")
    await panel.get_by_label("Description", exact=True).fill("Escalate it.")
    await panel.get_by_label("Expected output").fill("Done.")
    await panel.get_by_label("Agent").select_option("writer")

    await connect_branch(page, "route", "refund", "task_1")
    await select_node(page, "route")
    refund = panel.get_by_role("group", name="Steps for refund")
    await expect(refund.get_by_label("task_1")).to_be_checked()
    await expect(page.get_by_role("status").filter(has_text="Valid")).to_be_visible()

    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Version 2")).to_be_visible()
    saved = (await api.http.get(f"/workflows/{workflow_id}")).json()["spec"]
    router = next(step for step in saved["steps"] if step["id"] == "route")
    assert router["targets"]["refund"] == ["refund", "task_1"]
    escalate = next(step for step in saved["steps"] if step["id"] == "task_1")
    assert escalate["after"] == ["route"]


async def connect_branch(page: Page, source: str, branch: str, target: str) -> None:
    """Draw from a router's or condition's branch handle into a step's `in` handle."""
    await drag(
        page,
        page.locator(f"[data-nodeid='{source}'][data-handleid='{branch}']"),
        page.locator(f"[data-nodeid='{target}'][data-handleid='in']"),
    )
    await expect(page.get_by_test_id(f"rf__edge-{source}:{branch}->{target}")).to_have_count(1)
