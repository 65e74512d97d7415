"""The compiler: every rule of the definition contract, each error at its exact loc."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from workflows.compiler import (
    CompilationFailed,
    CompileError,
    compile_plan,
    pydantic_errors,
    validate_definition,
)
from workflows.definition import RetrySpec, WorkflowDefinition
from workflows.plan import Plan, PlanApprovalStep, PlanTaskStep
from workflows.plan_building import render
from workflows.tools import BUILTIN_BY_NAME, HttpToolSpec, McpServerSpec, PinnedTool, pin_builtin

MODELS = {"gpt", "claude"}
INPUTS = {"topic": "tides"}

# --- builders ---------------------------------------------------------------------------


def agent(agent_id: str = "writer", **fields: Any) -> dict[str, Any]:
    return {
        "id": agent_id,
        "role": "Writer",
        "goal": "Write well",
        "backstory": "A careful writer.",
        "llm": "gpt",
        **fields,
    }


def task(step_id: str, after: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "task",
        "agent": "writer",
        "description": f"Do {step_id} about {{topic}}.",
        "expected_output": "A short answer.",
        "after": after or [],
        **fields,
    }


def approval(step_id: str, after: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "approval", "message": "Go on?", "after": after or [], **fields}


def definition(**overrides: Any) -> dict[str, Any]:
    """A valid definition (one required input "topic"), with top-level fields replaced."""
    return {
        "inputs": [{"name": "topic"}],
        "agents": [agent()],
        "steps": [task("research"), task("write", ["research"])],
        **overrides,
    }


def validation_errors(defn: Mapping[str, Any]) -> list[CompileError]:
    with pytest.raises(CompilationFailed) as info:
        validate_definition(defn, MODELS)
    return info.value.errors


def compile_errors(defn: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[CompileError]:
    with pytest.raises(CompilationFailed) as info:
        compile_plan(defn, inputs, MODELS)
    return info.value.errors


def only(errors: list[CompileError]) -> CompileError:
    assert len(errors) == 1, errors
    return errors[0]


def locs(errors: list[CompileError]) -> list[list[str | int]]:
    return [e.loc for e in errors]


def chain(n: int, make: Callable[..., dict[str, Any]] = task) -> list[dict[str, Any]]:
    """s0 (a task), then s1 … s{n-1}, each after the previous."""
    return [task("s0")] + [make(f"s{i}", [f"s{i - 1}"]) for i in range(1, n)]


def task_step(plan: Plan, step_id: str) -> PlanTaskStep:
    step = plan.step(step_id)
    assert isinstance(step, PlanTaskStep)
    return step


def gate_step(plan: Plan, step_id: str) -> PlanApprovalStep:
    step = plan.step(step_id)
    assert isinstance(step, PlanApprovalStep)
    return step


# --- one rule, one error ----------------------------------------------------------------

A_B = [task("a"), task("b")]

SINGLE_ERRORS = {
    # ids
    "duplicate agent id": (
        {"agents": [agent(), agent("editor"), agent()]},
        ["agents", 2, "id"],
        "duplicate agent id 'writer' (first at agents[0])",
    ),
    "duplicate step id": (
        {"steps": [task("a"), task("b"), task("a")]},
        ["steps", 2, "id"],
        "duplicate step id 'a' (first at steps[0])",
    ),
    "duplicate input name": (
        {"inputs": [{"name": "topic"}, {"name": "topic"}]},
        ["inputs", 1, "name"],
        "duplicate input 'topic'",
    ),
    "step id with space": (
        {"steps": [task("ok"), task("has space")]},
        ["steps", 1, "id"],
        "should match pattern",
    ),
    "step id of 65 chars": (
        {"steps": [task("x" * 65)]},
        ["steps", 0, "id"],
        "should match pattern",
    ),
    "empty step id": ({"steps": [task("")]}, ["steps", 0, "id"], "should match pattern"),
    "step id with newline": (
        {"steps": [task("abc\n")]},
        ["steps", 0, "id"],
        "should match pattern",
    ),
    "approval id with space": (
        {"steps": [*A_B, approval("a b")]},
        ["steps", 2, "id"],
        "should match pattern",
    ),
    "agent id with space": (
        {"agents": [agent(), agent("has space")]},
        ["agents", 1, "id"],
        "should match pattern",
    ),
    # references
    "unknown after": (
        {"steps": [task("a"), task("b", ["a", "nope"])]},
        ["steps", 1, "after", 1],
        "unknown step 'nope'",
    ),
    "waits for itself": (
        {"steps": [task("a"), task("b", ["a", "b"])]},
        ["steps", 1, "after", 1],
        "a step cannot wait for itself",
    ),
    "after listed twice": (
        {"steps": [task("a"), task("b", ["a", "a"])]},
        ["steps", 1, "after", 1],
        "'a' is listed twice",
    ),
    "unknown agent": (
        {"steps": [task("a"), task("b", agent="ghost")]},
        ["steps", 1, "agent"],
        "unknown agent 'ghost'",
    ),
    "unknown model": (
        {"agents": [agent(), agent("editor", llm="gpt-9")]},
        ["agents", 1, "llm"],
        "unknown model 'gpt-9' (known: claude, gpt)",
    ),
    "two-step cycle": (
        {"steps": [task("a", ["b"]), task("b", ["a"])]},
        ["steps", 1, "after"],
        "cycle: a → b → a",
    ),
    "three-step cycle behind a valid step": (
        {"steps": [task("x"), task("a", ["x", "c"]), task("b", ["a"]), task("c", ["b"])]},
        ["steps", 2, "after"],
        "cycle: a → b → c → a",
    ),
    # required text
    **{
        f"empty agent {name}": ({"agents": [agent(**{name: ""})]}, ["agents", 0, name], "1 char")
        for name in ("role", "goal", "backstory")
    },
    **{
        f"empty task {name}": ({"steps": [{**task("a"), name: ""}]}, ["steps", 0, name], "1 char")
        for name in ("description", "expected_output")
    },
    # placeholders
    "undeclared placeholder in description": (
        {"steps": [task("a"), task("b", description="For {audience}.")]},
        ["steps", 1, "description"],
        "placeholder '{audience}' names no declared input",
    ),
    "undeclared placeholder in expected_output": (
        {"steps": [task("a", expected_output="{format}")]},
        ["steps", 0, "expected_output"],
        "placeholder '{format}' names no declared input",
    ),
    "undeclared placeholder in agent goal": (
        {"agents": [agent(goal="Please {audience}")]},
        ["agents", 0, "goal"],
        "placeholder '{audience}' names no declared input",
    ),
    "unmatched opening brace": (
        {"steps": [task("a", description="About {topic} {oops")]},
        ["steps", 0, "description"],
        "unmatched '{' at position 14: write '{{'",
    ),
    "unmatched closing brace": (
        {"agents": [agent(role="a } b")]},
        ["agents", 0, "role"],
        "unmatched '}' at position 2: write '}}'",
    ),
    "invalid placeholder": (
        {"steps": [task("a", description="{not a name}")]},
        ["steps", 0, "description"],
        "invalid placeholder '{not a name}'",
    ),
    # retries and timeouts
    "unlimited retries": (
        {"steps": [task("a", retry={"max_attempts": 0})]},
        ["steps", 0, "retry", "max_attempts"],
        "greater than or equal to 1",
    ),
    "huge retries": (
        {"steps": [task("a", retry={"max_attempts": 10**9})]},
        ["steps", 0, "retry", "max_attempts"],
        "less than or equal to 100",
    ),
    "zero timeout": (
        {"steps": [task("a", timeout_seconds=0)]},
        ["steps", 0, "timeout_seconds"],
        "greater than 0",
    ),
    # tools
    "tools": (
        {"agents": [agent(tools=["search"])]},
        ["agents", 0, "tools", 0],
        "unknown tool 'search': name a built-in, an HTTP tool",
    ),
    # approval steps
    "approval without message": (
        {"steps": [*A_B, {"id": "ok", "type": "approval"}]},
        ["steps", 2, "message"],
        "Field required",
    ),
    "approval with empty message": (
        {"steps": [*A_B, approval("ok", message="")]},
        ["steps", 2, "message"],
        "1 char",
    ),
    "approval on_timeout": (
        {"steps": [*A_B, approval("ok", on_timeout="maybe")]},
        ["steps", 2, "on_timeout"],
        "'approve', 'reject' or 'fail'",
    ),
    "unknown step type": (
        {"steps": [*A_B, approval("ok", type="review")]},
        ["steps", 2, "type"],
        "type must be one of: approval, condition",
    ),
    "missing step type": (
        {"steps": [{"id": "a"}]},
        ["steps", 0, "type"],
        "type must be one of: approval, condition",
    ),
    # unknown fields
    "typo in a step": (
        {"steps": [task("a"), {**task("b"), "afer": ["a"]}]},
        ["steps", 1, "afer"],
        "Extra inputs are not permitted",
    ),
    "typo at the root": ({"max_paralel": 4}, ["max_paralel"], "Extra inputs are not permitted"),
    "no steps": ({"steps": []}, ["steps"], "at least 1 item"),
}


@pytest.mark.parametrize(
    ("overrides", "loc", "fragment"), SINGLE_ERRORS.values(), ids=SINGLE_ERRORS.keys()
)
def test_single_error(overrides: dict[str, Any], loc: list[str | int], fragment: str) -> None:
    error = only(validation_errors(definition(**overrides)))
    assert error.loc == loc
    assert fragment in error.msg
    # compile_plan reports the same definition error (the inputs are fine).
    assert compile_errors(definition(**overrides), INPUTS) == [error]


def test_every_tool_is_reported() -> None:
    errors = validation_errors(definition(agents=[agent(tools=["search", "browse"])]))
    assert locs(errors) == [["agents", 0, "tools", 0], ["agents", 0, "tools", 1]]
    assert "'browse'" in errors[1].msg


WEATHER = PinnedTool(
    name="weather",
    kind="http",
    version=3,
    description="The weather in a city",
    args_schema={"type": "object", "properties": {"city": {"type": "string"}}},
    idempotent=True,
    http=HttpToolSpec(url_template="https://example.test/{city}", secret_header_names=["X-Key"]),
)
ORDERS = McpServerSpec(name="orders", transport="streamable-http", url="http://orders.test/mcp")
USER_TOOLS = {
    "weather": WEATHER,
    "orders.*": PinnedTool(name="orders.*", kind="mcp", mcp=ORDERS),
    "orders.lookup": PinnedTool(name="orders.lookup", kind="mcp", mcp=ORDERS, mcp_tool="lookup"),
}


def test_named_tools_resolve_to_builtins_and_user_tools_and_are_pinned_by_name() -> None:
    defn = definition(
        agents=[
            agent(tools=["calculate", "weather", "orders.lookup"]),
            agent("critic", tools=["weather", "orders.*"]),
        ]
    )
    plan = compile_plan(defn, INPUTS, MODELS, USER_TOOLS)
    assert list(plan.tools) == ["calculate", "weather", "orders.lookup", "orders.*"]
    assert plan.tools["calculate"] == pin_builtin(BUILTIN_BY_NAME["calculate"])
    assert plan.tools["weather"] == WEATHER
    assert plan.tools["orders.lookup"].mcp_tool == "lookup"
    assert plan.tools["orders.*"].mcp_tool is None
    assert [plan.tools[name] for name in plan.agents["critic"].tools] == [
        WEATHER,
        USER_TOOLS["orders.*"],
    ]
    # A plan without tools pins none.
    assert compile_plan(definition(), INPUTS, MODELS).tools == {}


def test_unknown_tools_are_reported_with_every_other_error() -> None:
    defn = definition(
        agents=[agent(tools=["weather", "orders.missing", "calculate", "nope"], llm="gemini")]
    )
    errors = validation_errors_with(defn, USER_TOOLS)
    assert locs(errors) == [
        ["agents", 0, "llm"],
        ["agents", 0, "tools", 1],
        ["agents", 0, "tools", 3],
    ]
    assert "'orders.missing'" in errors[1].msg


def test_a_tool_name_a_model_cannot_take_is_an_error() -> None:
    long_name = "orders." + "x" * 60
    tools = {long_name: PinnedTool(name=long_name, kind="mcp", mcp=ORDERS, mcp_tool="x" * 60)}
    error = only(validation_errors_with(definition(agents=[agent(tools=[long_name])]), tools))
    assert error.loc == ["agents", 0, "tools", 0]
    assert "cannot be offered to a model" in error.msg


def validation_errors_with(
    defn: Mapping[str, Any], tools: Mapping[str, PinnedTool]
) -> list[CompileError]:
    with pytest.raises(CompilationFailed) as info:
        validate_definition(defn, MODELS, tools)
    return info.value.errors


def test_valid_definition_is_returned_parsed() -> None:
    parsed = validate_definition(definition(), MODELS)
    assert isinstance(parsed, WorkflowDefinition)
    assert [s.id for s in parsed.steps] == ["research", "write"]


def test_parsed_definition_is_accepted() -> None:
    parsed = WorkflowDefinition.model_validate(definition())
    plan = compile_plan(parsed, INPUTS, MODELS)
    assert [s.id for s in plan.steps] == ["research", "write"]


def test_long_cycle_is_reported() -> None:
    steps = chain(3000)
    steps[0] = task("s0", ["s2999"])
    error = only(validation_errors(definition(steps=steps)))
    assert error.loc == ["steps", 1, "after"]
    assert error.msg.startswith("cycle: s0 → s1 → s2 → ")
    assert error.msg.endswith(" → s2999 → s0")


# --- all errors at once -----------------------------------------------------------------


def broken_definition() -> dict[str, Any]:
    return definition(
        agents=[agent(), agent("editor", llm="gpt-9")],
        steps=[
            task("a"),
            task("b", ["a"], agent="ghost"),
            task("a", description="For {audience}."),
            task("c", ["missing"]),
        ],
    )


BROKEN_LOCS = [
    ["steps", 2, "id"],
    ["agents", 1, "llm"],
    ["steps", 3, "after", 0],
    ["steps", 1, "agent"],
    ["steps", 2, "description"],
]


def test_all_definition_errors_at_once() -> None:
    errors = validation_errors(broken_definition())
    assert sorted(map(str, locs(errors))) == sorted(map(str, BROKEN_LOCS))


def test_compile_reports_definition_and_input_errors_together() -> None:
    errors = compile_errors(broken_definition(), {"bogus": "x"})
    assert sorted(map(str, locs(errors))) == sorted(
        map(str, [*BROKEN_LOCS, ["inputs", "bogus"], ["inputs", "topic"]])
    )


def test_compilation_failed_message_lists_every_error() -> None:
    with pytest.raises(CompilationFailed) as info:
        validate_definition(broken_definition(), MODELS)
    assert "steps.1.agent: unknown agent 'ghost'" in str(info.value)
    assert "agents.1.llm: unknown model 'gpt-9'" in str(info.value)


def test_structural_and_whole_document_errors_are_reported_together() -> None:
    defn = definition(
        agents=[agent(role=""), agent("editor", llm="gpt-9", goal="Edit {audience}")],
        steps=[
            task("a", agent="ghost"),
            {"id": "b", "type": "task", "agent": "writer", "after": ["a", "nowhere"]},
            task("c", ["b"], timeout_seconds=-1),
            task("d", ["d"]),
            {"id": "e", "type": "pipeline"},
        ],
    )
    by_loc = {str(error.loc): error.msg for error in validation_errors(defn)}
    # Structural (pydantic): one per broken field.
    assert "at least 1 character" in by_loc[str(["agents", 0, "role"])]
    assert by_loc[str(["steps", 1, "description"])] == "Field required"
    assert by_loc[str(["steps", 1, "expected_output"])] == "Field required"
    assert "greater than 0" in by_loc[str(["steps", 2, "timeout_seconds"])]
    assert by_loc[str(["steps", 4, "type"])].startswith("type must be one of: approval, condition")
    # Whole-document rules, over the parts that parsed.
    assert by_loc[str(["agents", 1, "llm"])].startswith("unknown model 'gpt-9'")
    assert by_loc[str(["agents", 1, "goal"])] == "placeholder '{audience}' names no declared input"
    assert by_loc[str(["steps", 0, "agent"])] == "unknown agent 'ghost'"
    assert by_loc[str(["steps", 3, "after", 0])] == "a step cannot wait for itself"
    assert len(by_loc) == 9, by_loc


def test_a_broken_element_is_still_known_by_its_id() -> None:
    # "writer" lacks a goal and "research" a description, yet both ids exist: the step that
    # names the agent and the step that waits for "research" get no second error.
    defn = definition(
        agents=[agent(goal="")],
        steps=[task("research", description=""), task("write", ["research"])],
    )
    assert locs(validation_errors(defn)) == [
        ["agents", 0, "goal"],
        ["steps", 0, "description"],
    ]


def test_input_errors_are_reported_with_a_broken_definition() -> None:
    errors = compile_errors(definition(agents=[agent(role="")]), {"bogus": "x"})
    assert sorted(map(str, locs(errors))) == sorted(
        map(str, [["agents", 0, "role"], ["inputs", "bogus"], ["inputs", "topic"]])
    )


def test_validate_definition_ignores_inputs_but_reports_the_rest() -> None:
    # "topic" is required and has no default: fine without a run.
    validate_definition(definition(), MODELS)
    errors = validation_errors(definition(steps=[task("a", agent="ghost")]))
    assert locs(errors) == [["steps", 0, "agent"]]


# --- inputs at compile time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "loc", "fragment"),
    [
        ({}, ["inputs", "topic"], "missing required input 'topic'"),
        ({"topic": None}, ["inputs", "topic"], "missing required input 'topic'"),
        ({"topic": {"a": 1}}, ["inputs", "topic"], "must be text, a number or a boolean"),
        ({"topic": ["a"]}, ["inputs", "topic"], "must be text, a number or a boolean"),
    ],
    ids=["missing", "none", "dict", "list"],
)
def test_bad_input(inputs: dict[str, Any], loc: list[str | int], fragment: str) -> None:
    error = only(compile_errors(definition(), inputs))
    assert error.loc == loc
    assert fragment in error.msg


def test_unknown_input_is_refused() -> None:
    error = only(compile_errors(definition(), {**INPUTS, "bogus": "x"}))
    assert error.loc == ["inputs", "bogus"]
    assert "unknown input 'bogus'" in error.msg


@pytest.mark.parametrize(
    ("spec", "given", "expected"),
    [
        ({"name": "topic", "default": "tides"}, {}, "tides"),
        ({"name": "topic", "default": "tides"}, {"topic": "waves"}, "waves"),
        ({"name": "topic", "required": False, "default": "tides"}, {}, "tides"),
        ({"name": "topic", "required": False}, {}, ""),
        ({"name": "topic"}, {"topic": 3}, "3"),
        ({"name": "topic"}, {"topic": 2.5}, "2.5"),
        ({"name": "topic"}, {"topic": True}, "True"),
    ],
)
def test_input_values(spec: dict[str, Any], given: dict[str, Any], expected: str) -> None:
    plan = compile_plan(definition(inputs=[spec]), given, MODELS)
    assert plan.inputs == {"topic": expected}
    assert task_step(plan, "research").description == f"Do research about {expected}."


# --- placeholders and rendering ---------------------------------------------------------


def test_placeholders_render_in_every_templated_field() -> None:
    defn = definition(
        inputs=[{"name": "topic"}, {"name": "tone"}],
        agents=[agent(role="{tone} writer", goal="Cover {topic}", backstory="Knows {topic}.")],
        steps=[task("a", description="{{x}} on {topic}", expected_output="A {tone} {{y}}")],
    )
    plan = compile_plan(defn, {"topic": "tides", "tone": "calm"}, MODELS)
    writer = plan.agents["writer"]
    assert (writer.role, writer.goal, writer.backstory) == (
        "calm writer",
        "Cover tides",
        "Knows tides.",
    )
    step = task_step(plan, "a")
    assert (step.description, step.expected_output) == ("{x} on tides", "A calm {y}")


def test_input_values_are_not_interpolated_again() -> None:
    defn = definition(steps=[task("a", description="On {topic}, {{topic}}.")])
    plan = compile_plan(defn, {"topic": "{evil} {topic} {{x}}"}, MODELS)
    assert task_step(plan, "a").description == "On {evil} {topic} {{x}}, {topic}."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("{topic}", "{evil}"),
        ("{{topic}}", "{topic}"),
        ("{{{topic}}}", "{{evil}}"),
        ("}}{{", "}{"),
    ],
)
def test_render(text: str, expected: str) -> None:
    assert render(text, {"topic": "{evil}"}) == expected


def test_pydantic_errors_drop_the_union_tag_and_add_the_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        WorkflowDefinition.model_validate(definition(steps=[task("a", agent="no way")]))
    (error,) = pydantic_errors(info.value, prefix=["definition"])
    assert error.loc == ["definition", "steps", 0, "agent"]
    assert "should match pattern" in error.msg


# --- defaults ---------------------------------------------------------------------------


def test_defaults() -> None:
    plan = compile_plan(definition(steps=[task("a"), approval("ok", ["a"])]), INPUTS, MODELS)
    step, gate = plan.steps
    assert isinstance(step, PlanTaskStep)
    assert step.retry == RetrySpec(max_attempts=3, initial_interval_seconds=1, backoff=2.0)
    assert step.timeout_seconds == 600
    assert step.on_failure == "pause"
    assert isinstance(gate, PlanApprovalStep)
    assert (gate.on_timeout, gate.on_reject, gate.max_rejections) == ("reject", "end", 3)
    assert plan.max_parallel == 16
    assert plan.agents["writer"].max_iter == 5


def test_explicit_settings_are_kept() -> None:
    retry = {"max_attempts": 100, "initial_interval_seconds": 0.5, "backoff": 1.0}
    defn = definition(steps=[task("a", retry=retry, timeout_seconds=30)], max_parallel=4)
    plan = compile_plan(defn, INPUTS, MODELS)
    assert plan.step("a").model_dump(include={"retry", "timeout_seconds"}) == {
        "retry": retry,
        "timeout_seconds": 30,
    }
    assert plan.max_parallel == 4


# --- plan shape -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "order"),
    [
        ([task("c", ["a", "b"]), task("a"), task("b")], ["a", "b", "c"]),
        ([task("x"), task("y", ["x"]), task("z")], ["x", "y", "z"]),
        ([task("b", ["a"]), task("c"), task("a")], ["c", "a", "b"]),
        ([task("d", ["b"]), task("b", ["a"]), task("c"), task("a")], ["c", "a", "b", "d"]),
    ],
)
def test_topological_order_follows_definition_order(
    steps: list[dict[str, Any]], order: list[str]
) -> None:
    plan = compile_plan(definition(steps=steps), INPUTS, MODELS)
    assert [s.id for s in plan.steps] == order


def test_context_looks_through_approval_gates() -> None:
    steps = [
        task("research"),
        approval("review", ["research"]),
        approval("legal", ["review"]),
        task("outline"),
        task("write", ["legal", "outline", "research"]),
        task("polish", ["write"]),
    ]
    plan = compile_plan(definition(steps=steps), INPUTS, MODELS)
    assert task_step(plan, "research").context_from == []
    assert gate_step(plan, "review").upstream_tasks == ["research"]
    assert gate_step(plan, "legal").upstream_tasks == ["research"]
    assert task_step(plan, "write").context_from == ["research", "outline"]
    assert task_step(plan, "polish").context_from == ["write"]


def test_sink_ids() -> None:
    steps = [task("a"), task("b", ["a"]), task("c", ["a"]), approval("d", ["b"])]
    plan = compile_plan(definition(steps=steps), INPUTS, MODELS)
    assert plan.sink_ids() == ["c", "d"]


def test_plan_names_models_but_carries_no_config() -> None:
    defn = definition(agents=[agent(), agent("editor", llm="claude")])
    plan = compile_plan(defn, INPUTS, MODELS)
    assert {a.id: a.llm for a in plan.agents.values()} == {"writer": "gpt", "editor": "claude"}
    # No model config (no key, no endpoint): only names, and the run's limits.
    assert set(Plan.model_fields) == {
        "inputs",
        "agents",
        "steps",
        "max_parallel",
        "meta",
        "tools",
        "budget",
    }
    # The plan round-trips through JSON (it is pinned in the workflow's input).
    assert Plan.model_validate_json(plan.model_dump_json()) == plan


def test_long_chain_compiles() -> None:
    plan = compile_plan(definition(steps=chain(3000)), INPUTS, MODELS)
    assert [s.id for s in plan.steps] == [f"s{i}" for i in range(3000)]
    assert task_step(plan, "s2999").context_from == ["s2998"]
    assert plan.sink_ids() == ["s2999"]


# --- bugs -------------------------------------------------------------------------------


def test_long_approval_chain_compiles() -> None:
    steps = chain(3000, make=approval)
    validate_definition(definition(steps=steps), MODELS)  # passes: the check is iterative
    plan = compile_plan(definition(steps=steps), INPUTS, MODELS)
    assert gate_step(plan, "s2999").upstream_tasks == ["s0"]


def test_layers_of_parallel_approvals_compile() -> None:
    # Each layer doubles the paths through the gates: a walk of every path would never end.
    steps = [task("start")]
    previous = ["start"]
    for layer in range(20):
        current = [f"gate{layer}_a", f"gate{layer}_b"]
        steps += [approval(gate, previous) for gate in current]
        previous = current
    steps.append(task("end", previous))
    plan = compile_plan(definition(steps=steps), INPUTS, MODELS)
    assert task_step(plan, "end").context_from == ["start"]
