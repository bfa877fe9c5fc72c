"""Running the projections: in-process catch-up on SQLite, a subscription on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.projection import BaseProjectionRunner

from domain.directory import DirectoryService
from domain.petition import Petition
from domain.service import PetitionService
from projections.case_list import DDL, CaseListProjection, unit_paths
from projections.store import PostgresViews, SQLiteViews, Views


class SQLiteCaseList(SQLiteViews):
    """The case list in the embedded views file."""

    ddl = DDL


class PostgresCaseList(PostgresViews):
    """The case list in PostgreSQL."""

    ddl = DDL
    view_name = "case_list"


def build_views(env: dict[str, str]) -> Views:
    """The case-list view store for the library environment given (SQLite or PostgreSQL)."""
    factory: Any = InfrastructureFactory.construct(env=_env(env))
    view_class = SQLiteCaseList if "sqlite" in env["PERSISTENCE_MODULE"] else PostgresCaseList
    views: Views = factory.tracking_recorder(view_class)
    return views


def _env(env: dict[str, str]) -> Any:
    from eventsourcing.utils import Environment

    return Environment("CaseList", env)


def case_list_projection(views: Views, petitions: PetitionService,
                         directory: DirectoryService) -> CaseListProjection:
    """The case-list projection, loading petitions from the service when its cache misses."""
    def load(pid: UUID, version: int) -> Petition:
        return petitions.get(pid, version=version)

    return CaseListProjection(views, load, unit_paths(directory.ancestors))


class EmbeddedProjector:
    """Reads new notifications and feeds the projection (SQLite cannot be subscribed to)."""

    def __init__(self, petitions: PetitionService, projection: CaseListProjection) -> None:
        self.petitions, self.projection = petitions, projection
        self._lock = threading.Lock()

    def catch_up(self, batch: int = 500) -> int:
        """Process everything recorded since the view's position; returns how many events."""
        done = 0
        with self._lock:
            position = self.projection.view.position(self.petitions.name)
            while True:
                notifications = self.petitions.recorder.select_notifications(
                    start=position + 1, limit=batch, topics=list(self.projection.topics)
                )
                for notification in notifications:
                    event = self.petitions.mapper.to_domain_event(notification)
                    self.projection.process_event(event, Tracking(self.petitions.name, notification.id))
                    position = notification.id
                    done += 1
                if len(notifications) < batch:
                    return done


def subscribe(projection: CaseListProjection, env: dict[str, str]) -> BaseProjectionRunner[Any]:
    """On PostgreSQL: a runner that follows the event store by LISTEN/NOTIFY from the view's position."""
    return BaseProjectionRunner(
        projection=projection, application_class=PetitionService,
        tracking_recorder=projection.view, topics=projection.topics, env=env,
    )
