"""Kasal's texts and names as ours: placeholders declared, other braces doubled, ids slugged."""

from __future__ import annotations

import re

from api.services.kasal_import.notes import Notes
from workflows.compiler import Loc

# Kasal's own rule for a placeholder (it asks for each at run time).
_KASAL_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_-]*)\}")
_MAX_NAME = 64


class Templates:
    """Turns Kasal texts into ours, collecting the inputs their placeholders name."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.inputs: list[str] = []

    def convert(self, text: str, loc: Loc) -> str:
        """``{name}`` stays a placeholder (a hyphen becomes ``_``, which ours require);
        every other brace is doubled, so ``{ total, deployed }`` stays literal text."""
        parts: list[str] = []
        end = 0
        for match in _KASAL_PLACEHOLDER.finditer(text):
            parts.append(_literal(text[end : match.start()]))
            name = match.group(1).replace("-", "_")
            if len(name) > _MAX_NAME:
                self.notes.warn(loc, f"'{match.group(0)}' is too long for an input: kept as text")
                parts.append(_literal(match.group(0)))
            else:
                if name != match.group(1):
                    self.notes.warn(loc, f"placeholder '{match.group(0)}' becomes '{{{name}}}'")
                if name not in self.inputs:
                    self.inputs.append(name)
                parts.append(f"{{{name}}}")
            end = match.end()
        parts.append(_literal(text[end:]))
        return "".join(parts)


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class Ids:
    """Readable ids (``create_databricks_dashboard``) that are unique within one definition."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def make(self, *candidates: str | None) -> str:
        base = next((slug for c in candidates if c and (slug := slugify(c))), "step")
        chosen, n = base, 1
        while chosen in self.taken:
            n += 1
            suffix = f"_{n}"
            chosen = base[: _MAX_NAME - len(suffix)] + suffix
        self.taken.add(chosen)
        return chosen


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:_MAX_NAME].strip("_")
