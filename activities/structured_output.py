"""A task's ``output_schema``: its answer parsed as JSON and validated, with one repair.

Conditions and routers read fields of an output (``output("classify").label``), so a step
that declares a schema must hand on JSON that meets it, or fail for an operator to see.
The model is told the schema in the task's expected output; an answer that still misses
it is sent back once, with the problems found, and a second miss fails the attempt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import relevance
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

# How many problems a repair request and a failure name: the first few tell the story.
SHOWN_PROBLEMS = 3
PROBLEM_CHARS = 300
_FENCE = re.compile(r"```[A-Za-z]*[ \t]*\n?(.*?)```", re.DOTALL)
_OPENING = re.compile(r"[{\[]")

Ask = Callable[[list[dict[str, str]]], Awaitable[str]]


class OutputSchemaMismatch(Exception):
    """The answer, repaired once, still is not JSON that meets the step's schema."""


def expected_output_with_schema(expected_output: str, schema: dict[str, Any]) -> str:
    """The task's expected output, telling the model the shape its answer must have."""
    return (
        f"{expected_output}\n\n"
        "Your final answer must be only a JSON value, with no other text, "
        "that is valid against this JSON Schema:\n"
        f"{json.dumps(schema, ensure_ascii=False)}"
    )


async def conform(answer: str, schema: dict[str, Any], task: str, ask: Ask) -> str:
    """The answer as canonical JSON text, after at most one repair call through ``ask``."""
    value, problems = parse_and_validate(answer, schema)
    if not problems:
        return canonical(value)
    repaired = await ask(repair_messages(task, answer, schema, problems))
    value, still = parse_and_validate(repaired, schema)
    if still:
        raise OutputSchemaMismatch(
            "the answer does not meet the step's output_schema, even after one repair: "
            + "; ".join(still)
        )
    return canonical(value)


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_and_validate(text: str, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The JSON value in ``text`` and the first problems with it ([] when it is valid).

    Of the values the text holds (all of it, a fenced block, or one embedded in prose),
    the first valid one wins; when none is, the first found is the one reported on.
    """
    validator = validator_for(schema, default=Draft202012Validator)(schema)
    first: tuple[Any, list[str]] | None = None
    for value in _json_values(text):
        try:
            errors = sorted(validator.iter_errors(value), key=relevance)
        except Unresolvable as exc:  # a $ref to a document we do not fetch
            raise OutputSchemaMismatch(f"the step's output_schema cannot be used: {exc}") from None
        if not errors:
            return value, []
        if first is None:
            first = value, [_problem(e.json_path, e.message) for e in errors[:SHOWN_PROBLEMS]]
    if first is None:
        return None, ["the answer holds no JSON value"]
    return first


def repair_messages(
    task: str, answer: str, schema: dict[str, Any], problems: list[str]
) -> list[dict[str, str]]:
    """A request for the corrected JSON alone: the task, the answer, the schema, the problems."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return [
        {
            "role": "system",
            "content": "You correct answers so that they are JSON valid against a JSON Schema. "
            "Reply with the corrected JSON only: no explanation, no code fence.",
        },
        {
            "role": "user",
            "content": f"The task was:\n{task}\n\n"
            f"The answer given was:\n{answer}\n\n"
            f"It must be JSON valid against this JSON Schema:\n"
            f"{json.dumps(schema, ensure_ascii=False)}\n\n"
            f"These problems were found:\n{listed}\n\n"
            "Reply with the corrected JSON only.",
        },
    ]


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON value the text may mean, the likeliest first."""
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in candidates:
        try:
            yield json.loads(candidate)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    end = 0
    for match in _OPENING.finditer(text):
        if match.start() < end:  # inside a value already found
            continue
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        yield value


def _problem(path: str, message: str) -> str:
    text = f"{path}: {message}"
    return text if len(text) <= PROBLEM_CHARS else text[:PROBLEM_CHARS] + "…"
