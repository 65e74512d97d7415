"""Kasal's CrewAI executor: CrewAI's own steps, without a state class built per task,
nor a usage listener on the process's event bus per task."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from crewai import LLM, Agent, Task
from crewai.agents.agent_executor import AgentExecutor
from crewai.events.event_bus import crewai_event_bus
from crewai.events.types.llm_events import LLMCallCompletedEvent
from crewai.flow.runtime import FlowState

from activities.agent_executor import KasalAgentExecutor


def _create_executor(executor_class: type[AgentExecutor]) -> None:
    agent = Agent(
        role="Writer",
        goal="Write",
        backstory="Writes.",
        llm=LLM(model="openai/unused", api_key="unused"),
        executor_class=executor_class,
    )
    agent.create_agent_executor(
        task=Task(description="Write.", expected_output="Text", agent=agent)
    )
    assert isinstance(agent.agent_executor, executor_class)


def _state_classes_built(executor_class: type[AgentExecutor], executors: int) -> int:
    """FlowState subclasses declared while creating ``executors`` executors. The garbage
    collector is held off so that a class built and dropped is still counted."""
    gc.disable()
    try:
        before = len(FlowState.__subclasses__())
        for _ in range(executors):
            _create_executor(executor_class)
        return len(FlowState.__subclasses__()) - before
    finally:
        gc.enable()


def test_kasals_executor_builds_no_state_class_per_task() -> None:
    assert _state_classes_built(KasalAgentExecutor, 3) == 0


def test_crewais_own_executor_builds_a_state_class_per_task() -> None:
    """Why KasalAgentExecutor exists; if this fails, CrewAI stopped doing it."""
    assert _state_classes_built(AgentExecutor, 3) == 3


def test_it_runs_crewais_own_steps() -> None:
    assert KasalAgentExecutor.flow_definition() is AgentExecutor.flow_definition()
    assert KasalAgentExecutor.flow_definition().methods


def _listeners_attached_by_a_task(
    executor_class: type[AgentExecutor], monkeypatch: pytest.MonkeyPatch
) -> list[type]:
    """The event types a task's run put listeners on, its LLM answering at once."""
    attached: list[type] = []
    on = crewai_event_bus.on

    def recording_on(event_type: type, *args: Any, **kwargs: Any) -> Any:
        attached.append(event_type)
        return on(event_type, *args, **kwargs)

    monkeypatch.setattr(crewai_event_bus, "on", recording_on)
    llm = LLM(model="openai/unused", api_key="unused", mock_response="Final Answer: ok")
    agent = Agent(
        role="Writer",
        goal="Write",
        backstory="Writes.",
        llm=llm,
        max_iter=1,
        executor_class=executor_class,
    )
    assert agent.execute_task(Task(description="Write.", expected_output="ok", agent=agent)) == "ok"
    return attached


def test_a_task_puts_no_usage_listener_on_the_event_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every LLM call's completion calls every listener attached: one per step in flight."""
    assert LLMCallCompletedEvent not in _listeners_attached_by_a_task(
        KasalAgentExecutor, monkeypatch
    )


def test_crewais_own_executor_puts_a_usage_listener_per_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why KasalAgentExecutor attaches none; if this fails, CrewAI stopped doing it."""
    assert LLMCallCompletedEvent in _listeners_attached_by_a_task(AgentExecutor, monkeypatch)
