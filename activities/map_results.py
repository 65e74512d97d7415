"""The ``store_map_results`` activity: a map's finished items, stored as one blob.

Why and when a map stores its results is in workflows/engine/child_steps.py; a batch
holds the items the run held, and the last store joins the batches and the last items
into the map's output, the JSON list of every item's result in item order.
"""

from __future__ import annotations

import json

from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.blobs import BlobStore
from workflows.map_results import STORE_MAP_RESULTS, StoredMapResults, StoreMapResultsInput
from workflows.task_step import preview

MAP_BATCH_KIND = "map_batch"
# The whole list is the step's output, stored as a large task output is.
MAP_OUTPUT_KIND = "output"


class MapResultsActivities:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    @activity.defn(name=STORE_MAP_RESULTS)
    async def store_map_results(self, input: StoreMapResultsInput) -> StoredMapResults:
        item_refs = [entry.output_ref for entry in input.entries if entry.output_ref]
        stored = await self._blobs.get_many([*input.batch_refs, *item_refs])
        missing = [ref for ref in [*input.batch_refs, *item_refs] if ref not in stored]
        if missing:
            # Deleted with a run that is gone: no retry brings them back.
            raise ApplicationError(
                f"{len(missing)} stored result(s) are gone", type="ResultsGone", non_retryable=True
            )
        results: list[str] = []
        for ref in input.batch_refs:
            results += json.loads(stored[ref])
        results += [
            stored[entry.output_ref] if entry.output_ref else entry.output
            for entry in input.entries
        ]
        content = json.dumps(results)
        ref = await self._blobs.put(
            kind=MAP_OUTPUT_KIND if input.final else MAP_BATCH_KIND,
            run_id=input.run_id,
            step_id=input.step_id,
            content=content,
        )
        return StoredMapResults(ref=ref, preview=preview(content))
