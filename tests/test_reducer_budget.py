"""The budget's rule, event by event (workflows/engine/budget.py): parallel steps share
one budget through allowances, and together never hold more than is left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import agent, task
from tests.reducer_driver import ReducerDriver
from workflows.engine.events import AllowanceRequested, BudgetRaised, StartTask, TaskSucceeded
from workflows.plan import BudgetLimits
from workflows.status import StepStatus
from workflows.task_step import Allowance, TokenUsage

BUDGET = 1000


def two_branches() -> ReducerDriver:
    driver = ReducerDriver(
        {
            "agents": [agent()],
            "steps": [task("left"), task("right")],
            "budget": {"max_tokens": BUDGET},
        }
    )
    driver.start()
    return driver


def ask(driver: ReducerDriver, step_id: str, tokens: int) -> Allowance | None:
    execution = driver.run.steps[step_id].execution
    needed = Allowance(cost_micros=0, tokens=tokens)
    event = AllowanceRequested(at=driver.now, step_id=step_id, execution=execution, needed=needed)
    return driver.feed(event).allowance


def finish(driver: ReducerDriver, step_id: str, tokens: int) -> None:
    driver.feed(
        TaskSucceeded(
            at=driver.now,
            step_id=step_id,
            execution=driver.run.steps[step_id].execution,
            output="done",
            usage=TokenUsage(total_tokens=tokens, llm_calls=1),
            attempts=1,
        )
    )


def test_each_step_starts_with_a_share_and_two_branches_cannot_both_take_the_rest() -> None:
    driver = two_branches()
    starts = [c for c in driver.commands if isinstance(c, StartTask)]
    assert [(c.step_id, c.allowance) for c in starts] == [
        ("left", Allowance(tokens=BUDGET // 10)),
        ("right", Allowance(tokens=BUDGET // 10)),
    ]
    # Left asks for more than is free: a part would not let its call start, so it gets
    # none. Then for all that is left: it gets what no one holds.
    assert ask(driver, "left", 900) == Allowance(tokens=100)
    assert ask(driver, "left", 800) == Allowance(tokens=100 + 800)
    # Right asks for a little more: there is nothing more to give.
    assert ask(driver, "right", 50) == Allowance(tokens=100)
    # Left ends having spent 300: the rest of its allowance is free again.
    finish(driver, "left", 300)
    assert ask(driver, "right", 50) == Allowance(tokens=100 + 100)


def test_a_wide_runs_steps_each_start_with_a_share_of_the_budget() -> None:
    """A step that starts while its siblings hold their shares still gets one: a run of
    32 at once splits the budget 32 ways, not ten (the ten would hold it all)."""
    driver = ReducerDriver(
        {
            "agents": [agent()],
            "steps": [task(f"s{i}") for i in range(40)],
            "max_parallel": 32,
            "budget": {"max_tokens": 3200},
        }
    )
    driver.start()
    starts = [c for c in driver.commands if isinstance(c, StartTask)]
    assert [c.allowance for c in starts] == [Allowance(tokens=100)] * 32


def test_a_raise_frees_more_for_a_step_that_asks_again() -> None:
    driver = two_branches()
    ask(driver, "left", 800)
    assert ask(driver, "right", 500) == Allowance(tokens=100)
    driver.feed(BudgetRaised(at=driver.now, limits=BudgetLimits(max_tokens=5000)))
    assert ask(driver, "right", 500) == Allowance(tokens=100 + 500)


def test_a_stale_execution_gets_nothing_more() -> None:
    driver = two_branches()
    finish(driver, "left", 10)
    assert driver.run.steps["left"].status == StepStatus.COMPLETED
    assert ask(driver, "left", 50) == Allowance(cost_micros=0, tokens=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["left", "right"]),
            st.sampled_from(["ask", "finish"]),
            st.integers(min_value=0, max_value=600),
        ),
        max_size=12,
    )
)
def test_what_is_held_and_spent_never_exceeds_the_budget(
    actions: list[tuple[str, str, int]],
) -> None:
    """A small reference model: whatever the branches ask and spend (never more than
    they hold, as the activity's guard ensures), held plus spent stays within it."""
    driver = two_branches()
    for step_id, action, amount in actions:
        if driver.run.steps[step_id].status != StepStatus.RUNNING:
            continue
        if action == "ask":
            ask(driver, step_id, amount)
        else:
            held = driver.run.allowances[step_id].tokens or 0
            finish(driver, step_id, min(amount, held))
        held = sum(a.tokens or 0 for a in driver.run.allowances.values())
        assert held + driver.run.usage().total_tokens <= BUDGET
