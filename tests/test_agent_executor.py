"""Kasal's CrewAI executor: CrewAI's own steps, without a state class built per task."""

from __future__ import annotations

import gc

from crewai import LLM, Agent, Task
from crewai.agents.agent_executor import AgentExecutor
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
