"""Transcripts of a step's attempts: every LLM call each attempt made, failed ones included.

The worker stores each attempt as one ``AttemptTranscript`` blob and the API serves the
blobs as stored, so this module is the one definition of that format. It imports only
pydantic and the workflow's transcript entries, so the worker can share it cheaply.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from workflows.task_step import TranscriptEntry

# The blob kind an attempt's transcript is stored under, found by (run_id, step_id, kind).
ATTEMPT_TRANSCRIPT_KIND = "attempt_transcript"


class AttemptTranscript(BaseModel):
    """One Temporal attempt of one execution of a task step."""

    execution: int = Field(description="1, then one more each time an operator retries")
    attempt: int = Field(description="Temporal's attempt within the execution, from 1")
    started_at: datetime
    finished_at: datetime
    error: str | None = Field(default=None, description="Why it failed; API keys redacted")
    entries: list[TranscriptEntry] = []


class StepTranscript(BaseModel):
    attempts: list[AttemptTranscript] = Field(
        description="Every attempt that finished, ordered by execution, then attempt"
    )
