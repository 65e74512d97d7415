"""Request and response bodies for importing Kasal's crews and flows."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel

OnConflict = Literal["new_version", "rename"]
ImportedKind = Literal["crew", "flow"]


class ImportedWorkflow(BaseModel):
    id: uuid.UUID
    name: str
    kind: ImportedKind
    version: int


class ImportWarning(BaseModel):
    loc: list[str | int]
    msg: str


class ImportResult(BaseModel):
    created: list[ImportedWorkflow]
    warnings: list[ImportWarning]


# The body is Kasal's own JSON, read by api/services/kasal_import/shapes.py so that every
# error is located from the body's root.
KasalImportBody = dict[str, Any]
