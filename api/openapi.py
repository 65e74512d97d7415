"""The API's OpenAPI document, as the frontend's generated types are built from it.

    python -m api.openapi > frontend/src/api/openapi.json

(`cd frontend && npm run gen:api` does this, then generates src/api/schema.ts.)
tests/test_openapi_drift.py fails when the committed document differs from the app's.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from api.main import create_app


def openapi_document() -> dict[str, Any]:
    return create_app().openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: the same document always gives the same bytes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(openapi_document()))
