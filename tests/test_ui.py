"""The app in a real browser (system Chromium) against the real stack: the API serving the
built frontend, a worker, the Temporal dev server with Temporal Web, and the stub LLM.

A person builds a two-task workflow with an approval gate from an empty canvas by
dragging and connecting, saves and runs it, watches it, approves the gate, sees the run
complete, and follows the link to Temporal Web.

Every browser signs in first, as a person does: with the one-time link `kasal dev`
prints, or with the sign-in form; the role it has decides which buttons it is offered.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from api.services.identity import IdentityService
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings
from tests.api_stack import ADMIN_EMAIL, ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.roles import Role

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
FRONTEND_BUILT = Path(__file__).parent.parent / "frontend" / "dist" / "index.html"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


@pytest.fixture
async def browser(api: ApiStack) -> AsyncIterator[Browser]:
    assert FRONTEND_BUILT.exists(), "build the frontend first: make test does"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, api: ApiStack) -> Page:
    """A page in a browser context of its own: its own cookies, so its own user."""
    context = await browser.new_context(
        base_url=api.server.url, viewport={"width": 1440, "height": 960}
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def add_user(settings: Settings, email: str, role: Role, password: str | None = None) -> str:
    """A user with ``role`` in `default` (as `kasal user add` makes one), and a one-time
    sign-in link's token for them (as `kasal dev` prints one)."""
    engine = create_engine(settings.database_url)
    try:
        identity = IdentityService(UnitOfWork(session_factory(engine)))
        user = await identity.add_user(email, role=role, password=password)
        link = await identity.issue(user.id, "link", lifetime=None)
        return link.secret
    finally:
        await engine.dispose()


async def sign_in_as(page: Page, api: ApiStack, email: str, role: Role) -> None:
    """Follow a one-time sign-in link, and wait for the app to know who this is."""
    token = await add_user(api.settings, email, role)
    await page.goto(f"/auth/link?token={token}")
    await expect(page.get_by_role("button", name=re.compile(re.escape(email)))).to_be_visible()


@pytest.fixture
async def page(api: ApiStack, browser: Browser) -> Page:
    """A browser signed in as the first admin."""
    page = await new_page(browser, api)
    await sign_in_as(page, api, ADMIN_EMAIL, Role.ADMIN)
    return page


async def drop_from_palette(page: Page, button: str, x: int, y: int) -> None:
    """Drag a palette item onto the canvas, as a person does."""
    await page.get_by_role("button", name=button).drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y}
    )


async def drag(page: Page, source: Locator, target: Locator) -> None:
    """Press, move in steps, release: how React Flow expects a pointer to drag."""
    start, end = await source.bounding_box(), await target.bounding_box()
    assert start is not None and end is not None
    await page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    await page.mouse.up()


async def connect(
    page: Page, source: str, source_handle: str, target: str, target_handle: str
) -> None:
    await drag(
        page,
        page.locator(f"[data-nodeid='{source}'][data-handleid='{source_handle}']"),
        page.locator(f"[data-nodeid='{target}'][data-handleid='{target_handle}']"),
    )
    await expect(page.get_by_test_id(f"rf__edge-{source}->{target}")).to_have_count(1)


async def select_node(page: Page, node_id: str) -> None:
    await page.get_by_test_id(f"rf__node-{node_id}").click()


