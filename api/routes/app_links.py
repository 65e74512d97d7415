"""Links into the app by path, as webhooks and people write them (`/runs/<id>`),
answered with a redirect to the hash route the app reads (`/#/runs/<id>`, see
frontend/src/router.ts). Only the app's own pages are matched, so the API, the docs,
/healthz and the built app's files are served as before."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)

APP_PAGES = ("/workflows", "/workflows/{workflow_id}", "/runs", "/runs/{run_id}", "/approvals")


async def to_hash_route(request: Request) -> RedirectResponse:
    target = f"/#{quote(request.url.path)}"
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=status.HTTP_307_TEMPORARY_REDIRECT)


for page in APP_PAGES:
    router.add_api_route(page, to_hash_route, methods=["GET", "HEAD"])
