"""OpenTelemetry traces, one per run, for the API and the worker: exported over OTLP
(HTTP/protobuf) only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

Without it nothing is installed: no tracer provider, no instrumentation, no Temporal
interceptor, so the spans the code opens (activities/tracing.py) are the OpenTelemetry
API's no-op ones. With it, the exporter reads the standard ``OTEL_*`` variables itself
(headers, timeout, ``OTEL_BSP_*`` batching, ``OTEL_SERVICE_NAME``).

A run's trace: the API request that starts it (FastAPI), the client's StartWorkflow
span and the workflow's and activities' spans (Temporal's TracingInterceptor, which
carries the context in Temporal headers), then inside a step each LLM call and tool
call (activities/tracing.py), the HTTP requests under them (httpx) and the queries
(SQLAlchemy).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace
from temporalio.client import Interceptor

if TYPE_CHECKING:
    from fastapi import FastAPI

OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Paths whose query strings carry a credential (a sign-in link's token, an OIDC code):
# their requests are not traced at all, since the URL is a span attribute.
UNTRACED_PATHS = "/auth/"

_installed = False


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process exports traces: an OTLP endpoint is configured."""
    return bool((os.environ if environ is None else environ).get(OTLP_ENDPOINT, "").strip())


def install_tracing(service_name: str) -> bool:
    """Install the tracer provider and the httpx and SQLAlchemy instrumentations, once
    per process, when tracing is enabled; the answer says whether it is."""
    global _installed
    if not tracing_enabled():
        return False
    if _installed:
        return True
    # Imported here: a process without an endpoint never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME, when set, wins over the default name (Resource.create merges it).
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    # It declares sqlalchemy<2.1 and works with 2.1's async engines; engines made by
    # db.session.create_engine after this point are traced.
    SQLAlchemyInstrumentor().instrument(skip_dep_check=True)
    _installed = True
    return True


def instrument_app(app: FastAPI) -> None:
    """Trace the API's requests, when tracing is enabled."""
    if not install_tracing("kasal-api"):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No span per ASGI message: a run's event stream sends one message per event (every
    # live token batch), so its trace would fill with thousands of `http send` spans,
    # and every request would pay for three spans that say nothing the request's doesn't.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )


def client_interceptors() -> list[Interceptor]:
    """Temporal client interceptors: the tracing one when tracing is enabled. A worker
    built on the client takes it too, for workflow and activity spans."""
    if not tracing_enabled():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def current_trace_id() -> str | None:
    """The trace the current span belongs to, as 32 hex digits; None outside a trace."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def trace_url(template: str | None, trace_id: str | None) -> str | None:
    """Where the trace is viewed: ``template`` with its ``{trace_id}`` filled in."""
    if not template or not trace_id:
        return None
    return template.replace("{trace_id}", trace_id)


# The memo entry of a run that holds the trace id of the request that started it.
TRACE_ID_MEMO = "kasal_trace_id"


def trace_memo() -> dict[str, str] | None:
    """A run's memo at start: the current trace's id, when there is a trace."""
    trace_id = current_trace_id()
    return {TRACE_ID_MEMO: trace_id} if trace_id else None