async def test_build_save_run_approve_and_follow_the_link(
    api: ApiStack, stub_llm: StubLLM, page: Page
) -> None:
    stub_llm.script(marker("draft"), Reply("A first draft about tides."))
    stub_llm.script(marker("publish"), Reply("# Published\n\nTides, *published*."))
    ARTIFACTS.mkdir(exist_ok=True)

    await page.goto("/#/workflows/new")
    await page.get_by_label("Workflow name").fill("tides-brief")

    await drop_from_palette(page, "Add agent", 120, 160)
    await expect(page.get_by_test_id("rf__node-agent_1")).to_be_visible()
    await select_node(page, "agent_1")
    panel = page.get_by_role("complementary", name="Properties")
    await panel.get_by_label("Role").fill("Writer")
    await panel.get_by_label("Goal").fill("Write about tides")
    await panel.get_by_label("Backstory").fill("A careful writer.")
    await panel.get_by_label("Model").select_option("stub")

    for button, node_id, x, y in (
        ("Add task", "task_1", 480, 80),
        ("Add approval gate", "gate_1", 480, 260),
        ("Add task", "task_2", 480, 440),
    ):
        await drop_from_palette(page, button, x, y)
        await expect(page.get_by_test_id(f"rf__node-{node_id}")).to_be_visible()

    await select_node(page, "task_1")
    await panel.get_by_label("Id", exact=True).fill("draft")
    await panel.get_by_label("Description", exact=True).fill("Do step STEP-DRAFT.")
    await panel.get_by_label("Expected output").fill("A draft.")
    await select_node(page, "gate_1")
    await panel.get_by_label("Id", exact=True).fill("review")
    await panel.get_by_label("Message").fill("Publish the draft?")
    await select_node(page, "task_2")
    await panel.get_by_label("Id", exact=True).fill("publish")
    await panel.get_by_label("Description", exact=True).fill("Do step STEP-PUBLISH.")
    await panel.get_by_label("Expected output").fill("The published text.")

    await connect(page, "agent_1", "out", "draft", "agent")
    await connect(page, "agent_1", "out", "publish", "agent")
    await connect(page, "draft", "out", "review", "in")
    await connect(page, "review", "out", "publish", "in")
    await expect(page.get_by_role("status").filter(has_text="Valid")).to_be_visible()
    await page.screenshot(path=str(ARTIFACTS / "designer.png"), full_page=True)

    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(re.compile(r"#/workflows/[0-9a-f-]+$"))
    await page.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Start run").click()
    await expect(page).to_have_url(re.compile(r"#/runs/run-"))

    graph = page.get_by_role("application", name="Run graph")
    await expect(graph.get_by_test_id("rf__node-draft")).to_contain_text(
        "completed", ignore_case=True
    )
    await expect(graph.get_by_test_id("rf__node-review")).to_contain_text(
        "waiting", ignore_case=True
    )
    await graph.get_by_test_id("rf__node-review").click()
    step = page.get_by_role("complementary", name="Step review")
    await step.get_by_label("Comment").fill("Looks right.")
    await step.get_by_role("button", name="Approve").click()

    await expect(graph.get_by_test_id("rf__node-publish")).to_contain_text(
        "completed", ignore_case=True
    )
    await expect(page.locator(".console__status")).to_contain_text("Completed")
    await graph.get_by_test_id("rf__node-publish").click()
    await expect(page.get_by_role("heading", name="Published")).to_be_visible()
    # The step's calls come attempt by attempt from the transcript endpoint.
    publish = page.get_by_role("complementary", name="Step publish")
    attempt = publish.get_by_role("region", name="Execution 1, attempt 1")
    await expect(attempt.locator("summary").first).to_contain_text("1. LLM")
    await page.screenshot(path=str(ARTIFACTS / "run-console.png"), full_page=True)

    # The link names this run; Temporal Web's own API knows it (its pages answer any path).
    run_id = page.url.rsplit("/runs/", 1)[1]
    link = page.get_by_role("link", name="Open in Temporal Web")
    href = await link.get_attribute("href")
    assert href is not None and href.startswith(api.settings.temporal_ui_url)
    assert run_id in href
    described = f"{api.settings.temporal_ui_url}/api/v1/namespaces/default/workflows/{run_id}"
    async with httpx.AsyncClient() as http:
        assert (await http.get(described, timeout=10)).status_code == 200
    stub_calls = stub_llm.calls(marker("publish"))
    assert "A first draft about tides." in stub_calls[0].messages_text


