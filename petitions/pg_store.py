"""The PostgreSQL event store, saving in one round trip.

The library's recorder saves in several round trips (begin, lock, notify, insert, commit), and its
optional database function, which would save in one, leaves out the table lock that keeps
notification order equal to commit order (without it a projection tailing the log could pass a
gap that fills later), and names the function after the id type only, so two applications in one
schema would overwrite each other's. This recorder's function is named after its own table and
takes the lock, then notifies and inserts: one autocommitted statement, one commit. It takes the
events as four arrays sent in binary (ids, versions, topics, states).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.sql import SQL, Identifier

from projections.store import CreatedOneAtATime

FACTORY = "petitions.pg_store:Factory"


class OneTripRecorder(CreatedOneAtATime, PostgresApplicationRecorder):
    """An application recorder whose every save is one call of its own database function."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema, table = Identifier(datastore.schema), Identifier(self.events_table_name)
        self.pg_function_name_insert_events = f"{self.events_table_name}_insert"
        function = Identifier(self.pg_function_name_insert_events)
        # Four arrays sent in binary, not the library's array of a composite type in text: the
        # states are not written out as hex and parsed back (less work on both sides of the wire).
        # Composed once, here, rather than on every save.
        self.sql_insert_events: str = SQL(
            "SELECT * FROM {schema}.{function}(%b::{id}[], %b::bigint[], %b::text[], %b::bytea[])"
        ).format(schema=schema, function=function,
                 id=Identifier(datastore.originator_id_type)).as_string(None)
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(ids {id}[], versions bigint[],"
            " topics text[], states bytea[])"
            " RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN"
            " SET LOCAL lock_timeout = '{lock_timeout}s';"
            " LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            " NOTIFY {channel};"
            " RETURN QUERY INSERT INTO {schema}.{table} AS t"
            " (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(ids, versions, topics, states)"
            " RETURNING notification_id;"
            " END; $BODY$"
        ).format(schema=schema, function=function, id=Identifier(datastore.originator_id_type),
                 lock_timeout=datastore.lock_timeout, table=table,
                 channel=Identifier(self.channel_name))
        self.sql_create_statements[self.create_insert_function_statement_index] = (
            self.sql_create_pg_function_insert_events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Insert the events in one statement, committed on return; their notification ids."""
        if not stored_events:
            return []
        columns = ([e.originator_id for e in stored_events],
                   [e.originator_version for e in stored_events],
                   [e.topic for e in stored_events], [e.state for e in stored_events])
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(self.sql_insert_events, columns, prepare=True)
            return [r[self.pg_function_name_insert_events] for r in curs.fetchall()]


class SnapshotRecorder(CreatedOneAtATime, PostgresAggregateRecorder):
    """The snapshot store, created one process at a time like the events."""


class Factory(PostgresFactory):
    """The library's PostgreSQL factory with these recorders (PERSISTENCE_MODULE = FACTORY)."""

    aggregate_recorder_class = SnapshotRecorder
    application_recorder_class = OneTripRecorder
