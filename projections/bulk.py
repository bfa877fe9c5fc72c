"""A rebuild in memory: every view row made from the whole history, then loaded in one transaction.

Projecting one event at a time writes each case's rows again on every event (upserts that later
events overwrite); a rebuild knows every case from the start, so it keeps the cases and the board
in memory, makes each table's final rows once and loads them together with the tracking position
(executemany on SQLite, COPY on PostgreSQL). The rows are those one-by-one projection makes: the
per-case parts call the same functions (row, deadline_rows, facts, the board's standing
warnings), and the cross-case rules are the same code (projections/cross_case.py), here with
everything in memory. Only the regrouping on a settings change, SQL over every case as events
come, is done here in memory. Interrupted, it leaves nothing behind: the tables stay empty at
position 0, and the next run starts again.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any, cast

import structlog
from eventsourcing.persistence import Tracking

from domain import events as ev
from domain.events import ENDED
from domain.petition import Petition
from domain.petition_state import OPEN_STATUSES
from domain.rules import WarningRules
from domain.service import PetitionService
from projections.board_rules import KEY_PERSON, RULE_EVENTS
from projections.case_list import CaseListProjection, row
from projections.cross_case import BOARD, CLEARED, KEY_PERSON_BOARD, LEVEL, RULE, TABLE, CrossCase
from projections.deadline_index import deadline_rows
from projections.responsibility import Before, facts
from projections.store import stamp

log = structlog.get_logger("projections")
Warnings = dict[tuple[str, str], str]


class BulkRebuild:
    """Projects the whole event history into memory, then writes every view table at once."""

    def __init__(self, projection: CaseListProjection) -> None:
        self.projection, self.rules = projection, projection.board
        self.rules.rules = WarningRules()  # the defaults, until the history changes them
        self.path = projection.path
        self.cases: dict[str, Petition] = {}
        self.standing: dict[str, tuple[int, Warnings]] = {}  # by case: (settings generation, warnings)
        self.generation = 0
        self.board = CrossCase()
        self.facts: list[tuple[Any, ...]] = []
        self.ended: dict[str, str] = {}
        self.settings: list[tuple[Any, ...]] = []

    def run(self, petitions: PetitionService, progress: Callable[[int], None] | None = None,
            page: int = 2000) -> int:
        """Read and project every notification, then load the tables; returns how many events.

        The cyclic garbage collector is paused meanwhile: what is built here lives until the end,
        and its passes over millions of live objects would cost more the further the run got."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run(petitions, progress, page)
        finally:
            if paused:
                gc.enable()

    def _run(self, petitions: PetitionService, progress: Callable[[int], None] | None,
             page: int) -> int:
        name, recorder = petitions.name, petitions.recorder
        to_event, topics = petitions.mapper.to_domain_event, list(self.projection.topics)
        position, done = 0, 0
        while True:
            notifications = recorder.select_notifications(start=position + 1, limit=page, topics=topics)
            for notification in notifications:
                event = to_event(notification)
                try:
                    self.event(event)
                except Exception:
                    log.error("projection_failed_on_event", projection="bulk_rebuild",
                              notification_id=notification.id, event_type=type(event).__name__,
                              case=str(event.originator_id))
                    raise
            if notifications:
                position, done = notifications[-1].id, done + len(notifications)
                if progress is not None:
                    progress(position)
            if len(notifications) < page:
                break
        if done:
            self.projection.view.load(Tracking(name, position), self.tables())
        return done

    # ---- one event ----------------------------------------------------------------------

    def event(self, event: Any) -> None:
        """Project one event into memory."""
        if isinstance(event, RULE_EVENTS):
            self.rules_changed(event)
            return
        pid = str(event.originator_id)
        before: Before | None = None
        if isinstance(event, ev.Registered):
            petition = cast(Petition, event.mutate(None))
        else:
            prior = self.cases[pid]
            generation, warnings = self.standing[pid]
            if generation != self.generation:  # the settings changed since: decide by the new ones
                warnings = self.rules.standing(prior)
            before = Before.of(prior, warnings)
            petition = event.mutate(prior) or prior
        self.cases[pid] = petition
        self.facts += (tuple(params.values()) for _, params in facts(event, before, petition, self.path))
        now = self.rules.standing(petition)
        self.standing[pid] = (self.generation, now)
        at = stamp(event.timestamp)
        self.changes(pid, before.warnings if before else {}, now, petition, at)
        if before is None:
            self.rules.registered(petition, event.timestamp, self.board, self._related)

    def changes(self, pid: str, before: Warnings, now: Warnings, petition: Petition, at: str) -> None:
        """BoardRules.changes: raise what the event started, clear what it ended."""
        for key, detail in now.items():
            if key not in before:
                self.board.raise_([pid, petition.case_number, key[0], key[1], detail,
                                   petition.responsible_unit, petition.responsible_person,
                                   self.path(petition.responsible_unit), at, None, petition.version,
                                   KEY_PERSON_BOARD if key == KEY_PERSON else BOARD])
        for key in before:
            if key not in now:
                self.board.clear(pid, key[0], key[1], at, KEY_PERSON_BOARD if key == KEY_PERSON else BOARD)
        if petition.status in ENDED:
            self.board.clear(pid, "repeat", "yellow", at)
            self.ended.setdefault(pid, at)

    def rules_changed(self, event: Any) -> None:
        """BoardRules.rules_changed: the new settings from here on, the group warnings re-decided."""
        self.rules.rules = rules = WarningRules.from_dict(event.rules)
        self.generation += 1
        at = stamp(event.timestamp)
        if event.originator_version not in {s[0] for s in self.settings}:
            self.settings.append((event.originator_version, at,
                                  json.dumps(event.rules, ensure_ascii=False, sort_keys=True)))
        self.regroup(rules, at, -event.originator_version)

    def regroup(self, rules: WarningRules, at: str, negated: int) -> None:
        """board_rules.REGROUP: clear group rows at another level, raise the missing ones."""
        def level(headcount: int) -> str:
            return ("red" if headcount >= rules.group_red else
                    "orange" if headcount >= rules.group_orange else "")
        for pid, rows in self.board.rows.items():
            for warning in rows:
                if warning[RULE] == "group" and warning[CLEARED] is None and warning[TABLE] == BOARD \
                        and warning[LEVEL] != level(self.cases[pid].headcount):
                    warning[CLEARED] = at
        for pid, case in self.cases.items():
            if case.headcount < rules.group_orange or case.status not in OPEN_STATUSES:
                continue
            if any(r[RULE] == "group" and r[CLEARED] is None and r[TABLE] == BOARD
                   for r in self.board.rows.get(pid, ())):
                continue
            self.board.raise_([pid, case.case_number, "group", level(case.headcount),
                               f"group petition of {case.headcount} people", case.responsible_unit,
                               case.responsible_person, self.path(case.responsible_unit), at, None,
                               negated, BOARD])

    def _related(self, pid: str) -> tuple[str, str] | None:
        case = self.cases.get(pid)
        return (case.status, case.case_number) if case is not None else None

    # ---- the tables ---------------------------------------------------------------------

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every view table's rows, in the tables' column order."""
        return {
            "case_list": [tuple(row(p, self.path).values()) for p in self.cases.values()],
            "deadline_index": [tuple(d.values()) for p in self.cases.values() for d in deadline_rows(p)],
            "responsibility_facts": self.facts,
            "warning_board": self.board.all_rows(BOARD),
            "key_person_board": self.board.all_rows(KEY_PERSON_BOARD),
            "board_settings": self.settings,
            "petitioner_index": self.board.person_rows,
            "hotspots": self.board.hotspot_rows(),
            "hotspot_members": self.board.member_rows(),
            "case_ended": list(self.ended.items()),
        }