async def test_a_steps_tool_calls_show_in_its_panel(
    api: ApiStack, page: Page, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("a"),
        Reply('Thought: Count.\nAction: calculate\nAction Input: {"expression": "6*7"}'),
        Reply("Thought: Done.\nFinal Answer: forty-two"),
    )
    spec = {"agents": [agent(tools=["calculate"])], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "completed")

    await page.goto(f"/#/runs/{run_id}")
    await page.get_by_role("application", name="Run graph").get_by_test_id("rf__node-a").click()
    attempt = page.get_by_role("complementary", name="Step a").get_by_role(
        "region", name="Execution 1, attempt 1"
    )
    tool_call = attempt.locator("details").filter(has_text="Tool calculate")
    await tool_call.locator("summary").click()
    await expect(tool_call.locator("pre").first).to_contain_text('"expression": "6*7"')
    await expect(tool_call).to_contain_text("42")


async def test_the_console_shows_a_running_steps_reply_as_it_streams(
    api: ApiStack, page: Page, stub_llm: StubLLM
) -> None:
    words = " ".join(f"word{i}" for i in range(24))
    # The reply stops after its first chunk (eight words) until released.
    stub_llm.script(marker("a"), Reply(f"Final Answer: {words}", pause_after=1))
    run_id = (
        await start(api, await create_workflow(api, {"agents": [agent()], "steps": [task("a")]}))
    )["run_id"]
    await page.goto(f"/#/runs/{run_id}")
    live = page.get_by_role("log", name="Live output")
    await expect(live).to_contain_text("Final Answer: word0 word1 word2 word3 word4 word5")
    await expect(live).not_to_contain_text("word6")
    stub_llm.release()
    await wait_for_run(api, run_id, "completed")
    await expect(live).to_have_count(0)  # the step's output is the record now


async def test_sign_in_by_form_returns_to_the_page_asked_for(
    api: ApiStack, browser: Browser
) -> None:
    await add_user(api.settings, "pat@kasal.test", Role.EDITOR, password="correct horse battery")
    page = await new_page(browser, api)

    # A used or unknown link says so on the sign-in page.
    await page.goto("/auth/link?token=kasal_not-a-link")
    await expect(page).to_have_url(re.compile(r"#/sign-in\?link=expired$"))
    await expect(page.get_by_role("status")).to_contain_text("link has expired")

    # Any page asks an anonymous browser to sign in, and comes back to it after.
    await page.goto("/#/tools")
    await expect(page).to_have_url(re.compile(r"#/sign-in\?next=%2Ftools$"))
    await page.get_by_label("Email").fill("pat@kasal.test")
    await page.get_by_label("Password").fill("wrong horse")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"#/tools$"))
    await expect(page.get_by_role("heading", name="Tools")).to_be_visible()

    # An editor's header: the workspace and role, and an account menu without admin pages.
    await expect(page.get_by_role("combobox", name="Workspace")).to_have_value("default")
    await page.get_by_role("button", name=re.compile("pat@kasal.test")).click()
    account = page.get_by_role("navigation", name="Account")
    await expect(account.get_by_role("link", name="Tokens")).to_be_visible()
    await expect(account.get_by_role("link", name="Members")).to_have_count(0)
    await expect(account.get_by_role("link", name="Audit")).to_have_count(0)
    await expect(page.get_by_role("button", name="New HTTP tool")).to_have_count(0)
    await expect(page.get_by_role("note")).to_contain_text("Only admins can add")

    # In their personal workspace they are its admin: the session remembers the choice.
    await page.keyboard.press("Escape")
    workspace = page.get_by_role("combobox", name="Workspace")
    await workspace.select_option(label="Personal (admin)")
    await expect(workspace).to_have_value(re.compile(r"^personal-"))
    await expect(page).to_have_url(re.compile(r"#/$"))
    await expect(page.get_by_role("button", name="New workflow")).to_be_visible()
    await page.goto("/#/tools")
    await expect(page.get_by_role("button", name="New HTTP tool")).to_be_visible()
    await page.reload()
    await expect(workspace).to_have_value(re.compile(r"^personal-"))

    await page.get_by_role("button", name=re.compile("pat@kasal.test")).click()
    await account.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.goto("/#/tools")
    await expect(page).to_have_url(re.compile(r"#/sign-in\?next=%2Ftools$"))


