"""Request and response bodies for workflow definitions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# The definition is checked by the compiler, so that every error's loc is counted from
# the definition's root, whether pydantic or the compiler finds it.
Spec = dict[str, Any]
Layout = dict[str, Any]


class WorkflowCreate(BaseModel):
    name: Name
    description: str = ""
    spec: Spec
    layout: Layout | None = None


class WorkflowUpdate(BaseModel):
    """A PUT makes a new version; name and description may change with it."""

    name: Name | None = None
    description: str | None = None
    spec: Spec
    layout: Layout | None = None


class WorkflowRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: int
    spec: Spec
    layout: Layout | None
    created_at: datetime
    updated_at: datetime


class WorkflowSummary(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


class WorkflowPage(BaseModel):
    items: list[WorkflowSummary]
    total: int


class VersionRead(BaseModel):
    workflow_id: uuid.UUID
    version: int
    spec: Spec
    layout: Layout | None
    created_at: datetime


class ValidateRequest(BaseModel):
    spec: Spec


class ValidateResponse(BaseModel):
    valid: bool = True
    steps: list[str] = Field(description="Step ids in the order the plan takes them")
    inputs: list[str]
