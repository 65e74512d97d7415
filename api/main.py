"""The Kasal API: FastAPI over the database (definitions) and Temporal (runs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.staticfiles import StaticFiles

from api.authorization import ROLE_EXTENSION, Allow
from api.egress import check_configured_urls
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.middleware import install_security
from api.oidc import OidcProvider
from api.routes import (
    app_links,
    audit,
    auth,
    budget,
    codec,
    forks,
    generations,
    health,
    imports,
    mcp_servers,
    me,
    metrics,
    models,
    oidc,
    runs,
    schedules,
    timeline,
    tools,
    transcripts,
    usage,
    users,
    workflows,
    workspaces,
)
from api.schemas.errors import ERROR_DESCRIPTIONS, error_responses
from api.schemas.events import STREAM_EVENT_MODELS
from api.services.sign_in_limit import SignInLimiter
from api.temporal import TemporalGateway
from db.blob_cipher import BlobCipher
from db.blobs import BlobStore
from db.live_token_listener import LiveTokenListener
from db.migrate import upgrade_to_head
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from kasal.settings import Settings, get_settings
from kasal.tracing import instrument_app

API_PREFIX = "/api/v1"


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _honest_openapi(app: FastAPI) -> None:
    """The OpenAPI document, corrected where FastAPI's says less than the API does."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _stream_event_schemas(schema)
            _roles_and_their_errors(app, schema)
            _one_error_schema(schema)
            _answers_carry_every_field(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _stream_event_schemas(schema: dict[str, Any]) -> None:
    """The models only the event stream sends (api/schemas/events.py refers to them)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in STREAM_EVENT_MODELS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema


def _route_role(route: RouteContext) -> Allow:
    """The route's one Allow: every /api/v1 route has exactly one (see api/authorization)."""
    found: list[Allow] = []
    stack: list[Dependant] = [route.dependant]
    while stack:
        dependant = stack.pop()
        found += [d.call for d in dependant.dependencies if isinstance(d.call, Allow)]
        stack += dependant.dependencies
    if len({id(allow) for allow in found}) != 1:
        raise RuntimeError(f"{route.path} must declare exactly one role (Viewer … Admin)")
    return found[0]


def _guarded_routes(app: FastAPI) -> list[RouteContext]:
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith(API_PREFIX)
    ]


def _roles_and_their_errors(app: FastAPI, schema: dict[str, Any]) -> None:
    """Each /api/v1 operation's minimum role (``x-kasal-role``), and its 401 and 403."""
    for route in _guarded_routes(app):
        allow = _route_role(route)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            operation[ROLE_EXTENSION] = allow.role.value
            if allow.in_workspace is not None:
                operation[f"{ROLE_EXTENSION}-in"] = allow.in_workspace
            # 404 too: an X-Kasal-Workspace the principal is not a member of.
            for status, described in error_responses(401, 403, 404).items():
                operation["responses"].setdefault(
                    str(status),
                    {
                        "description": described["description"],
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorResponse"}
                            }
                        },
                    },
                )


def _one_error_schema(schema: dict[str, Any]) -> None:
    """ErrorResponse for every 422 too, as api/errors.py sends it: FastAPI documents a 422
    of its own (HTTPValidationError) on every route with parameters that declares none."""
    ours = {"$ref": "#/components/schemas/ErrorResponse"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            unprocessable = operation.get("responses", {}).get("422")
            if unprocessable is not None:
                unprocessable["content"] = {"application/json": {"schema": ours}}
                if unprocessable.get("description") == "Validation Error":
                    unprocessable["description"] = ERROR_DESCRIPTIONS[422]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _answers_carry_every_field(schema: dict[str, Any]) -> None:
    """Every field is in every answer (FastAPI sends defaults and nulls too), so in a
    schema that only answers use, every property is required: clients need not expect
    one missing. A field an answer never has (``exclude=True``) is not a property."""
    components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    requests: list[Any] = []
    answers: list[Any] = []
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            requests += [operation.get("parameters", []), operation.get("requestBody", {})]
            answers.append(operation.get("responses", {}))
    for name in _referenced(answers, components) - _referenced(requests, components):
        if properties := components[name].get("properties"):
            components[name]["required"] = list(properties)


def _referenced(roots: list[Any], components: dict[str, Any]) -> set[str]:
    """The names of the component schemas ``roots`` refer to, directly or not."""
    prefix = "#/components/schemas/"
    found: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] not in found:
                found.add(ref[len(prefix) :])
                stack.append(components.get(ref[len(prefix) :], {}))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_configured_urls(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The schema is brought to head before the first request.
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
        engine = create_engine(
            settings.database_url, pool_timeout=settings.KASAL_DATABASE_POOL_TIMEOUT_SECONDS
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.secrets = load_secret_box(
            settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=True
        )
        # One store for the app: its SQLite write lock must be shared by every request.
        app.state.blobs = BlobStore(app.state.sessions, BlobCipher.of(app.state.secrets))
        app.state.temporal = TemporalGateway(settings, app.state.blobs)
        app.state.live_tokens = LiveTokenListener(engine, app.state.blobs)
        app.state.sign_in_limiter = SignInLimiter()
        app.state.metrics = ApiMetrics()
        app.state.oidc = OidcProvider(settings) if settings.KASAL_AUTH == "oidc" else None
        try:
            yield
        finally:
            if app.state.oidc is not None:
                await app.state.oidc.close()
            await app.state.live_tokens.close()
            await engine.dispose()

    app = FastAPI(
        title="Kasal",
        summary="AI-agent workflows that survive anything.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(workflows.router)
    api.include_router(imports.router)
    api.include_router(generations.router)
    api.include_router(models.router)
    api.include_router(tools.router)
    api.include_router(mcp_servers.router)
    api.include_router(runs.router)
    api.include_router(forks.router)
    api.include_router(schedules.router)
    api.include_router(transcripts.router)
    api.include_router(timeline.router)
    api.include_router(usage.router)
    api.include_router(budget.router)
    api.include_router(me.router)
    api.include_router(workspaces.router)
    api.include_router(users.router)
    api.include_router(audit.router)
    # admin-only: wired by the auth dependency (the codec server decrypts every payload).
    api.include_router(codec.router)
    app.include_router(api)
    app.include_router(auth.router)
    app.include_router(oidc.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # Path links to the app's pages (as webhooks send) redirect to its hash routes.
    app.include_router(app_links.router)
    install_error_handlers(app)
    install_security(app, settings)
    for route in _guarded_routes(app):
        _route_role(route)  # refuse to start with an unguarded route
    # Outermost: Temporal Web calls the codec server from its own origin (preflight too).
    app.add_middleware(
        codec.CodecCors,
        origin=settings.temporal_ui_url,
        paths=tuple(API_PREFIX + path for path in codec.CODEC_PATHS),
    )
    _honest_openapi(app)
    # Each request's span is the root of the trace of a run it starts (kasal/tracing.py).
    instrument_app(app)
    # The built frontend, same origin, so `make dev` gives one URL.
    if settings.frontend_dir.joinpath("index.html").exists():
        app.mount("/", StaticFiles(directory=settings.frontend_dir, html=True), name="app")
    return app
