"""A rebuild shared among processes: each worker replays the cases of one share of the store.

A case's rows depend only on its own events and the settings events, so the cases are shared out
by their id, and each worker reads its share's events and the settings up to the same
notification, and sends the rows it made back to the rebuilding process (a case's as soon as it
ended for good, the rest at the end), which decides the cross-case rules meanwhile
(projections/bulk.py). Workers are spawned (a fresh interpreter each: a fork would copy the
server's threads' locks and its open connections).
"""

from __future__ import annotations

import gc
import marshal
import os
import queue
import threading
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any, NamedTuple
from uuid import UUID

import structlog
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from domain import events as ev
from domain.directory import UnitInfo, ancestors
from domain.rules import RULES_TOPICS
from domain.service import PetitionService
from projections.board_rules import Arrival, BoardRules
from projections.bulk_cases import CaseHistories
from projections.case_list import unit_paths

log = structlog.get_logger("projections")
NICE = 5  # a worker's scheduling priority below the rebuilding process (see `work`)


@dataclass(frozen=True)
class Share:
    """What a worker needs: the store (the petition service's environment, with its cipher key),
    every unit, which notifications to read, and which cases are its own."""

    env: dict[str, str]
    units: dict[str, UnitInfo]
    topics: tuple[str, ...]
    end: int
    index: int
    count: int
    page: int = 2000
    chunk: int = 20_000  # rows per message back
    person_key: bytes | None = None  # the views' key for petitioners' ID numbers
    nice: int = NICE  # how far below the rebuilding process the worker runs

    @property
    def span(self) -> int:
        """How many notifications a worker looks at a time (about `page` of them its own)."""
        return self.page * self.count


def packed(position: int, at: datetime, arrival: Arrival) -> tuple[Any, ...]:
    """A new petition's arrival as sent, its moments and day as ISO text: the messages carry plain
    values only (`encoded`)."""
    return (position, at.isoformat(), *arrival[:8], arrival.received_at.isoformat(),
            arrival.day.isoformat(), *arrival[10:])


def unpacked(sent: tuple[Any, ...]) -> tuple[int, datetime, Arrival]:
    """The arrival `packed` sent, as it was."""
    return sent[0], datetime.fromisoformat(sent[1]), Arrival._make(
        [*sent[2:10], datetime.fromisoformat(sent[10]), date.fromisoformat(sent[11]), *sent[12:]])


def bounds(share: Share) -> tuple[UUID, UUID]:
    """The lowest and highest case id of the share: the ids' first byte split in `count` even
    ranges (case ids are uniform). A range, not a hash: the store compares it for each event it
    looks at far faster than it would work out anything from the id."""
    low, high = 256 * share.index // share.count, 256 * (share.index + 1) // share.count
    return UUID(int=low << 120), UUID(int=(high << 120) - 1)


class Stored(NamedTuple):
    """A notification as read here: what the mapper reads of one (the library's frozen dataclass
    costs several times more to make, and a worker makes one for every event of its share)."""

    id: int
    originator_id: Any  # the stored form: hex text on SQLite, a UUID on PostgreSQL
    originator_version: int
    topic: str
    state: bytes


def last_versions(recorder: Any, share: Share) -> dict[Any, int]:
    """The version of each of the share's cases' last event up to the share's end, by stored case
    id (on SQLite from the key's index alone): a case is let go once its last event is projected."""
    low, high = bounds(share)
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT originator_id, MAX(originator_version) FROM {recorder.events_table_name}"
                      " WHERE originator_id BETWEEN ? AND ? AND rowid <= ? GROUP BY originator_id",
                      [low.hex, high.hex, share.end])
            return dict(c.fetchall())
    statement = SQL("SELECT originator_id, MAX(originator_version) FROM {0}.{1}"
                    " WHERE originator_id BETWEEN %s AND %s AND notification_id <= %s"
                    " GROUP BY originator_id").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(statement, [low, high, share.end])
        return dict(curs.fetchall())


def select_share(recorder: Any, share: Share, start: int) -> list[Stored]:
    """The share's notifications, and the settings ones, among the `share.span` from `start`: the
    other cases' events are left in the store (each worker would read them all otherwise). A
    bounded range rather than a LIMIT: PostgreSQL misjudges how many rows the share's condition
    keeps and would scan and sort the rest of the table for every page. On SQLite the case ids
    stay as stored (hex): the worker makes each case's UUID once."""
    topics, rules = list(share.topics), list(RULES_TOPICS)
    stop, (low, high) = start + share.span - 1, bounds(share)
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" * len(topics)), ",".join("?" * len(rules))
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid, originator_id, originator_version, topic, state"
                      f" FROM {recorder.events_table_name} WHERE rowid >= ?"
                      f" AND rowid <= ? AND topic IN ({marks[0]}) AND (topic IN ({marks[1]})"
                      " OR originator_id BETWEEN ? AND ?) ORDER BY rowid",
                      [start, stop, *topics, *rules, low.hex, high.hex])
            return [Stored._make(row) for row in c.fetchall()]
    statement = SQL("SELECT notification_id, originator_id, originator_version, topic, state"
                    " FROM {0}.{1} WHERE notification_id >= %s AND notification_id <= %s"
                    " AND topic = ANY(%s) AND (topic = ANY(%s) OR originator_id BETWEEN %s AND %s)"
                    " ORDER BY notification_id").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(statement, [start, stop, topics, rules, low, high])
        return [Stored(row[0], row[1], row[2], row[3], bytes(row[4])) for row in curs.fetchall()]


