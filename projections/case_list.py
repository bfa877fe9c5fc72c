"""The case list: one row per petition, for filtered, keyset-paginated lists."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from functools import singledispatchmethod
from typing import Any, cast
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection

from domain import events as ev
from domain.deadlines import Deadline
from domain.directory import UnitInfo
from domain.petition import Petition
from domain.rules import RULES_TOPICS
from projections.board import DDL as BOARD_DDL
from projections.board_rules import DDL as RULES_DDL
from projections.board_rules import RULE_EVENTS, BoardRules
from projections.cross_case import CrossCase
from projections.cross_case_sql import ViewSource
from projections.deadline_index import DDL as DEADLINES_DDL
from projections.deadline_index import DELETE_DEADLINES, INSERT_DEADLINE, deadline_rows, running
from projections.responsibility import DDL as FACTS_DDL
from projections.responsibility import Before, facts
from projections.store import Statement, Views, stamp

_EVENT_CLASSES: list[type] = [ev.Registered, *ev.PetitionEvent.__subclasses__(),
                               *ev.AppealRequested.__subclasses__()]
PETITION_TOPICS = tuple(f"{ev.__name__}:{cls.__name__}" for cls in _EVENT_CLASSES
                        if cls is not ev.AppealRequested)

DDL = (
    "CREATE TABLE IF NOT EXISTS {s}case_list ("
    " id TEXT PRIMARY KEY, case_number TEXT NOT NULL UNIQUE, status TEXT NOT NULL,"
    " channel TEXT NOT NULL, category TEXT NOT NULL, summary TEXT NOT NULL, content TEXT NOT NULL,"
    " receiving_unit TEXT NOT NULL, location_unit TEXT NOT NULL, responsible_unit TEXT NOT NULL,"
    " responsible_person TEXT NOT NULL, location_path TEXT NOT NULL, responsible_path TEXT NOT NULL,"
    " received_at TEXT NOT NULL, received_on TEXT NOT NULL, next_due TEXT, has_missed INTEGER NOT NULL,"
    " urgent INTEGER NOT NULL, headcount INTEGER NOT NULL, version INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS case_list_received ON {s}case_list (received_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS case_list_status ON {s}case_list (status, received_at DESC)",
    "CREATE INDEX IF NOT EXISTS case_list_responsible ON {s}case_list (responsible_path)",
    "CREATE INDEX IF NOT EXISTS case_list_location ON {s}case_list (location_path)",
    *DEADLINES_DDL,
    *FACTS_DDL,
    *BOARD_DDL,
    *RULES_DDL,
)
UPSERT = (
    "INSERT INTO {s}case_list VALUES (%(id)s, %(case_number)s, %(status)s, %(channel)s,"
    " %(category)s, %(summary)s, %(content)s, %(receiving_unit)s, %(location_unit)s,"
    " %(responsible_unit)s, %(responsible_person)s, %(location_path)s, %(responsible_path)s,"
    " %(received_at)s, %(received_on)s, %(next_due)s, %(has_missed)s, %(urgent)s, %(headcount)s,"
    " %(version)s) ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
    " responsible_unit = excluded.responsible_unit, responsible_person = excluded.responsible_person,"
    " responsible_path = excluded.responsible_path, next_due = excluded.next_due,"
    " has_missed = excluded.has_missed, version = excluded.version"
    " WHERE {s}case_list.version < excluded.version"
)
UnitPath = Callable[[str], str]
KEEP_READS = 20000  # the cross-case rules start afresh after this many reads and registrations
# (what they keep stays bounded)
log = structlog.get_logger("projections")


COLUMNS = ("id", "case_number", "status", "channel", "category", "summary", "content",
           "receiving_unit", "location_unit", "responsible_unit", "responsible_person",
           "location_path", "responsible_path", "received_at", "received_on", "next_due",
           "has_missed", "urgent", "headcount", "version")


def row(petition: Petition, path: UnitPath) -> dict[str, Any]:
    """The list row of a petition as it now is."""
    return dict(zip(COLUMNS, row_values(petition, path, str(petition.id), running(petition)),
                    strict=True))


def row_values(petition: Petition, path: UnitPath, pid: str,
               deadlines: list[tuple[int, Deadline]]) -> tuple[Any, ...]:
    """`row` as the table's row, from the case's running deadlines (deadline_index.running)."""
    clocks = [d for _, d in deadlines if not d.is_petitioner_window]
    next_due = min((d.due for d in clocks), default=None)
    return (pid, petition.case_number, petition.status, petition.channel, petition.category,
            petition.summary, petition.content, petition.receiving_unit, petition.location_unit,
            petition.responsible_unit, petition.responsible_person, path(petition.location_unit),
            path(petition.responsible_unit), stamp(petition.received_at.astimezone(UTC)),
            petition.office_date(petition.received_at).isoformat(),
            next_due.isoformat() if next_due is not None else None,  # the column is text
            int(any(d.status == "missed" for d in clocks)), int(petition.urgent),
            petition.headcount, petition.version)


class CaseListProjection(Projection[Views]):
    """Keeps one row per petition, from the petition's own state after each event."""

    name = "case_list"
    topics = (*PETITION_TOPICS, *RULES_TOPICS)

    def __init__(self, view: Views, load: Callable[[UUID, int], Petition], path: UnitPath,
                 cache_size: int = 20000, level_of: Callable[[str], str | None] | None = None,
                 person_key: bytes | None = None,
                 units: Callable[[], Mapping[str, UnitInfo]] | None = None) -> None:
        super().__init__(view)
        # Every unit as it stands now, when known: a rebuild's worker processes take paths from it.
        self.units = units
        self.person_key = person_key
        self._load, self._path = load, path
        self.path = path
        self._cache: OrderedDict[UUID, Petition] = OrderedDict()
        self._cache_size = cache_size
        # Without a key the views cannot tell petitioners apart: the repeat rule then goes by matter only.
        self.board = BoardRules(path, level_of or (lambda code: None), person_key)
        self._cross: CrossCase | None = None  # the batch's cross-case rules (see begin)
        self._kept: CrossCase | None = None  # and what they read, kept for the next batch
        self._kept_at = 0
        self._source: ViewSource | None = None
        self._statuses: dict[str, tuple[str, str]] = {}

    def forget(self) -> None:
        """Drop the cached petitions and settings (before a rebuild)."""
        self._cache.clear()
        self.board.rules = None
        self._kept = None

    def petition_after(self, event: Any) -> tuple[Before | None, Petition]:
        """What the petition was just before the event, and the petition as the event leaves it."""
        pid, version = event.originator_id, event.originator_version
        cached = self._cache.pop(pid, None)
        if isinstance(event, ev.Registered):
            before, petition = None, cast(Petition, event.mutate(None))  # Registered creates it
        else:
            prior = cached if cached is not None and cached.version == version - 1 else None
            prior = prior or self._load(pid, version - 1)
            before = Before.of(prior, self.board.standing(prior))
            petition = event.mutate(prior) or prior
        self._cache[pid] = petition
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return before, petition

    def statements(self, domain_event: Any) -> list[Statement]:
        """What one event changes in the views, in the order they must run (later ones may read
        rows the earlier ones wrote, in the same transaction)."""
        if self.board.rules is None:
            self.board.refresh(self.view)
        if isinstance(domain_event, RULE_EVENTS):
            return self.board.rules_changed(domain_event)
        before, petition = self.petition_after(domain_event)
        self._statuses[str(petition.id)] = (petition.status, petition.case_number)
        found = [(UPSERT, row(petition, self._path)),
                 (DELETE_DEADLINES, {"id": str(petition.id)}),
                 *((INSERT_DEADLINE, d) for d in deadline_rows(petition)),
                 *facts(domain_event, before, petition, self._path),
                 *self.board.changes(before.warnings if before else {}, petition, domain_event.timestamp)]
        if before is None:
            cross = self._cross or self.begin([domain_event])
            assert cross.log is not None
            start = len(cross.log)
            self.board.registered(petition, domain_event.timestamp, cross, self._related)
            found += cross.log[start:]
        return found

    def begin(self, events: Sequence[Any], position: int | None = None) -> CrossCase:
        """A new batch: the cross-case rules read the view's committed rows, and keep what the
        batch's own events add (their case statuses, their rows). What they read is kept for the
        next batch while the view stands where this projection left it (`position`: where it
        stands now, when known): then no other writer changed the rows read."""
        kept, since = self._kept, stamp(min(e.timestamp for e in events))
        # The hotspots it read are those standing after its first batch began: a batch recorded
        # earlier than that (record times can cross commit order) must read them again.
        if (kept is None or position is None or position != self._kept_at or kept.reads > KEEP_READS
                or self._source is None or since < self._source.since):
            self._source = ViewSource(self.view, self._path, since)
            kept = CrossCase(source=self._source)
        self._kept, self._cross, self._statuses = None, kept, {}
        kept.log = []
        return kept

    def _keep(self, position: int) -> None:
        """The batch is written: keep what its rules read and made, as of `position`."""
        self._kept, self._kept_at = self._cross, position

    def _related(self, pid: str) -> tuple[str, str] | None:
        """A case's status and number as they stand at the event being projected."""
        known = self._statuses.get(pid)
        return known if known is not None or self._source is None else self._source.case(pid)

    def _done(self) -> None:
        self._cross, self._statuses = None, {}

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Every petition event changes the row to the petition's new state."""
        try:
            self.board.refresh(self.view)  # another projector or a rolled-back batch may have moved it
            self.begin([domain_event], self.view.position(tracking.application_name))
            self.view.write(tracking, self.statements(domain_event))
            self._keep(tracking.notification_id)
        except IntegrityError:
            raise  # another projector recorded this position first: not a failure of this event
        except Exception:
            # Loud, never skipped: name the event, then stop the projection.
            log.error("projection_failed_on_event", projection=self.name,
                      notification_id=tracking.notification_id, event_type=type(domain_event).__name__,
                      case=str(domain_event.originator_id))
            raise
        finally:
            self._done()

    def process_events(self, batch: Sequence[tuple[Any, Tracking]]) -> None:
        """Many events in one transaction, in order, tracking the last (a rebuild, a catch-up).

        A batch that fails is rolled back and done again one event at a time, so the failing
        event is named and everything before it is kept.
        """
        if len(batch) == 1:
            self.process_event(*batch[0])
            return
        try:
            self.board.refresh(self.view)
            self.begin([event for event, _ in batch], self.view.position(batch[0][1].application_name))
            statements = [s for event, _ in batch for s in self.statements(event)]
            self.view.write(batch[-1][1], statements, claim=batch[0][1])
            self._keep(batch[-1][1].notification_id)
            self._done()
        except IntegrityError:
            self._done()
            first = batch[0][1]
            if self.view.position(first.application_name) >= first.notification_id:
                raise  # another projector recorded part of this batch first
            self._one_by_one(batch)
        except Exception:
            self._done()
            self._one_by_one(batch)

    def _one_by_one(self, batch: Sequence[tuple[Any, Tracking]]) -> None:
        log.warning("projection_batch_failed_redoing_one_by_one", projection=self.name,
                    first=batch[0][1].notification_id, last=batch[-1][1].notification_id)
        for event, tracking in batch:
            self.process_event(event, tracking)


def unit_paths(ancestors: Callable[[str], list[str]]) -> UnitPath:
    """A unit's path from the top of the tree, e.g. /county/town1/town1.v1/ (for subtree LIKE)."""
    cache: dict[str, str] = {}

    def path(code: str) -> str:
        if code not in cache:
            cache[code] = "/" + "/".join(reversed(ancestors(code) or [code])) + "/"
        return cache[code]

    return path

