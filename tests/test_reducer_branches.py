"""The reducer's rules for branches, joins and child steps, event by event, with no Temporal."""

from __future__ import annotations

import json

from tests.helpers import agent, task
from tests.reducer_driver import ReducerDriver
from workflows.engine.events import (
    ChildFinished,
    ChildStatusChanged,
    ContinueAsNewSuggested,
    MapResultsStored,
    RetryRequested,
    RunStarted,
    StartChild,
    StoreMapResults,
    TaskFailed,
)
from workflows.engine.state import RunData
from workflows.status import RunStatus, StepStatus


def condition_into_join(join: str) -> dict[str, object]:
    return {
        "agents": [agent()],
        "steps": [
            task("a"),
            {
                "id": "pick",
                "type": "condition",
                "after": ["a"],
                "if": 'output("a") == "left"',
                "then": ["left"],
                "else": ["right"],
            },
            task("left", after=["pick"]),
            task("right", after=["pick"]),
            task("slow", after=[]),
            task("end", after=["left", "right", "slow"], join=join),
        ],
    }


def children_started(driver: ReducerDriver) -> list[StartChild]:
    return [c for c in driver.commands if isinstance(c, StartChild)]


def finish_child(driver: ReducerDriver, step_id: str, **fields: object) -> None:
    driver.feed(
        ChildFinished.model_validate(
            {
                "at": driver.now,
                "step_id": step_id,
                "execution": driver.run.steps[step_id].execution,
                "outcome": "completed",
                **fields,
            }
        )
    )


def test_join_all_waits_for_every_open_edge_and_runs_on_the_taken_one() -> None:
    driver = ReducerDriver(condition_into_join("all"))
    driver.start()
    driver.succeed("a", "left")
    assert driver.run.steps["right"].status == StepStatus.NOT_TAKEN
    driver.succeed("left")
    assert driver.run.steps["end"].status == StepStatus.PENDING  # slow is still open
    driver.succeed("slow")
    assert driver.run.steps["end"].status == StepStatus.RUNNING


def test_join_any_runs_at_the_first_taken_edge_and_only_once() -> None:
    driver = ReducerDriver(condition_into_join("any"))
    driver.start()
    driver.succeed("a", "left")
    driver.succeed("left")
    assert driver.run.steps["end"].status == StepStatus.RUNNING
    driver.succeed("slow")
    assert driver.run.steps["end"].execution == 1


def test_a_step_whose_every_edge_ended_untaken_is_not_taken_and_so_are_its_dependents() -> None:
    driver = ReducerDriver(
        {
            "agents": [agent()],
            "steps": [
                task("a"),
                {
                    "id": "pick",
                    "type": "condition",
                    "after": ["a"],
                    "if": "false",
                    "then": ["x"],
                },
                task("x", after=["pick"]),
                task("y", after=["x"]),
                task("z", after=["y"], join="any"),
            ],
        }
    )
    driver.start()
    driver.succeed("a")
    assert [driver.run.steps[s].status for s in ("x", "y", "z")] == [StepStatus.NOT_TAKEN] * 3
    assert driver.run.is_finished()
    assert driver.run.outcome() == RunStatus.COMPLETED


def test_a_loop_waits_out_continue_as_new_between_iterations_and_goes_on_after() -> None:
    definition = {
        "agents": [agent()],
        "steps": [
            {
                "id": "refine",
                "type": "loop",
                "until": 'output("draft") == "good"',
                "max_iterations": 5,
                "steps": [task("draft")],
            }
        ],
    }
    driver = ReducerDriver(definition)
    driver.start()
    assert [c.iteration for c in children_started(driver)] == [1]
    driver.feed(ContinueAsNewSuggested(at=driver.now))
    finish_child(driver, "refine", outputs={"draft": "meh"})
    # Draining: the second iteration waits for the run to continue as new.
    assert len(children_started(driver)) == 1
    assert driver.run.steps["refine"].status == StepStatus.PENDING
    carried = RunData.model_validate_json(driver.run.model_dump_json())
    after = ReducerDriver(definition, run=carried)
    after.feed(RunStarted(at=after.now))
    assert [c.iteration for c in children_started(after)] == [2]
    finish_child(after, "refine", outputs={"draft": "good"})
    refine = after.run.steps["refine"]
    assert (refine.status, refine.iteration, refine.output) == (StepStatus.COMPLETED, 2, "good")


