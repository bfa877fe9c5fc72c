"""View storage: tables kept by projections, written with their tracking position in one transaction.

Statements are written once, in the SQL both engines speak: `{s}` stands for the schema
prefix (PostgreSQL) and `%(name)s` for a parameter; for SQLite both are rewritten.
"""

from __future__ import annotations

import hashlib
import re
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from projections import view_schema

Statement = tuple[str, Mapping[str, Any]]
_PARAM = re.compile(r"%\((\w+)\)s")
_INDEX = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+) ON \{s\}(\w+)\b")


def stamp(moment: datetime) -> str:
    """A moment as the views store it (ISO text to the microsecond, so text order is time order
    for moments in one offset). Not remembered: hashing an aware moment to look it up costs
    more than writing it, and a rebuild writes each moment once."""
    return moment.isoformat(timespec="microseconds")


@lru_cache(maxsize=1024)
def for_sqlite(sql: str) -> str:
    """The statement in SQLite's dialect (remembered: the same few statements run per event).
    A table marked `{clustered}` is stored in its key's order (WITHOUT ROWID): a key that is most
    of the row is then kept once, not again in an index beside the table; PostgreSQL ignores it."""
    return _PARAM.sub(r":\1", sql.replace("{s}", "").replace("{clustered}", " WITHOUT ROWID"))


def runs(statements: Sequence[Statement]) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """Consecutive statements with the same SQL, grouped (for executemany), in their order."""
    sql: str | None = None
    group: list[Mapping[str, Any]] = []
    for text, params in statements:
        if text != sql and sql is not None:
            yield sql, group
            group = []
        sql = text
        group.append(params)
    if sql is not None:
        yield sql, group


