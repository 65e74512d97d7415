"""What a translation says besides its result: warnings, and errors that stop the import."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.compiler import CompileError, Loc


@dataclass
class Notes:
    """Warnings and errors, each at a ``loc`` counted from the request body's root."""

    warnings: list[CompileError] = field(default_factory=list)
    errors: list[CompileError] = field(default_factory=list)

    def warn(self, loc: Loc, msg: str) -> None:
        self.warnings.append(CompileError(loc=list(loc), msg=msg))

    def error(self, loc: Loc, msg: str) -> None:
        self.errors.append(CompileError(loc=list(loc), msg=msg))
