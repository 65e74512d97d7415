"""Every size limit the API enforces, in one place (the README lists them).

A request body over ``KASAL_MAX_REQUEST_BYTES`` (5 MB by default) answers 413 before
any route reads it (api/middleware.py). Within that, what a person writes has limits of
its own, answered 422 at the ``loc`` of what is too big: a definition's step count and
texts, a run's inputs and a skipped step's output. Stored definitions that predate a
limit still run; only saving checks them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workflows.compiler import CompilationFailed, CompileError

MB = 1024 * 1024
DEFAULT_MAX_REQUEST_BYTES = 5 * MB  # KASAL_MAX_REQUEST_BYTES's default (kasal/settings.py)
MAX_DEFINITION_STEPS = 2000
MAX_DEFINITION_AGENTS = 200
# Each text of a step or agent (description, expected_output, message, role, goal,
# backstory), in characters.
MAX_DEFINITION_TEXT_CHARS = 256 * 1024
MAX_RUN_INPUTS_BYTES = 1 * MB  # the run's inputs as JSON
MAX_SKIP_OUTPUT_BYTES = 1 * MB  # UTF-8

_TEXTS = {
    "steps": ("description", "expected_output", "message"),
    "agents": ("role", "goal", "backstory"),
}
_COUNTS = {"steps": MAX_DEFINITION_STEPS, "agents": MAX_DEFINITION_AGENTS}


def check_definition_size(spec: Mapping[str, Any]) -> None:
    """``CompilationFailed`` (422, loc from the definition's root) for every part of a
    definition over its limit; checked before compiling, which is work that grows with them."""
    errors: list[CompileError] = []
    for section, fields in _TEXTS.items():
        items = spec.get(section)
        if not isinstance(items, list):
            continue  # the compiler says what is wrong with it
        if len(items) > _COUNTS[section]:
            errors.append(
                CompileError(loc=[section], msg=f"at most {_COUNTS[section]} {section} allowed")
            )
        for index, item in enumerate(items):
            for name in fields:
                text = item.get(name) if isinstance(item, dict) else None
                if isinstance(text, str) and len(text) > MAX_DEFINITION_TEXT_CHARS:
                    errors.append(
                        CompileError(
                            loc=[section, index, name],
                            msg=f"at most {MAX_DEFINITION_TEXT_CHARS} characters allowed",
                        )
                    )
    if errors:
        raise CompilationFailed(errors)


def run_inputs_within_limit(inputs: dict[str, Any]) -> dict[str, Any]:
    """For a validator of a run's ``inputs``: their JSON within ``MAX_RUN_INPUTS_BYTES``."""
    size = len(json.dumps(inputs, ensure_ascii=False).encode())
    if size > MAX_RUN_INPUTS_BYTES:
        raise ValueError(f"the inputs take {size} bytes as JSON; at most {MAX_RUN_INPUTS_BYTES}")
    return inputs


def skip_output_within_limit(output: str) -> str:
    """For a validator of a skipped step's ``output``: within ``MAX_SKIP_OUTPUT_BYTES``."""
    size = len(output.encode())
    if size > MAX_SKIP_OUTPUT_BYTES:
        raise ValueError(f"the output takes {size} bytes; at most {MAX_SKIP_OUTPUT_BYTES}")
    return output
