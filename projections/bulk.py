"""A rebuild in memory: every view row made from the whole history, then loaded in one transaction.

Projecting one event at a time writes each case's rows again on every event (upserts that later
events overwrite); a rebuild knows every case from the start, so it keeps the cases and the board
in memory, makes each table's final rows once and loads them together with the tracking position
(executemany on SQLite, COPY on PostgreSQL). The rows are those one-by-one projection makes: the
per-case parts call the same functions (row_values and deadline_values, which row and
deadline_rows wrap; fact_rows; the board's standing warnings), and the cross-case rules are
the same code (projections/cross_case.py), here with everything in memory
(projections/bulk_cases.py). Only the regrouping on a settings change, SQL over every case as
events come, is done there in memory.

A long history is shared out: worker processes replay the cases, one share each
(projections/bulk_workers.py), while this process decides the cross-case rules from the
registrations. Interrupted, a rebuild leaves nothing behind: the tables stay empty at position 0,
and the next run starts again.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from datetime import datetime
from heapq import heappop, heappush
from multiprocessing.connection import Connection, wait
from typing import Any

import structlog
from eventsourcing.persistence import Tracking

from domain import events as ev
from domain.rules import RULES_TOPICS
from domain.service import PetitionService
from projections.board_rules import Arrival
from projections.bulk_cases import CaseHistories, Finals, Registrations, Tables, merged
from projections.bulk_workers import Share, decoded, unpacked, work
from projections.case_list import CaseListProjection
from projections.store import Loader

log = structlog.get_logger("projections")


# The tables this process adds rows to as well (the cross-case rules' warnings).
SHARED_TABLES = frozenset({"warning_board"})


class RebuildFailed(RuntimeError):
    """A worker process of a rebuild failed (it logged the event it failed on)."""


class BulkRebuild:
    """Projects the whole event history into memory, then writes every view table at once."""

    # Below this many notifications one process does it all: starting workers takes a second.
    parallel_from = 50_000
    chunk = 20_000  # rows a worker sends at a time
    page = 2000  # notifications read at a time (by each worker: about this many of its own)

    def __init__(self, projection: CaseListProjection, workers: int | None = None) -> None:
        self.projection = projection
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)

    def run(self, petitions: PetitionService, progress: Callable[[int], None] | None = None) -> int:
        """Read and project every notification, then load the tables; returns how many events.

        The cyclic garbage collector is paused meanwhile: what is built here lives until the end,
        and its passes over millions of live objects would cost more the further the run got."""
        paused = gc.isenabled()
        gc.disable()
        try:
            end = petitions.recorder.max_notification_id() or 0
            shared = self.workers > 1 and end >= self.parallel_from and self.projection.units is not None
            with self.projection.view.loading() as loader:
                tables, position, done = (self._shared(petitions, end, progress, loader) if shared
                                          else self._alone(petitions, end, progress))
                if done:
                    loader.finish(Tracking(petitions.name, position), tables)
            return done
        finally:
            if paused:
                gc.enable()

    def _read(self, petitions: PetitionService, end: int, progress: Callable[[int], None] | None,
              topics: list[str] | None = None) -> Any:
        """Every notification of the projection's topics (or of `topics`) up to `end`, page by page."""
        recorder, position = petitions.recorder, 0
        topics = topics or list(self.projection.topics)
        while position < end:
            # No upper bound in the query: PostgreSQL's plan for a range ending at `end` (nearly
            # all of the table) scans and sorts it again for every page.
            notifications = [n for n in recorder.select_notifications(
                start=position + 1, limit=self.page, topics=topics) if n.id <= end]
            if not notifications:
                return
            yield from notifications
            position = notifications[-1].id
            if progress is not None:
                progress(position)

    def _alone(self, petitions: PetitionService, end: int,
               progress: Callable[[int], None] | None) -> tuple[Tables, int, int]:
        """Both halves in this process, event by event."""
        board, to_event = self.projection.board, petitions.mapper.to_domain_event
        histories, registrations = CaseHistories(board, self.projection.path), Registrations(board)
        position, done = 0, 0
        for notification in self._read(petitions, end, progress):
            event = to_event(notification)
            try:
                petition = histories.event(event, notification.id)
                if petition is None:
                    registrations.rules_changed(event)
                elif isinstance(event, ev.Registered):
                    registrations.registered(board.arrival(petition), event.timestamp, notification.id)
            except Exception:
                self._failed(notification.id, type(event).__name__, str(notification.originator_id))
                raise
            position, done = notification.id, done + 1
        registrations.finish(histories.finals, histories.repeat_cleared)
        return merged(histories.tables(), registrations.tables()), position, done

    def _shared(self, petitions: PetitionService, end: int, progress: Callable[[int], None] | None,
                loader: Loader) -> tuple[Tables, int, int]:
        """The cases shared out among worker processes. Each sends, as it goes, what the
        cross-case rules take of its new petitions and its responsibility facts: here the rules
        are decided in store order meanwhile, and the facts inserted. Once every registration is
        in, the rules' rows go into the load while the workers send their tables' rows, which go
        in as they come: nothing is left for the end but the indexes not made yet."""
        assert self.projection.units is not None
        context = multiprocessing.get_context("spawn")
        units, env = dict(self.projection.units()), dict(petitions.env)
        workers, pipes = [], []
        try:
            for index in range(self.workers):
                here, there = context.Pipe(duplex=False)
                share = Share(env, units, tuple(self.projection.topics), end, index, self.workers,
                              self.page, self.chunk, self.projection.person_key)
                worker = context.Process(target=work, daemon=True, name=f"rebuild-{index}",
                                         args=(share, there))
                worker.start()
                there.close()
                workers.append(worker)
                pipes.append(here)
            to_event = petitions.mapper.to_domain_event
            settings = deque((n.id, to_event(n))
                             for n in self._read(petitions, end, None, list(RULES_TOPICS)))
            counted = len(settings)
            last = settings[-1][0] if settings else 0
            registrations, gathering = Registrations(self.projection.board), Gathering(pipes, loader)
            decided = False
            while gathering.waiting or gathering.arrivals:
                if gathering.waiting:
                    gathering.take(timeout=None)
                ready = gathering.ready()
                while gathering.arrivals and gathering.arrivals[0][0] <= ready:
                    position, at, new = heappop(gathering.arrivals)
                    while settings and settings[0][0] < position:
                        registrations.rules_changed(settings.popleft()[1])
                    try:
                        registrations.registered(new, at, position)
                    except Exception:
                        self._failed(position, "Registered", new.pid)
                        raise
                if not decided:
                    for table, rows in registrations.final(least=self.chunk).items():
                        loader.add(table, rows)  # final as decided: into the load meanwhile
                if progress is not None:
                    progress(int(min(ready, end)))
                if not decided and gathering.described == len(pipes) and not gathering.arrivals:
                    # Every registration is in: the rules' last decisions and rows go into the
                    # load while the workers still make and send their tables.
                    while settings:
                        registrations.rules_changed(settings.popleft()[1])
                    registrations.finish(gathering.finals, gathering.repeat_cleared)
                    for table, rows in registrations.tables().items():
                        loader.add(table, rows)
                        if table not in SHARED_TABLES:  # all its rows: indexed now, not at the end
                            loader.complete(table)
                    decided = True
                    # Freed now, while the workers still make their tables, not after the load.
                    del registrations
                    gathering.finals.clear()
                    gathering.repeat_cleared.clear()
            if not decided:
                raise RebuildFailed("the rebuild workers ended without what the cross-case rules need")
            return {}, max(last, gathering.last), counted + gathering.counted
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
                worker.join()
            for pipe in pipes:
                pipe.close()

    @staticmethod
    def _failed(notification_id: int, event_type: str, case: str) -> None:
        log.error("projection_failed_on_event", projection="bulk_rebuild",
                  notification_id=notification_id, event_type=event_type, case=case)


