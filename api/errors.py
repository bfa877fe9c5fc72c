"""Every error answers {"detail": <a message a clerk understands>, "code": <machine code>}."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from domain.directory import AlreadyExists
from domain.errors import ActionNotAllowed, CalendarError, CaseNotFound, Conflict, InvalidField, PetitionError
from domain.requests import KeyReused

log = structlog.get_logger("api")

STATUS_CODES: list[tuple[type[PetitionError], int]] = [
    (CaseNotFound, 404),
    (Conflict, 409),
    (AlreadyExists, 409),
    (ActionNotAllowed, 409),
    (InvalidField, 422),
    (KeyReused, 422),
    (CalendarError, 422),
]
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
              422: "invalid", 429: "rate_limited"}


def error_body(detail: str, code: str) -> dict[str, str]:
    """The contract's error body."""
    return {"detail": detail, "code": code}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    """A field path as the domain's errors write it: petitioners[0].id_number."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _allowed(request: Request) -> list[str]:
    """Every method some route of the application answers on this path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to the contract's body."""

    @app.exception_handler(PetitionError)
    async def domain_error(request: Request, error: PetitionError) -> JSONResponse:
        status = next((s for kind, s in STATUS_CODES if isinstance(error, kind)), 422)
        return JSONResponse(error_body(error.message, error.code), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors()[:5]:
            if item.get("type") == "json_invalid":
                problems.append("body: the body is not valid JSON")
                continue
            problems.append(f"{_location(item.get('loc', ()))}: {item.get('msg', 'is invalid')}")
        return JSONResponse(error_body("; ".join(problems), "invalid"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == "There was an error parsing the body":
            # FastAPI's answer to a body that is not UTF-8: the same as any other JSON that is not.
            return JSONResponse(error_body("body: the body is not valid JSON (UTF-8)", "invalid"),
                                status_code=422)
        code = HTTP_CODES.get(error.status_code, "error")
        detail = error.detail if isinstance(error.detail, str) else code
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed(request))
        return JSONResponse(error_body(detail, code), status_code=error.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # The type only: messages of unexpected errors may carry personal data.
        log.error("unhandled_error", error_type=type(error).__name__)
        return JSONResponse(error_body("something went wrong on the server; try again, or tell "
                                       "your administrator", "internal"), status_code=500)
