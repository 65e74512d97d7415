"""Dependencies: settings, the unit of work, Temporal, and the services built on them.

Each is ``async def`` though none awaits: FastAPI runs a plain ``def`` dependency on its
thread pool, a hop there and back for each (five on a run's launch), where an
``async def`` one runs on the loop at once. The routes' own providers do the same."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.authorization import Principal, authenticate
from api.egress import EgressDep
from api.metrics import ApiMetrics
from api.services.generations import GenerationService
from api.services.identity import IdentityService
from api.services.mcp_servers import McpServerService
from api.services.models import ModelConfigService
from api.services.monthly_budget import MonthlyBudgetService
from api.services.run_deletion import RunDeleter
from api.services.run_forking import RunForker
from api.services.run_listing import RunLister
from api.services.run_operations import RunOperator
from api.services.run_reading import RunReader
from api.services.run_starting import RunStarter
from api.services.schedules import ScheduleService
from api.services.tools import ToolService
from api.services.usage import UsageService
from api.services.workflows import WorkflowService
from api.services.workspaces import WorkspaceService
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.live_token_listener import LiveTokenListener
from db.secrets import SecretBox
from db.uow import UnitOfWork
from kasal.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_uow(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> UnitOfWork:
    """A unit of work in the workspace the request acts in."""
    return UnitOfWork(request.app.state.sessions, principal.workspace.id)


async def get_identity_service(request: Request) -> IdentityService:
    # Users and credentials belong to no workspace; signing in has no principal yet.
    return IdentityService(UnitOfWork(request.app.state.sessions))


async def get_workspace_service(request: Request) -> WorkspaceService:
    return WorkspaceService(UnitOfWork(request.app.state.sessions))


async def get_temporal(request: Request) -> TemporalGateway:
    gateway: TemporalGateway = request.app.state.temporal
    return gateway


async def get_secrets(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secrets
    return box


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]
TemporalDep = Annotated[TemporalGateway, Depends(get_temporal)]
SecretsDep = Annotated[SecretBox, Depends(get_secrets)]
IdentityServiceDep = Annotated[IdentityService, Depends(get_identity_service)]
WorkspaceServiceDep = Annotated[WorkspaceService, Depends(get_workspace_service)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def get_workflow_service(
    uow: UowDep, secrets: SecretsDep, egress: EgressDep
) -> WorkflowService:
    return WorkflowService(uow, secrets, egress)


async def get_model_service(
    uow: UowDep, secrets: SecretsDep, egress: EgressDep
) -> ModelConfigService:
    return ModelConfigService(uow, secrets, egress)


async def get_tool_service(uow: UowDep, secrets: SecretsDep, egress: EgressDep) -> ToolService:
    return ToolService(uow, secrets, egress)


async def get_usage_service(uow: UowDep) -> UsageService:
    return UsageService(uow)


async def get_monthly_budget_service(uow: UowDep) -> MonthlyBudgetService:
    return MonthlyBudgetService(uow)


async def get_mcp_server_service(
    uow: UowDep, secrets: SecretsDep, temporal: TemporalDep, settings: SettingsDep
) -> McpServerService:
    return McpServerService(uow, secrets, temporal, settings)


async def get_blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]


async def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]


async def get_call_journal(request: Request) -> CallJournal:
    return CallJournal(request.app.state.blobs)


CallJournalDep = Annotated[CallJournal, Depends(get_call_journal)]


async def get_live_tokens(request: Request) -> LiveTokenListener:
    live: LiveTokenListener = request.app.state.live_tokens
    return live


LiveTokensDep = Annotated[LiveTokenListener, Depends(get_live_tokens)]


async def get_run_starter(
    uow: UowDep, temporal: TemporalDep, settings: SettingsDep, secrets: SecretsDep
) -> RunStarter:
    return RunStarter(uow, temporal, settings, secrets)


async def get_run_forker(
    uow: UowDep, temporal: TemporalDep, settings: SettingsDep, blobs: BlobsDep, secrets: SecretsDep
) -> RunForker:
    return RunForker(uow, temporal, settings, blobs, secrets)


async def get_run_reader(
    temporal: TemporalDep, settings: SettingsDep, blobs: BlobsDep, principal: PrincipalDep
) -> RunReader:
    return RunReader(temporal, settings, blobs, principal.workspace.id)


async def get_run_lister(
    temporal: TemporalDep, settings: SettingsDep, principal: PrincipalDep
) -> RunLister:
    return RunLister(temporal, settings, principal.workspace.id)


async def get_run_operator(
    temporal: TemporalDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    principal: PrincipalDep,
    metrics: MetricsDep,
) -> RunOperator:
    return RunOperator(temporal, settings, blobs, principal.workspace.id, metrics)


async def get_generation_service(
    uow: UowDep, temporal: TemporalDep, settings: SettingsDep, principal: PrincipalDep
) -> GenerationService:
    return GenerationService(uow, temporal, settings, principal.workspace.id)


WorkflowServiceDep = Annotated[WorkflowService, Depends(get_workflow_service)]
GenerationServiceDep = Annotated[GenerationService, Depends(get_generation_service)]
ModelServiceDep = Annotated[ModelConfigService, Depends(get_model_service)]
ToolServiceDep = Annotated[ToolService, Depends(get_tool_service)]
UsageServiceDep = Annotated[UsageService, Depends(get_usage_service)]
MonthlyBudgetServiceDep = Annotated[MonthlyBudgetService, Depends(get_monthly_budget_service)]
McpServerServiceDep = Annotated[McpServerService, Depends(get_mcp_server_service)]
RunStarterDep = Annotated[RunStarter, Depends(get_run_starter)]
RunReaderDep = Annotated[RunReader, Depends(get_run_reader)]
RunForkerDep = Annotated[RunForker, Depends(get_run_forker)]
RunListerDep = Annotated[RunLister, Depends(get_run_lister)]
RunOperatorDep = Annotated[RunOperator, Depends(get_run_operator)]


async def get_run_deleter(
    temporal: TemporalDep, settings: SettingsDep, blobs: BlobsDep, principal: PrincipalDep
) -> RunDeleter:
    return RunDeleter(temporal, settings, blobs, principal.workspace.id)


RunDeleterDep = Annotated[RunDeleter, Depends(get_run_deleter)]


async def get_schedule_service(starter: RunStarterDep) -> ScheduleService:
    return ScheduleService(starter)


ScheduleServiceDep = Annotated[ScheduleService, Depends(get_schedule_service)]