def three_items_in_chunks_of_two() -> ReducerDriver:
    """A started run of one map over three items, two to a child run."""
    driver = ReducerDriver(
        {
            "inputs": [{"name": "items", "default": '["a", "b", "c"]'}],
            "agents": [agent()],
            "steps": [
                {
                    "id": "each",
                    "type": "map",
                    "items": "items",
                    "chunk_size": 2,
                    "steps": [task("work", description="{item}")],
                }
            ],
        }
    )
    driver.start()
    return driver


def test_a_map_takes_its_chunks_in_order_and_a_child_that_fails_pauses_it_for_a_retry() -> None:
    driver = three_items_in_chunks_of_two()
    first = children_started(driver)[-1]
    assert (first.items, first.first_index) == (["a", "b"], 0)
    driver.feed(
        ChildStatusChanged(
            at=driver.now, step_id="each", child_run_id="r.each.1", status="needs_attention"
        )
    )
    assert driver.run.steps["each"].child_status is None  # not the child it started yet
    finish_child(driver, "each", outputs={"work-0": "A", "work-1": "B"})
    second = children_started(driver)[-1]
    assert (second.items, second.first_index) == (["c"], 2)
    finish_child(driver, "each", outcome="failed", error="boom")
    each = driver.run.steps["each"]
    assert (each.status, each.error, each.items_done) == (StepStatus.PAUSED, "boom", 2)
    driver.feed(RetryRequested(at=driver.now, step_id="each"))
    third = children_started(driver)[-1]
    assert (third.items, third.first_index) == (["c"], 2)
    finish_child(driver, "each", outputs={"work-2": "C"})
    assert json.loads(driver.run.steps["each"].output or "") == ["A", "B", "C"]


def test_a_large_maps_results_go_to_blobs_and_a_failed_store_is_retried_not_rerun() -> None:
    driver = three_items_in_chunks_of_two()
    large = "x" * 800  # two of them do not fit in a preview
    finish_child(driver, "each", outputs={"work-0": large, "work-1": large})
    [batch] = stores_asked(driver)
    assert ([e.output for e in batch.entries], batch.final) == ([large, large], False)
    each = driver.run.steps["each"]
    assert each.status == StepStatus.RUNNING  # no next chunk before the batch is stored
    assert driver.run.map_outputs["each"] == []
    driver.feed(ContinueAsNewSuggested(at=driver.now))
    driver.feed(stored(driver, "batch-1"))
    assert driver.run.map_unstored == {} and driver.run.map_batches == {"each": ["batch-1"]}

    # It continues as new between chunks: the batch id goes along, no result does.
    driver = driver.continue_as_new()
    last = children_started(driver)[-1]
    assert (last.items, last.first_index) == (["c"], 2)
    finish_child(driver, "each", outputs={"work-2": "C"}, output_refs={"work-2": "blob-c"})
    [final] = stores_asked(driver)
    assert final.final and final.batch_refs == ["batch-1"]
    assert [(e.output, e.output_ref) for e in final.entries] == [("C", "blob-c")]

    # The store fails: the step pauses, and its retry stores again, running no item.
    driver.feed(
        TaskFailed(
            at=driver.now,
            step_id="each",
            execution=driver.run.steps["each"].execution,
            error="storing its results: database is down",
            attempts=1,
        )
    )
    each = driver.run.steps["each"]
    assert (each.status, each.output) == (StepStatus.PAUSED, None)
    driver.commands = []
    driver.retry("each")
    assert children_started(driver) == []
    [again] = stores_asked(driver)
    assert again.entries == final.entries and again.batch_refs == ["batch-1"]
    driver.feed(stored(driver, "whole", preview='["xxx…'))
    each = driver.run.steps["each"]
    assert (each.status, each.output, each.output_ref) == (
        StepStatus.COMPLETED,
        '["xxx…',
        "whole",
    )
    assert driver.run.map_batches == {} and driver.statuses()["each"] == StepStatus.COMPLETED


def stores_asked(driver: ReducerDriver) -> list[StoreMapResults]:
    asked = [c for c in driver.commands if isinstance(c, StoreMapResults)]
    driver.commands = []
    return asked


def stored(driver: ReducerDriver, ref: str, preview: str = "") -> MapResultsStored:
    execution = driver.run.steps["each"].execution
    return MapResultsStored(
        at=driver.now, step_id="each", execution=execution, ref=ref, preview=preview
    )