class Gathering:
    """What the workers send: what the cross-case rules take of each new petition (with how far
    each worker has read: every arrival up to there has come), their tables' rows (added to the
    load as they come: facts while the history is replayed, the rest after), what the cross-case
    rules need of their cases, how many events they projected and the last one's notification id."""

    def __init__(self, pipes: list[Connection], loader: Loader) -> None:
        self.waiting, self.loader = list(pipes), loader
        self.read = dict.fromkeys(pipes, 0)
        self.arrivals: list[tuple[int, datetime, Arrival]] = []  # a heap, by notification id
        self.finals: Finals = {}
        self.sent: dict[str, int] = {}  # by table: how many workers sent all their rows of it
        self.described = 0  # how many workers sent what the cross-case rules need of their cases
        self.repeat_cleared: dict[str, str] = {}
        self.counted, self.last = 0, 0

    def ready(self) -> float:
        """Up to where every arrival has come."""
        return min((self.read[pipe] for pipe in self.waiting), default=math.inf)

    def take(self, timeout: float | None) -> None:
        """Take what has come (waiting up to `timeout` seconds for something; None: until it comes)."""
        for pipe in wait(self.waiting, timeout):
            assert isinstance(pipe, Connection)
            try:
                message = decoded(pipe.recv_bytes())
            except (EOFError, OSError):  # it died, perhaps in the middle of a message
                raise RebuildFailed("a rebuild worker process ended without its rows") from None
            if message[0] == "arrivals":
                for arrival in message[1]:
                    heappush(self.arrivals, unpacked(arrival))
                self.read[pipe] = message[2]
            elif message[0] == "rows":
                self.loader.add(message[1], message[2])
            elif message[0] == "sent":  # a worker sent all its rows of a table
                self.sent[message[1]] = self.sent.get(message[1], 0) + 1
                if self.sent[message[1]] == len(self.read) and message[1] not in SHARED_TABLES:
                    self.loader.complete(message[1])
            elif message[0] == "cases":
                self.repeat_cleared.update(message[1])
                self.finals.update(message[2])
                self.counted, self.last = self.counted + message[3], max(self.last, message[4])
                self.described += 1
            elif message[0] == "done":
                self.waiting.remove(pipe)
            elif message[1]:
                raise RebuildFailed(f"the rebuild failed on notification {message[1]} "
                                    f"({message[2]}); see the worker's log")
            else:
                raise RebuildFailed(f"a rebuild worker failed outside any event, reading the store"
                                    f" or making or sending rows ({message[2]}); see its log")
