"""Idempotent requests: a retried request with the same key gets the first answer, records nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, Recording

from domain.errors import PetitionError

NAMESPACE = uuid5(NAMESPACE_URL, "petitions:request")


@dataclass(frozen=True)
class RequestKey:
    """A caller's idempotency key, and a fingerprint of what they asked, to detect reuse."""

    caller: str
    key: str
    fingerprint: str
    status_code: int = 200

    @property
    def id(self) -> UUID:
        """The id of the record of this request."""
        return uuid5(NAMESPACE, f"{self.caller}\n{self.key}")


class RequestRecord(Aggregate):
    """What a keyed request did: the resource it changed and the version it left behind."""

    @event("Recorded")
    def __init__(self, fingerprint: str, resource_id: str, version: int, status_code: int) -> None:
        self.fingerprint = fingerprint
        self.resource_id = resource_id
        self.version = version
        self.status_code = status_code


class AlreadyDone(PetitionError):
    """The request was carried out before under the same key: here is what it did."""

    code = "already_done"

    def __init__(self, record: RequestRecord) -> None:
        super().__init__("this request was already carried out")
        self.record = record


class KeyReused(PetitionError):
    """The same idempotency key was sent with a different request."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key: this key was already used for a different request; use a new key"
        )


def record_for(request: RequestKey, resource_id: UUID | str, version: int) -> RequestRecord:
    """The record saved in the same transaction as the request's events."""
    return RequestRecord._create(
        RequestRecord.Recorded,  # type: ignore[attr-defined]
        id=request.id,
        fingerprint=request.fingerprint,
        resource_id=str(resource_id),
        version=version,
        status_code=request.status_code,
    )


def check_request(app: Application[UUID], request: RequestKey | None) -> None:
    """Raise AlreadyDone (or KeyReused) when this key was used before; else return."""
    if request is None:
        return
    # One query on the events table: records are never snapshotted.
    first = next(iter(app.events.get(request.id, limit=1)), None)
    if first is None:
        return
    record = first.mutate(None)  # type: ignore[attr-defined]
    if not isinstance(record, RequestRecord) or record.fingerprint != request.fingerprint:
        raise KeyReused()
    raise AlreadyDone(record)


def save_with_request(
    app: Application[UUID], request: RequestKey | None, resource: Aggregate,
    save: Callable[..., list[Recording[Any]]] | None = None,
) -> list[Recording[Any]]:
    """Save the resource and, atomically with it, the record of the keyed request."""
    extra = [record_for(request, resource.id, resource.version)] if request else []
    try:
        return (save or app.save)(resource, *extra)
    except IntegrityError:
        check_request(app, request)  # a concurrent twin of this request won: answer as it did
        raise
