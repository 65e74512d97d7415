"""A step attempt's transcript, read from its stored record and the call journal.

The journal holds each call once; an attempt's record holds only references to the calls
it made or replayed, in order. Records stored before the journal carried their entries
inline and are read as they are.
"""

from __future__ import annotations

import json

from pydantic import TypeAdapter

from api.schemas.transcripts import AttemptRecord, AttemptTranscript
from db.call_journal import INTENT, CallJournal, Journaled
from workflows.task_step import TranscriptEntry

_ENTRY: TypeAdapter[TranscriptEntry] = TypeAdapter(TranscriptEntry)
OUTCOME_UNKNOWN = "outcome unknown"


async def attempt_transcript(
    journal: CallJournal, run_id: str, step_id: str, stored: str
) -> AttemptTranscript:
    data = json.loads(stored)
    if "calls" not in data:
        return AttemptTranscript.model_validate(data)
    record = AttemptRecord.model_validate(data)
    calls = await journal.calls_of_execution(run_id, step_id, record.execution)
    return transcript_of(record, calls)


async def attempt_transcripts(
    journal: CallJournal, run_id: str, stored: dict[str, str]
) -> dict[str, AttemptTranscript]:
    """Many steps' attempt transcripts (``stored``: each step's record, by step id), with
    one journal query for all of them."""
    data = {step_id: json.loads(text) for step_id, text in stored.items()}
    records = {
        step_id: AttemptRecord.model_validate(item)
        for step_id, item in data.items()
        if "calls" in item
    }
    calls = await journal.calls_of_executions(
        run_id, {(step_id, record.execution) for step_id, record in records.items()}
    )
    return {
        step_id: transcript_of(records[step_id], calls[(step_id, records[step_id].execution)])
        if step_id in records
        else AttemptTranscript.model_validate(item)
        for step_id, item in data.items()
    }


def transcript_of(
    record: AttemptRecord, calls: dict[tuple[str, int, str], Journaled]
) -> AttemptTranscript:
    """An attempt's record with the journal's calls it refers to, in its order."""
    entries: list[TranscriptEntry] = []
    for ref in record.calls:
        found = calls.get((ref.kind, ref.call_index, ref.request_hash))
        if found is None or found.record is None:
            continue  # deleted with the run's blobs, or never written
        entry = _ENTRY.validate_python(found.record)
        update: dict[str, object] = {"replayed": ref.replayed}
        if found.status == INTENT:  # started, never reported back
            update["error"] = OUTCOME_UNKNOWN
        entries.append(entry.model_copy(update=update))
    return AttemptTranscript(**record.model_dump(exclude={"calls"}), entries=entries)
