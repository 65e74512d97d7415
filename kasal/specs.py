"""Workflow files as `kasal apply` reads them: our own JSON, or the same document as YAML,
`{name, description, spec, layout}`, as `kasal export` (the API's export) writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

YAML_SUFFIXES = {".yaml", ".yml"}


class DocumentError(ValueError):
    pass


def load_document(path: Path) -> Any:
    """A JSON or YAML file (by its suffix) as data."""
    text = path.read_text()
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise DocumentError(f"{path} is not YAML: {error}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise DocumentError(f"{path} is not JSON: {error}") from error


def workflow_document(data: Any, fallback_name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(name, spec, the other fields given) from a file: `{name, description?, spec,
    layout?}` as `kasal export` writes it, or a bare definition (`{steps, …}`) named by
    ``fallback_name``."""
    if not isinstance(data, dict):
        raise DocumentError("a workflow file holds an object: {name, spec} or a definition")
    if "spec" not in data:
        return fallback_name, data, {}
    spec = data["spec"]
    if not isinstance(spec, dict):
        raise DocumentError("spec: must be an object (the definition)")
    name = data.get("name") or fallback_name
    if not isinstance(name, str):
        raise DocumentError("name: must be text")
    extra = {key: data[key] for key in ("description", "layout") if key in data}
    return name, spec, extra
