"""Liveness and readiness for load balancers."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Services

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(services: Services) -> dict[str, object]:
    """OK when the event store answers."""
    return {"status": "ok", "last_event": services.petitions.recorder.max_notification_id() or 0}