async def test_a_viewer_is_offered_no_run_and_an_approver_decides_atop_the_console(
    api: ApiStack, browser: Browser
) -> None:
    spec = {
        "steps": [
            {
                "id": "review",
                "type": "approval",
                "after": [],
                "message": "Ship the release notes?",
                "approvers": ["approver@kasal.test"],
            }
        ]
    }
    workflow_id = await create_workflow(api, spec)
    run_id = (await start(api, workflow_id))["run_id"]

    viewer = await new_page(browser, api)
    await sign_in_as(viewer, api, "viewer@kasal.test", Role.VIEWER)
    await viewer.goto(f"/#/workflows/{workflow_id}")
    await expect(viewer.get_by_label("Workflow name")).to_have_value("brief")
    await expect(viewer.get_by_role("button", name="Run", exact=True)).to_have_count(0)
    await expect(viewer.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    await expect(viewer.get_by_role("note")).to_contain_text(
        "Only operators and above can run workflows"
    )
    await expect(viewer.get_by_role("button", name="New workflow")).to_have_count(0)
    # The run: no Cancel, and the gate is someone else's to decide.
    await viewer.goto(f"/#/runs/{run_id}")
    graph = viewer.get_by_role("application", name="Run graph")
    await expect(graph.get_by_test_id("rf__node-review")).to_contain_text(
        "waiting", ignore_case=True
    )
    await expect(viewer.get_by_role("button", name="Cancel run")).to_have_count(0)
    await expect(viewer.get_by_role("region", name=re.compile("Your decision"))).to_have_count(0)
    await graph.get_by_test_id("rf__node-review").click()
    step = viewer.get_by_role("complementary", name="Step review")
    await expect(step.get_by_role("note")).to_have_text(
        "Waiting for a decision by approver@kasal.test: not you."
    )
    await expect(step.get_by_role("button", name="Approve")).to_have_count(0)

    # The approver (a viewer otherwise) is told in the navigation, and decides atop the console.
    approver = await new_page(browser, api)
    await sign_in_as(approver, api, "approver@kasal.test", Role.VIEWER)
    await expect(
        approver.get_by_role("navigation", name="Main").get_by_role(
            "link", name=re.compile(r"Approvals.*1 waiting for you")
        )
    ).to_be_visible(timeout=30_000)
    await approver.goto(f"/#/runs/{run_id}")
    decision = approver.get_by_role("region", name="Your decision on review")
    await expect(decision).to_contain_text("Ship the release notes?")
    await decision.get_by_label("Comment").fill("Ship it.")
    await decision.get_by_role("button", name="Approve").click()
    await expect(approver.locator(".console__status")).to_contain_text("Completed")
    await expect(decision).to_have_count(0)
    run = await wait_for_run(api, run_id, "completed")
    decided = run["steps"][0]["decisions"][0]
    assert decided["actor"] == "approver@kasal.test"
    assert decided["comment"] == "Ship it."


async def test_a_described_workflow_opens_unsaved_in_the_designer_and_saves(
    api: ApiStack, stub_llm: StubLLM, page: Page
) -> None:
    spec = {"agents": [agent()], "steps": [task("draft")]}
    stub_llm.script("You design workflows for Kasal", Reply(json.dumps(spec)))
    await page.goto("/#/")
    await page.get_by_role("textbox", name="Describe your workflow").fill("Draft a note")
    await page.get_by_label("Model", exact=True).select_option("stub")
    await page.get_by_role("button", name="Generate", exact=True).click()

    await expect(page).to_have_url(re.compile(r"#/workflows/draft$"))
    await expect(page.get_by_test_id("rf__node-draft")).to_be_visible()
    await expect(page.get_by_test_id("rf__node-writer")).to_be_visible()
    assert (await api.http.get("/workflows")).json()["total"] == 0
    await page.get_by_label("Workflow name").fill("described")
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(re.compile(r"#/workflows/[0-9a-f-]+$"))
    saved = (await api.http.get("/workflows", params={"name": "described"})).json()["items"]
    assert [workflow["name"] for workflow in saved] == ["described"]
