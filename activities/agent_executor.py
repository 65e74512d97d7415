"""CrewAI's agent executor, without the pydantic class it built for every task, nor the
usage listener it attached to the process's event bus for every task.

CrewAI's ``AgentExecutor`` is a Flow whose state type, ``AgentExecutorState``, is not a
``FlowState``. For such a type the Flow declares a new ``StateWithId(FlowState, ...)``
class for the first state of every executor it creates (which the executor then
replaces with a plain ``AgentExecutorState``), and pydantic builds that class's schema
each time: about 2.5 of the 11 ms of CPU CrewAI spends on a one-call task, measured with
a model that answers at once. Every task step creates an executor.

``Agent(executor_class=...)`` is CrewAI's own extension point. The executor here only
names a state type that is already a ``FlowState``, built once at import, so the Flow
instantiates it directly; the executor's state is what it was.
"""

from __future__ import annotations

from crewai.agents.agent_executor import AgentExecutor, AgentExecutorState
from crewai.flow.runtime import FlowState


class ExecutorState(FlowState, AgentExecutorState):
    """AgentExecutorState with FlowState's id: the class CrewAI would build per task."""


class KasalAgentExecutor(AgentExecutor):
    """AgentExecutor whose state class is built once, not once per task, and which sums
    no usage of its own."""

    def _attach_usage_aggregation_listener(self) -> None:
        """Attach nothing. The Flow would put a listener on the process-wide event bus for
        each kickoff, to sum its LLM calls' tokens, and every LLM call's completion calls
        every listener attached. With a few hundred steps in flight, that was a few
        hundred calls for each, and past 256 listeners each call inspected its listener
        again (CrewAI's signature cache holds 256). Nothing reads an executor's sum: Kasal
        counts each call's tokens itself (activities/llm_manager.py)."""


# Set after the class statement, as Flow's own ``Flow[State]`` does: pydantic would take
# an underscored name in the class body for a private instance attribute.
KasalAgentExecutor._initial_state_t = ExecutorState
# A Flow's steps are read from its class's own namespace, where a subclass has none:
# this one runs AgentExecutor's.
KasalAgentExecutor._flow_definition = AgentExecutor.flow_definition()
