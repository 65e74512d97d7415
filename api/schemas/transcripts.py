"""Transcripts of a step's attempts: every LLM and tool call each attempt made, failed
attempts included.

The worker stores each attempt as one ``AttemptRecord`` blob: when it ran, how it ended,
and references to its calls in the call journal, which holds each call once. The API
reads the records and the journal into ``AttemptTranscript``s. (Attempts stored before
the journal kept their entries inline, as an ``AttemptTranscript``; they are read as
they are.) This module is the one definition of both formats; it imports only pydantic
and the workflow's transcript types, so the worker can share it cheaply.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from workflows.task_step import CallRef, TranscriptEntry

# The blob kind an attempt's transcript is stored under, found by (run_id, step_id, kind).
ATTEMPT_TRANSCRIPT_KIND = "attempt_transcript"


class _Attempt(BaseModel):
    execution: int = Field(description="1, then one more each time an operator retries")
    attempt: int = Field(description="Temporal's attempt within the execution, from 1")
    started_at: datetime
    finished_at: datetime
    error: str | None = Field(default=None, description="Why it failed; API keys redacted")


class AttemptRecord(_Attempt):
    """One Temporal attempt of one execution of a task step, as the worker stores it."""

    calls: list[CallRef]


class AttemptTranscript(_Attempt):
    """One Temporal attempt of one execution of a task step, with its calls."""

    entries: list[TranscriptEntry] = []


class StepTranscript(BaseModel):
    attempts: list[AttemptTranscript] = Field(
        description="Every attempt that finished, ordered by execution, then attempt"
    )
