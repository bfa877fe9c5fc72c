"""The FastAPI application, built around a Container from the composition root."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig

from api import errors, logs
from api.deps import single_valued_query
from api.routers import (
    actions,
    auth,
    case_list,
    health,
    petitions,
    progress,
    responsibility,
    statistics,
    units,
    users,
    warning_rules,
    warnings,
)
from petitions.bootstrap import Container

DESCRIPTION = """Letters-and-visits (信访) case tracker.

Log in with `POST /api/v1/auth/token` (user name and password) and send the token as
`Authorization: Bearer <token>`. Errors answer `{"detail": ..., "code": ...}`. Send an
`Idempotency-Key` header with every POST: a retry with the same key returns the first answer
and records nothing new.

Quarterly and year-end summaries (counts by channel, category, area and status; on-time,
satisfaction and repeat rates) come from `GET /api/v1/statistics?period=2026-Q3`, also as a
spreadsheet (`format=xlsx`) or CSV (`format=csv`)."""


# FastAPI's built-in OpenTelemetry is off: offices run on closed intranets (nothing may be sent
# anywhere, even if FASTAPI_OTEL_AUTO_CONFIGURE is set), its error logs would carry exception
# messages outside our scrubbed log, and its per-request spans cost time for nothing.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False,
                                 "operation_spans": False, "auto_configure": False}


def create_app(container: Container) -> FastAPI:
    """The HTTP application for one container."""
    logs.configure(container.settings.log_format, container.settings.mode == "production")
    app = FastAPI(title="petitions", version="1", description=DESCRIPTION,
                  dependencies=[Depends(single_valued_query)], telemetry=NO_TELEMETRY)
    app.state.container = container
    errors.install(app)
    for module in (auth, units, users, case_list, petitions, actions, progress, responsibility,
                   statistics, warnings, warning_rules, health):
        app.include_router(module.router)
    app.add_middleware(logs.BodyLimit, limit=container.settings.max_body_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(logs.RequestLog)
    if container.projector is not None:
        container.projector.start()
        app.add_middleware(logs.AfterWrites, after=container.projector.poke)
    return app


ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {"type": "object", "required": ["detail", "code"], "additionalProperties": False,
                "properties": {"detail": {"type": "string"}, "code": {"type": "string"}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with the contract's error body on every 4xx answer."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for methods in doc["paths"].values():
        for method, operation in methods.items():
            responses = operation["responses"]
            if operation.get("security"):
                responses.setdefault("401", {"description": "no or bad token"})
            if method == "post":
                responses.setdefault("413", {"description": "the body is too large"})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    doc["components"]["schemas"].pop("HTTPValidationError", None)
    doc["components"]["schemas"].pop("ValidationError", None)
    app.openapi_schema = doc
    return doc
