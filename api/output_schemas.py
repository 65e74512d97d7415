"""A task's ``output_schema`` must be a JSON Schema, checked when a definition is saved.

The check lives here, not in the compiler: ``workflows/`` is imported into Temporal's
workflow sandbox, and jsonschema is not pure Python (its ``$ref`` resolution needs
rpds-py, a compiled extension). The API checks every definition it saves, validates or
imports, so no schema reaches a run unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from workflows.compiler import CompileError

Loc = list[str | int]


def output_schema_errors(spec: Mapping[str, Any]) -> list[CompileError]:
    """Each task's schema that is not a valid JSON Schema, at its loc; the template steps
    of maps and loops included. A schema that is not even an object is pydantic's to
    report."""
    errors = []
    for loc, schema in _schemas(spec):
        # Its own $schema picks the draft; 2020-12 when it names none, as for tools.
        try:
            validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except SchemaError as problem:  # the most relevant of its problems
            errors.append(CompileError(loc=loc, msg=_message(problem)))
    return errors


def _schemas(spec: Mapping[str, Any]) -> Iterator[tuple[Loc, dict[str, Any]]]:
    for index, step in _items(spec.get("steps")):
        yield from _schema_of(step, ["steps", index])
        for inner_index, inner in _items(step.get("steps")):
            yield from _schema_of(inner, ["steps", index, "steps", inner_index])


def _items(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _schema_of(step: Mapping[str, Any], loc: Loc) -> Iterator[tuple[Loc, dict[str, Any]]]:
    schema = step.get("output_schema")
    if isinstance(schema, dict):
        yield [*loc, "output_schema"], schema


def _message(problem: SchemaError) -> str:
    where = problem.json_path
    at = "" if where == "$" else f" at {where}"
    return f"not a valid JSON Schema{at}: {problem.message}"