class Views(TrackingRecorder):
    """What every view store offers: DDL of its tables, atomic writes with tracking, and reads."""

    ddl: ClassVar[Sequence[str]] = ()
    tables: ClassVar[Sequence[str]] = ()
    # Bump when a projection's meaning changes while its tables stay the same: the views are
    # then dropped and rebuilt on the next start, as when their DDL changes (view_schema).
    # 2: skip-level counts visits only, a villager group's matter being its village's.
    # 3: group and dissatisfied warnings end with the case.
    schema_version: ClassVar[int] = 3

    datastore: Any  # the engine's datastore, set by the library's recorder

    @abstractmethod
    def dialect(self, sql: str) -> str:
        """The statement in this engine's dialect (schema prefix and parameter style)."""

    @abstractmethod
    def _run(self, cursor: Any, statements: Sequence[Statement]) -> None:
        """Run the statements in order on the transaction's cursor."""

    def write(self, tracking: Tracking | None, statements: Sequence[Statement],
              claim: Tracking | None = None) -> None:
        """Run the statements and record the tracking position, in one transaction.

        A batch of events passes its first event's position as `claim`: it is recorded before the
        statements run, and fails (IntegrityError) when another projector got there first, so no
        event of the batch is applied twice; `tracking` is then the batch's last event.
        """
        with self.datastore.transaction(commit=True) as c:
            if claim is not None and claim != tracking:
                self._insert_tracking(c, claim)  # type: ignore[attr-defined]
            self._run(c, statements)
            if tracking is not None:
                self._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    @contextmanager
    def loading(self) -> Iterator[Loader]:
        """One transaction for a rebuild's rows, some added as they come, the rest at the end
        with the position (Loader); rolled back, leaving nothing, when the block fails."""
        with self.datastore.transaction(commit=True) as c:
            self._begin_load(c)
            try:
                yield Loader(self, c)
            finally:
                self._end_load(c)

    def _begin_load(self, cursor: Any) -> None:
        """Prepare the load's transaction (which stays open while the history is replayed)."""

    def _end_load(self, cursor: Any) -> None:
        """Undo what `_begin_load` set for the connection (before the commit or rollback)."""

    def _load_table(self, cursor: Any, table: str) -> tuple[str, Any]:
        """Before a load's first rows of a table: the table they go into, and what
        `_complete_table` takes once it has them all."""
        return table, None

    def _complete_table(self, cursor: Any, table: str, pending: Any) -> Any:
        """A loaded table has all its rows; returns what `_swap_tables` takes of it."""

    def _swap_tables(self, cursor: Any, made: Mapping[str, Any]) -> None:
        """At the end of a load, the loaded tables put in place."""

    @classmethod
    def _indexes(cls) -> list[tuple[str, str, str]]:
        """The secondary indexes the DDL makes: (name, table, statement)."""
        found = ((_INDEX.match(sql), sql) for sql in cls.ddl)
        return [(m.group(1), m.group(2), sql) for m, sql in found if m]

    @abstractmethod
    def _load_rows(self, cursor: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows into a table of this view, in the transaction's cursor."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a SELECT, as dicts."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.dialect(sql), dict(params or {}))
            return [dict(row) for row in c.fetchall()]

    def position(self, application_name: str) -> int:
        """The last notification id this view has processed (0 when none)."""
        return self.max_tracking_id(application_name) or 0

    def close(self) -> None:
        """Release the database connections."""
        self.datastore.close()

    @abstractmethod
    def reset(self, application_name: str) -> None:
        """Empty the view's tables and forget its position, in one transaction (for a rebuild)."""

    @contextmanager
    def sole_projector(self, wait: bool, stopping: Callable[[], bool] = lambda: False) -> Iterator[bool]:
        """Be the one process projecting into these views while the block runs (a running
        `petitions projector`, a rebuild); yields False, holding nothing, when another is and
        `wait` is False (or `stopping()` while waiting). Embedded views are kept by their
        server's process: nothing to hold."""
        yield True


class Loader:
    """A rebuild's rows going into the views in one transaction (Views.loading).

    A table's indexes are not kept up row by row: one index built from all the rows costs far
    less than as many insertions into it as there are rows. How depends on the store
    (`Views._load_table`): SQLite drops them while the table fills (readers, WAL, go on reading
    what was committed); PostgreSQL fills a table of the same columns that takes the table's
    place at the end (DROP INDEX would lock readers out of the table until the commit). Either
    way the indexes are made once the table has all its rows (`complete`, or at the end)."""

    def __init__(self, views: Views, cursor: Any) -> None:
        self.views, self.cursor = views, cursor
        self.into: dict[str, str] = {}  # by table: where its rows go (itself, or its stand-in)
        self.pending: dict[str, Any] = {}  # by table: what `Views._complete_table` takes
        self.made: dict[str, Any] = {}  # by table: what `Views._swap_tables` takes

    def add(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of a table, inserted now (those that are final as soon as they are made, and the
        rest as they come, while the rows of other tables are still being made)."""
        if not rows:
            return
        if table not in self.into:
            self.into[table], self.pending[table] = self.views._load_table(self.cursor, table)
        self.views._load_rows(self.cursor, self.into[table], rows)

    def complete(self, table: str) -> None:
        """The table has all its rows: its indexes are made now (while the rows of other tables
        are still being made) rather than at the end."""
        if table in self.pending:
            self.made[table] = self.views._complete_table(self.cursor, table, self.pending.pop(table))

    def finish(self, tracking: Tracking, tables: Mapping[str, Sequence[Sequence[Any]]]) -> None:
        """The other rows, the indexes not made yet, the tables in place, and the position."""
        for table, rows in tables.items():
            self.add(table, rows)
        for table in list(self.pending):
            self.complete(table)
        self.views._swap_tables(self.cursor, self.made)
        self.views._insert_tracking(self.cursor, tracking)  # type: ignore[attr-defined]


class SQLiteViews(SQLiteTrackingRecorder, Views):
    """Views in a SQLite file of their own (the embedded mode)."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._usual_cache = -2000  # SQLite's default page cache (2 MB), until a load reads it

    def construct_create_table_statements(self) -> list[str]:
        """The tracking table and the view's tables."""
        return [*super().construct_create_table_statements(), *(for_sqlite(s) for s in self.ddl)]

    def create_table(self) -> None:
        """Create the tables, first dropping them when their definition changed (view_schema)."""
        name, wanted = type(self).__name__, view_schema.fingerprint(self.ddl, self.schema_version)
        with self.datastore.transaction(commit=True) as c:
            view_schema.drop_if_changed(c, name=name, wanted=wanted, tables=self.tables,
                                        tracking_table="tracking")
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            view_schema.record(c, name=name, wanted=wanted)

    def dialect(self, sql: str) -> str:
        """The statement in SQLite's dialect."""
        return for_sqlite(sql)

    def _run(self, cursor: Any, statements: Sequence[Statement]) -> None:
        for sql, group in runs(statements):
            if len(group) == 1:
                cursor.execute(for_sqlite(sql), group[0])
            else:
                cursor.executemany(for_sqlite(sql), group)

    def _load_table(self, cursor: Any, table: str) -> tuple[str, Any]:
        """The table's secondary indexes dropped while it fills."""
        made = []
        for name, on, sql in self._indexes():
            if on == table:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
                made.append(sql)
        return table, made

    def _complete_table(self, cursor: Any, table: str, pending: Any) -> None:
        for sql in pending:
            cursor.execute(self.dialect(sql))

    def _begin_load(self, cursor: Any) -> None:
        """A page cache big enough for the tables' indexes while they fill (the default is 2 MB),
        for the whole load: made smaller between two batches of rows, it would write the
        transaction's pages out and read them back for the next batch."""
        cursor.execute("PRAGMA cache_size")
        self._usual_cache = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -262144")

    def _end_load(self, cursor: Any) -> None:
        """The usual page cache again: the connection stays in the server's pool."""
        cursor.execute(f"PRAGMA cache_size = {self._usual_cache}")

    def _load_rows(self, cursor: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)

    def reset(self, application_name: str) -> None:
        """Empty the view's tables and forget its position, in one transaction (for a rebuild)."""
        with self.datastore.transaction(commit=True) as c:
            for table in self.tables:
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM tracking WHERE application_name = ?", (application_name,))


@lru_cache(maxsize=1024)
def _prefixed(sql: str, prefix: str) -> str:
    return sql.replace("{s}", prefix).replace("{clustered}", "")


_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING ")  # pg_get_indexdef's
STAND_IN = "__load"  # a loaded table's stand-in, and its indexes: their names end so


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key, named."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


CREATE_LOCK = lock_key("petitions:create-tables")


class CreatedOneAtATime:
    """Mixed into a PostgreSQL recorder: its tables, types and functions are created by one
    process at a time. Processes starting together (server, projector, schedulers) would
    otherwise race: concurrent CREATE TYPE / CREATE TABLE IF NOT EXISTS / CREATE OR REPLACE
    FUNCTION can fail with a duplicate key or "tuple concurrently updated"."""

    datastore: PostgresDatastore

    def create_table(self) -> None:
        """Hold a session advisory lock on a connection of its own while creating."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (CREATE_LOCK,))
            try:
                self.before_create()
                super().create_table()  # type: ignore[misc]
                self.after_create()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (CREATE_LOCK,))

    def before_create(self) -> None:
        """Run under the lock before the tables are created."""

    def after_create(self) -> None:
        """Run under the lock after the tables are created."""


class PostgresViews(CreatedOneAtATime, PostgresTrackingRecorder, Views):
    """Views in PostgreSQL, beside the event store."""

    view_name: ClassVar[str] = "views"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs.setdefault("tracking_table_name", f"{self.view_name}_tracking")
        super().__init__(datastore, **kwargs)
        self._prefix = f"{Identifier(self.datastore.schema).as_string()}."
        self.sql_create_statements.extend(SQL(self._pg(s)) for s in self.ddl)  # type: ignore[misc]

    def _pg(self, sql: str) -> str:
        return _prefixed(sql, self._prefix)

    def before_create(self) -> None:
        """Drop the tables when their definition changed since they were made (view_schema)."""
        with self.datastore.transaction(commit=True) as c:
            view_schema.drop_if_changed(
                c, name=self.view_name, wanted=self._fingerprint(), tables=self.tables,
                tracking_table=self.tracking_table_name, prefix=self._prefix, param="%s")

    def after_create(self) -> None:
        """Note the definition the tables were made with."""
        with self.datastore.transaction(commit=True) as c:
            view_schema.record(c, name=self.view_name, wanted=self._fingerprint(),
                               prefix=self._prefix, param="%s")

    def _fingerprint(self) -> str:
        return view_schema.fingerprint(self.ddl, self.schema_version)

    def dialect(self, sql: str) -> str:
        """The statement with the schema prefix."""
        return self._pg(sql)

    def _run(self, cursor: Any, statements: Sequence[Statement]) -> None:
        # Pipeline mode: the statements go out without waiting for each answer (they still run
        # in order, each seeing the rows of those before it); errors surface at the sync.
        with cursor.connection.pipeline():
            for sql, group in runs(statements):
                if len(group) == 1:
                    cursor.execute(self._pg(sql), group[0], prepare=True)
                else:
                    cursor.executemany(self._pg(sql), group)

    def _begin_load(self, cursor: Any) -> None:
        """The connection may sit idle in the load's transaction while the history is replayed
        (the library ends a session idle in a transaction after a few seconds). One load at a
        time (a lock until the commit): two processes catching up on empty views at once would
        make the same stand-ins and deadlock; the second now waits, then fails on the first's
        position, and goes on from there (EmbeddedProjector.catch_up)."""
        cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)",
                       (lock_key(f"petitions:load:{self.datastore.schema}"),))

    def _load_table(self, cursor: Any, table: str) -> tuple[str, Any]:
        """A stand-in of the same columns, with no index yet, takes the rows: readers go on
        reading the table itself until the commit."""
        cursor.execute(f"CREATE TABLE {self._prefix}{table}{STAND_IN} (LIKE {self._prefix}{table}"
                       " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        return f"{table}{STAND_IN}", None

    def _complete_table(self, cursor: Any, table: str, pending: Any) -> list[dict[str, Any]]:
        """The table's indexes (those of its key and unique columns too) made on its stand-in,
        under names of their own until the swap."""
        cursor.execute(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS sql, c.conname, c.contype"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.contype IN ('p', 'u')"
            " WHERE n.nspname = %s AND t.relname = %s ORDER BY i.relname",
            (self.datastore.schema, table))
        found = [dict(r) for r in cursor.fetchall()]
        for index in found:
            sql, named = _INDEX_DEF.subn(
                rf"CREATE \1INDEX {index['name']}{STAND_IN} ON {self._prefix}{table}{STAND_IN} USING ",
                index["sql"])
            if not named:
                raise RuntimeError(f"cannot read the definition of index {index['name']}: {index['sql']}")
            cursor.execute(sql)
        return found

    def _swap_tables(self, cursor: Any, made: Mapping[str, Any]) -> None:
        """Each loaded table's stand-in takes its place and its indexes' names: the table is
        locked only from here to the commit."""
        for table, found in made.items():
            cursor.execute(f"DROP TABLE {self._prefix}{table}")
            cursor.execute(f"ALTER TABLE {self._prefix}{table}{STAND_IN} RENAME TO {table}")
            for index in found:
                if index["contype"]:
                    kind = "PRIMARY KEY" if index["contype"] == "p" else "UNIQUE"
                    cursor.execute(f"ALTER TABLE {self._prefix}{table} ADD CONSTRAINT"
                                   f" {index['conname']} {kind} USING INDEX {index['name']}{STAND_IN}")
                else:
                    cursor.execute(f"ALTER INDEX {self._prefix}{index['name']}{STAND_IN}"
                                   f" RENAME TO {index['name']}")

    def _load_rows(self, cursor: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        # COPY: the rows stream to the server in one statement, far faster than INSERTs.
        with cursor.copy(SQL("COPY {0}.{1} FROM STDIN").format(
                Identifier(self.datastore.schema), Identifier(table))) as copy:
            for values in rows:
                copy.write_row(values)

    @contextmanager
    def sole_projector(self, wait: bool, stopping: Callable[[], bool] = lambda: False) -> Iterator[bool]:
        """A session advisory lock, named by the schema, on a connection of its own; waiting (a
        standby) asks every second, until it holds it or `stopping()`."""
        key = lock_key(f"petitions:projector:{self.datastore.schema}")
        with self.datastore.get_connection() as conn:
            while True:
                row = conn.execute("SELECT pg_try_advisory_lock(%s) AS held", (key,)).fetchone()
                if row and row["held"]:
                    break
                if not wait or stopping():
                    yield False
                    return
                time.sleep(1)
            try:
                yield True
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def reset(self, application_name: str) -> None:
        """Empty the view's tables and forget its position, in one transaction (for a rebuild).
        TRUNCATE, not DELETE: the tables start again from empty files, where the rebuild's rows
        go in at once; after a DELETE they would go in among the dead rows, into indexes still
        holding every old entry (a rebuild took twice as long). Readers wait for its commit."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(SQL("TRUNCATE {0}").format(SQL(", ").join(
                SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(table))
                for table in self.tables)))
            c.execute(SQL("DELETE FROM {0}.{1} WHERE application_name = %s").format(
                Identifier(self.datastore.schema), Identifier(self.tracking_table_name)),
                (application_name,))
