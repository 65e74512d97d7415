"""GET /healthz: 200 when the database, Temporal and a worker all answer, else 503."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.schemas.health import Health
from api.services.health import check_health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "A part is down: its field says why"}},
)
async def healthz(engine: EngineDep, temporal: TemporalDep, settings: SettingsDep) -> JSONResponse:
    report = await check_health(engine, temporal, settings)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