def encoded(message: tuple[Any, ...]) -> bytes:
    """A message to the rebuilding process as bytes. The messages hold plain values only (text,
    numbers, None; tuples, lists and dicts of them), which marshal writes several times faster
    than pickle: pickle's memo of every object written costs more than the rest for rows."""
    return marshal.dumps(message)


def decoded(data: bytes) -> tuple[Any, ...]:
    """The message `encoded` made (the processes run the same interpreter)."""
    message: tuple[Any, ...] = marshal.loads(data)
    return message


class Outbox:
    """Messages to the rebuilding process, encoded here and written to the pipe by a thread of
    their own: the worker goes on while that process is busy (deciding the rules, inserting),
    rather than waiting for it to read what the pipe cannot hold."""

    def __init__(self, conn: Connection) -> None:
        self.conn, self.waiting = conn, queue.SimpleQueue[Any]()
        self.thread = threading.Thread(target=self._write, name="rebuild-outbox", daemon=True)
        self.thread.start()

    def send(self, message: tuple[Any, ...]) -> None:
        self.waiting.put(encoded(message))

    def close(self) -> None:
        """Once everything sent is written (or the pipe broke: the rebuild has failed then)."""
        self.waiting.put(None)
        self.thread.join()

    def _write(self) -> None:
        while (data := self.waiting.get()) is not None:
            try:
                self.conn.send_bytes(data)
            except OSError:  # the rebuilding process is gone: nothing to tell
                return


def work(share: Share, pipe: Connection) -> None:
    """A worker process: replay the share's cases (sending what the cross-case rules take of each
    new petition, and the facts, as it goes), then what the cross-case rules need of its cases,
    then its tables. A failure is sent back with the notification it failed on (0 when it failed
    on none: reading the store, making or sending rows)."""
    gc.disable()  # everything made here lives until the end (see BulkRebuild.run)
    if share.nice and hasattr(os, "nice"):
        # Behind the rebuilding process: it takes what the workers send as it comes, rather than
        # leaving it to the end, when the workers are done and a core is idle (and behind the
        # server, which goes on serving meanwhile).
        os.nice(share.nice)
    position, outbox = 0, Outbox(pipe)
    try:
        petitions = PetitionService({**share.env, "CREATE_TABLE": "false"})
        path = unit_paths(lambda code: ancestors(share.units, code))

        def level_of(code: str) -> str | None:
            unit = share.units.get(code)
            return unit.level if unit is not None else None

        rules = BoardRules(path, level_of, share.person_key)
        histories = CaseHistories(rules, path)
        recorder, to_event = petitions.recorder, petitions.mapper.to_domain_event
        read, done, last = 0, 0, last_versions(recorder, share)
        # By stored case id: the case id (made once, not for each of its events), as the views hold
        # it, and the version of the case's last event.
        known: dict[Any, tuple[UUID, str, int | None]] = {}
        while read < share.end:
            notifications = [n for n in select_share(recorder, share, read + 1) if n.id <= share.end]
            arrivals = []
            for n in notifications:
                position = n.id  # first: what fails below is named by it
                case = known.get(n.originator_id)
                if case is None:
                    uid = n.originator_id if isinstance(n.originator_id, UUID) else UUID(n.originator_id)
                    case = known[n.originator_id] = (uid, str(uid), last.get(n.originator_id))
                event = to_event(Stored(position, case[0], n.originator_version, n.topic, n.state))  # type: ignore[arg-type]
                petition = histories.event(event, position, case[1])
                if petition is not None:
                    if isinstance(event, ev.Registered):
                        arrivals.append(packed(position, event.timestamp, rules.arrival(petition)))
                    if n.originator_version == case[2] and not petition.is_open:
                        histories.retire(case[1])
                done += n.topic not in RULES_TOPICS  # the settings events: counted once, there
            read, position = min(read + share.span, share.end), 0
            outbox.send(("arrivals", arrivals, read))
            # Rows final as made: into the load while the rest of the history is replayed.
            if len(histories.facts) >= share.chunk:
                outbox.send(("rows", "responsibility_facts", histories.taken_facts()))
            if histories.retiring >= share.chunk // 2:
                for table, rows in histories.taken_retired().items():
                    outbox.send(("rows", table, rows))
        # What the cross-case rules need of the cases first: they are decided while the rows go.
        outbox.send(("cases", histories.repeat_cleared, histories.finals, done, read))
        sending = None
        for table, rows in histories.made(share.chunk):  # each part sent as soon as it is made
            if sending not in (None, table):
                outbox.send(("sent", sending))  # all the rows of that table
            for start in range(0, len(rows), share.chunk):
                outbox.send(("rows", table, rows[start:start + share.chunk]))
            sending = table
        outbox.send(("sent", sending))
        outbox.send(("done",))
        petitions.close()
    except BaseException as error:
        log.error("projection_failed_on_event", projection="bulk_rebuild", worker=share.index,
                  notification_id=position or None, error_type=type(error).__name__)
        outbox.send(("failed", position, type(error).__name__))
    finally:
        outbox.close()
        pipe.close()
