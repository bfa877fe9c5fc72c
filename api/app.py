"""The FastAPI application, built around a Container from the composition root."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors, logs
from api.routers import actions, auth, health, petitions, progress, units, users
from petitions.bootstrap import Container

DESCRIPTION = """Letters-and-visits (信访) case tracker.

Log in with `POST /api/v1/auth/token` (user name and password) and send the token as
`Authorization: Bearer <token>`. Errors answer `{"detail": ..., "code": ...}`. Send an
`Idempotency-Key` header with every POST: a retry with the same key returns the first answer
and records nothing new."""


def create_app(container: Container) -> FastAPI:
    """The HTTP application for one container."""
    logs.configure(container.settings.log_format, container.settings.mode == "production")
    app = FastAPI(title="petitions", version="1", description=DESCRIPTION)
    app.state.container = container
    errors.install(app)
    for module in (auth, units, users, petitions, actions, progress, health):
        app.include_router(module.router)
    app.add_middleware(logs.BodyLimit, limit=container.settings.max_body_bytes)
    app.add_middleware(logs.RequestLog)
    return app
