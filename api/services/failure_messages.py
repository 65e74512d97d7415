"""Failure messages readable again where payload encryption hides them.

With encryption on, the worker's failure converter moves each failure's message and
stack trace into an encrypted payload (``encoded_attributes``) and leaves "Encoded
failure" in their place (db/payload_store.py). The API reads failures straight from
history events and workflow descriptions: those are decoded here first, in place, so
that a step's error reads as the workflow saw it, and the history fold matches it.
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent as RawEvent
from temporalio.client import WorkflowExecutionDescription
from temporalio.converter import DataConverter
from temporalio.exceptions import FailureError

from db.payload_codec import UnknownPayloadKey


def _encoded(failure: Failure) -> bool:
    while True:
        if failure.HasField("encoded_attributes"):
            return True
        if not failure.HasField("cause"):
            return False
        failure = failure.cause


async def decode_failure(failure: Failure, converter: DataConverter) -> None:
    """Put the decoded message back on ``failure`` and on each of its causes."""
    if not _encoded(failure):
        return
    copy = Failure()
    copy.CopyFrom(failure)
    try:
        error: BaseException | None = await converter.decode_failure(copy)
    except UnknownPayloadKey as err:
        failure.message = f"(failure message not readable: {err})"
        return
    node: Failure | None = failure
    while node is not None and error is not None:
        if isinstance(error, FailureError):
            node.message = error.message
        node = node.cause if node.HasField("cause") else None
        error = error.__cause__


async def decode_event_failures(events: Iterable[RawEvent], converter: DataConverter) -> None:
    """Every failure the events carry (an activity's, a timeout's, the run's own)."""
    for event in events:
        kind = event.WhichOneof("attributes")
        if kind is None:
            continue
        attributes = getattr(event, kind)
        if "failure" in attributes.DESCRIPTOR.fields_by_name and attributes.HasField("failure"):
            await decode_failure(attributes.failure, converter)


async def decode_pending_failures(
    description: WorkflowExecutionDescription, converter: DataConverter
) -> None:
    """The last failures of the activities still in flight."""
    for pending in description.raw_description.pending_activities:
        if pending.HasField("last_failure"):
            await decode_failure(pending.last_failure, converter)
