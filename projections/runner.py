"""Running the projections: in-process catch-up on SQLite, a subscription on PostgreSQL."""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking
from eventsourcing.projection import BaseProjectionRunner

from domain.directory import DirectoryService
from domain.petition import Petition
from domain.service import PetitionService
from projections.board_rules import TABLES as BOARD_TABLES
from projections.bulk import BulkRebuild
from projections.case_list import DDL, CaseListProjection, unit_paths
from projections.store import PostgresViews, SQLiteViews, Views

log = structlog.get_logger("projections")


class SQLiteCaseList(SQLiteViews):
    """The case list in the embedded views file."""

    ddl = DDL
    tables = ("case_list", "deadline_index", "responsibility_facts", "warning_board", *BOARD_TABLES)


class PostgresCaseList(PostgresViews):
    """The case list in PostgreSQL."""

    ddl = DDL
    tables = ("case_list", "deadline_index", "responsibility_facts", "warning_board", *BOARD_TABLES)
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


def case_list_projection(views: Views, petitions: PetitionService, directory: DirectoryService,
                         person_key: bytes | None = None) -> CaseListProjection:
    """The case-list projection, loading petitions from the service when its cache misses."""
    def load(pid: UUID, version: int) -> Petition:
        return petitions.get(pid, version=version)

    def level_of(code: str) -> str | None:
        unit = directory.units().get(code)
        return unit.level if unit is not None else None

    return CaseListProjection(views, load, unit_paths(directory.ancestors), level_of=level_of,
                              person_key=person_key, units=lambda: directory.units(fresh=True))


class EmbeddedProjector:
    """Reads new notifications and feeds the projection (SQLite cannot be subscribed to)."""

    def __init__(self, petitions: PetitionService, projection: CaseListProjection) -> None:
        self.petitions, self.projection = petitions, projection
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.workers: int | None = None  # a rebuild's worker processes (None: one per core, up to 4)

    def start(self, interval: float = 1.0) -> None:
        """Catch up in the background: right after each poke (a command), and every `interval`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True,
                                        name="embedded-projector")
        self._thread.start()

    def poke(self) -> None:
        """A command was saved: catch up soon."""
        self._poked.set()

    def stop(self) -> None:
        """Stop the background catch-up."""
        self._stopping.set()
        self._poked.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            self._poked.wait(interval)
            self._poked.clear()
            if self._stopping.is_set():
                return
            try:
                self.catch_up()
            except Exception as error:
                # Loud, never silent: the failing event is logged by process_event's caller and
                # the view stops here; reads then report the error instead of stale rows.
                self.error = error
                log.error("projection_failed", error_type=type(error).__name__)
                return

    def catch_up(self, batch: int = 500, progress: Callable[[int], None] | None = None,
                 bulk: bool = True) -> int:
        """Process everything recorded since the view's position, a page of events per
        transaction; returns how many events. Views still empty (position 0: a first start, an
        upgrade that changed their tables, a rebuild) are made in memory and loaded at once
        (projections/bulk.py), unless `bulk` is False."""
        done, name = 0, self.petitions.name
        with self._lock:
            position = self.projection.view.position(name)
            if position == 0 and bulk:
                try:
                    done = BulkRebuild(self.projection, self.workers).run(self.petitions, progress)
                except IntegrityError:
                    if self.projection.view.position(name) == 0:
                        raise
                    # Another projector loaded them first: go on from its position.
                finally:
                    self.projection.forget()
                position = self.projection.view.position(name)
            while True:
                notifications = self.petitions.recorder.select_notifications(
                    start=position + 1, limit=batch, topics=list(self.projection.topics)
                )
                if not notifications:
                    return done
                to_event = self.petitions.mapper.to_domain_event
                try:
                    self.projection.process_events([(to_event(n), Tracking(name, n.id))
                                                    for n in notifications])
                except IntegrityError:
                    # Another projector on the same views got here first: go on from its position.
                    moved = self.projection.view.position(name)
                    if moved <= position:
                        raise
                    position = moved
                    continue
                position = notifications[-1].id
                done += len(notifications)
                if progress is not None:
                    progress(position)
                if len(notifications) < batch:
                    return done

    def rebuild(self, progress: Callable[[int], None] | None = None, batch: int = 1000,
                bulk: bool = True) -> int:
        """Empty the view and process the whole history again: in memory and loaded at once
        (projections/bulk.py), or, with `bulk=False`, as a catch-up from position 0 in batches of
        `batch` events. Either way, what was recorded meanwhile is caught up after."""
        with self._lock:
            self.projection.view.reset(self.petitions.name)
            self.projection.forget()
        return self.catch_up(batch=batch, progress=progress, bulk=bulk)


_END = object()


def _batches(waiting: queue.Queue[Any], most: int) -> Iterator[list[tuple[Any, Tracking]]]:
    """Events as they come, each batch holding what was already waiting (at most `most`)."""
    while True:
        item = waiting.get()
        batch: list[tuple[Any, Tracking]] = []
        while item is not _END and not isinstance(item, BaseException):
            batch.append(item)
            if len(batch) >= most or waiting.empty():
                break
            item = waiting.get()
        if batch:
            yield batch
        if isinstance(item, BaseException):
            raise item
        if item is _END:
            return


class BatchingRunner(BaseProjectionRunner[Any]):
    """The library's subscription runner, except that the events already waiting when the
    projection is free are projected together, in one transaction (a catch-up after downtime,
    a burst of commands); one event at a time when they trickle in."""

    batch = 500

    @staticmethod
    def _process_events_loop(subscription: Any, projection: Any, is_stopping: threading.Event,
                             runner: weakref.ReferenceType[Any]) -> None:
        waiting: queue.Queue[Any] = queue.Queue(maxsize=4 * BatchingRunner.batch)

        def read() -> None:  # the subscription decodes; a thread of its own keeps it fed
            try:
                for item in subscription:
                    waiting.put(item)
            except BaseException as error:
                waiting.put(error)
            waiting.put(_END)

        threading.Thread(target=read, daemon=True, name="projection-reader").start()
        try:
            for batch in _batches(waiting, BatchingRunner.batch):
                projection.process_events(batch)
        except BaseException as error:
            owner = runner()
            if owner is not None:
                owner._thread_error = error
        finally:
            is_stopping.set()


def subscribe(projection: CaseListProjection, env: dict[str, str]) -> BaseProjectionRunner[Any]:
    """On PostgreSQL: a runner that follows the event store by LISTEN/NOTIFY from the view's position."""
    return BatchingRunner(
        projection=projection, application_class=PetitionService,
        tracking_recorder=projection.view, topics=projection.topics, env=env,
    )
