"""A rebuild's two halves: each case's own rows, and the rules that compare a case with others.

`CaseHistories` replays cases on their own: the list row, deadlines, responsibility facts and the
board's warnings that one case decides (projections/board.py, the group rule and its regrouping
on a settings change, skip-level, key person). It needs only its cases' events (and the settings
events), so the cases can be shared out among processes (projections/bulk_workers.py).

`Registrations` decides repeat, after final and hotspot (projections/cross_case.py) from what
they take of each new petition (board_rules.Arrival), in store order. Two things it takes from
the cases' side when they are done: whether a related case was final when a petition on its
matter came (`finals`), and when each repeat warning cleared (the first event after the
registration that ended the case).

Both keep to what one-by-one projection writes; tests/integration/test_bulk.py compares them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from domain import events as ev
from domain.events import ENDED
from domain.petition import Petition
from domain.petition_state import OPEN_STATUSES
from domain.rules import WarningRules
from projections.board_rules import KEY_PERSON, RULE_EVENTS, Arrival, BoardRules
from projections.case_list import row_values
from projections.cross_case import BOARD, CLEARED, KEY_PERSON_BOARD, LEVEL, RULE, TABLE, CrossCase
from projections.deadline_index import deadline_values, running
from projections.responsibility import Before, fact_rows
from projections.store import stamp

Warnings = dict[tuple[str, str], str]
Tables = dict[str, list[tuple[Any, ...]]]
# When a case became final (True) or stopped being final (False), by notification id.
Finals = dict[str, list[tuple[int, bool]]]
# responsibility_facts' key is (day, petition_id, version, seq). Sorted by day alone, the facts of
# a day go in beside each other (on SQLite the table is its key's tree) for far less than a sort by
# (day, petition_id), which makes and compares a pair for each fact.
FACT_KEY = itemgetter(3)


class CaseHistories:
    """Cases replayed in memory, each on its own, with the rows they make."""

    def __init__(self, rules: BoardRules, path: Callable[[str], str]) -> None:
        self.rules, self.path = rules, path
        rules.rules = WarningRules()  # the defaults, until the history changes them
        self.cases: dict[str, Petition] = {}
        self.standing: dict[str, tuple[int, Warnings]] = {}  # by case: (settings generation, warnings)
        self.generation = 0
        self.board = CrossCase()  # only its rows: the cases' own warnings
        self.facts: list[tuple[Any, ...]] = []
        self.ended: dict[str, str] = {}
        self.repeat_cleared: dict[str, str] = {}
        self.finals: Finals = {}
        self.retired: Tables = {}  # the rows of cases let go (`retire`), since the last `taken_retired`
        self.retiring = 0  # how many cases those rows are of

    def event(self, event: Any, position: int, pid: str | None = None) -> Petition | None:
        """Project one event (at notification `position`; `pid`: its case id as text, when the
        caller has it); returns the case as it leaves it."""
        if isinstance(event, RULE_EVENTS):
            self.rules_changed(event)
            return None
        pid = pid or str(event.originator_id)
        before: Before | None = None
        if isinstance(event, ev.Registered):
            petition, was_final = cast(Petition, event.mutate(None)), False
        else:
            prior = self.cases[pid]
            generation, warnings = self.standing[pid]
            if generation != self.generation:  # the settings changed since: decide by the new ones
                warnings = self.rules.standing(prior)
            before, was_final = Before.of(prior, warnings), prior.status == "final"
            petition = event.mutate(prior) or prior
        self.cases[pid] = petition
        self.facts += fact_rows(event, before, petition, self.path, pid)
        now = self.rules.standing(petition)
        self.standing[pid] = (self.generation, now)
        self.changes(pid, before.warnings if before else {}, now, petition, event.timestamp,
                     before is None)
        if (petition.status == "final") != was_final:
            self.finals.setdefault(pid, []).append((position, not was_final))
        return petition

    def changes(self, pid: str, before: Warnings, now: Warnings, petition: Petition,
                timestamp: datetime, registered: bool) -> None:
        """BoardRules.changes: raise what the event started, clear what it ended (most events
        do neither: the time is then not formatted)."""
        if now == before and petition.status not in ENDED:
            return
        raised = [key for key in now if key not in before]
        cleared = [key for key in before if key not in now]
        ending = petition.status in ENDED and (
            pid not in self.ended or (not registered and pid not in self.repeat_cleared))
        if not (raised or cleared or ending):
            return
        at = stamp(timestamp)
        for key in raised:
            self.board.raise_([pid, petition.case_number, key[0], key[1], now[key],
                               petition.responsible_unit, petition.responsible_person,
                               self.path(petition.responsible_unit), at, None, petition.version,
                               KEY_PERSON_BOARD if key == KEY_PERSON else BOARD])
        for key in cleared:
            self.board.clear(pid, key[0], key[1], at, KEY_PERSON_BOARD if key == KEY_PERSON else BOARD)
        if petition.status in ENDED:
            self.ended.setdefault(pid, at)
            if not registered:  # a repeat warning is raised after its registration's own changes
                self.repeat_cleared.setdefault(pid, at)

    def rules_changed(self, event: Any) -> None:
        """The new settings from here on, and the group warnings re-decided by them."""
        self.rules.rules = rules = WarningRules.from_dict(event.rules)
        self.generation += 1
        self.regroup(rules, stamp(event.timestamp), -event.originator_version)

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

    def retire(self, pid: str) -> None:
        """A case that will not change again, its last event projected and no longer open (a later
        settings change regroups open cases only): its rows are made now and the case let go, so
        that they go into the load while the rest of the history is replayed."""
        petition, retired = self.cases.pop(pid), self.retired
        del self.standing[pid]
        listed, deadlines = self.own_rows(petition, pid)
        retired.setdefault("case_list", []).append(listed)
        retired.setdefault("deadline_index", []).extend(deadlines)
        for row in self.board.rows.pop(pid, ()):
            retired.setdefault(row[TABLE], []).append(tuple(row[:TABLE]))
        ended = self.ended.pop(pid, None)
        if ended is not None:
            retired.setdefault("case_ended", []).append((pid, ended))
        self.retiring += 1

    def own_rows(self, petition: Petition, pid: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        """A case's list row and deadline rows, its running deadlines read once for both."""
        clocks = running(petition)
        return row_values(petition, self.path, pid, clocks), deadline_values(petition, pid, clocks)

    def taken_retired(self) -> Tables:
        """The rows of the cases let go since the last call, each table's in key order."""
        taken, self.retired, self.retiring = self.retired, {}, 0
        for rows in taken.values():
            rows.sort(key=itemgetter(0))  # stable: a case's rows stay in their order
        return taken

    def taken_facts(self) -> list[tuple[Any, ...]]:
        """The facts made since the last call, in the table's key order (inserted near each
        other)."""
        taken, self.facts = self.facts, []
        taken.sort(key=FACT_KEY)
        return taken

    def tables(self) -> Tables:
        """The cases' tables, in the tables' column order."""
        return merged(*({table: rows} for table, rows in self.made()))

    def made(self, part: int = 20_000) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """`tables`, a table at a time, the cases' own rows made `part` cases at a time as asked
        for (a worker sends each part while it makes the next); first in each table, the rows of
        the cases let go and not taken yet."""
        left = self.taken_retired()
        yield "responsibility_facts", self.taken_facts()
        yield "case_list", left.pop("case_list", [])
        # By case id, the tables' keys: each row goes into the key's index beside the one before.
        cases = [self.cases[pid] for pid in sorted(self.cases)]
        parts = [cases[start:start + part] for start in range(0, len(cases), part)]
        deadlines: list[tuple[Any, ...]] = left.pop("deadline_index", [])
        for some in parts:
            rows = []
            for p in some:
                listed, its_deadlines = self.own_rows(p, str(p.id))
                rows.append(listed)
                deadlines += its_deadlines
            yield "case_list", rows
        for start in range(0, len(deadlines) or 1, part):  # (an empty part says there are none)
            yield "deadline_index", deadlines[start:start + part]
        for table in (BOARD, KEY_PERSON_BOARD):
            yield table, left.pop(table, []) + sorted(self.board.all_rows(table), key=itemgetter(0))
        yield "case_ended", left.pop("case_ended", []) + sorted(self.ended.items())


class Registrations:
    """The cross-case rules over every registration, in store order."""

    def __init__(self, rules: BoardRules) -> None:
        self.rules = rules
        rules.rules = WarningRules()
        self.board = CrossCase()
        self.settings: list[tuple[Any, ...]] = []
        self.numbers: dict[str, tuple[int, str]] = {}  # by case: its registration's position, number
        self.asked: list[tuple[str, int, list[Any], datetime, WarningRules]] = []

    def rules_changed(self, event: Any) -> None:
        """The settings in force from here on, recorded once per version."""
        self.rules.rules = WarningRules.from_dict(event.rules)
        if event.originator_version not in {s[0] for s in self.settings}:
            self.settings.append((event.originator_version, stamp(event.timestamp),
                                  json.dumps(event.rules, ensure_ascii=False, sort_keys=True)))

    def registered(self, new: Arrival, at: datetime, position: int) -> None:
        """Repeat and hotspot now; after final once the related case's history is known."""
        self.numbers[new.pid] = (position, new.case_number)
        rules = self.rules.current()

        def related(other: str) -> None:
            self.asked.append((other, position, self.rules.who(new, at), at, rules))

        self.rules.arrived(new, at, self.board, related)

    def finish(self, finals: Mapping[str, list[tuple[int, bool]]], repeat_cleared: Mapping[str, str]) -> None:
        """After final, by whether each related case was final when the petition came; repeat
        warnings cleared when their cases ended."""
        for other, position, who, at, rules in self.asked:
            known = self.numbers.get(other)
            if known is None or known[0] > position:
                continue  # not registered yet then
            final = False
            for changed, became in finals.get(other, ()):
                if changed > position:
                    break
                final = became
            self.board.after_final(("final" if final else "open", known[1]), rules, at, who)
        for pid, rows in self.board.rows.items():
            cleared = repeat_cleared.get(pid)
            for r in rows:
                if cleared is not None and r[RULE] == "repeat" and r[CLEARED] is None:
                    r[CLEARED] = cleared

    def final(self, least: int = 0) -> Tables:
        """The rows final as soon as made (the petitioner index, the hotspots' members, the
        hotspots' board rows their next ones replaced), those made since the last call; none
        while fewer than `least` have been made."""
        board = self.board
        if len(board.person_rows) + len(board.member_rows) + len(board.ended_rows) < least:
            return {}
        made: Tables = {"petitioner_index": board.person_rows, "hotspot_members": board.member_rows,
                        "warning_board": board.ended_rows}
        board.person_rows, board.member_rows, board.ended_rows = [], [], []
        for table in ("petitioner_index", "hotspot_members"):
            made[table].sort()  # by the table's key (its first columns): each goes in near the last
        return made

    def tables(self) -> Tables:
        """The tables the cross-case rules make (their warning rows go with the cases' ones)."""
        made = self.final()
        return {
            **made,
            "warning_board": made["warning_board"] + self.board.all_rows(BOARD),
            "board_settings": self.settings,
            "hotspots": self.board.hotspot_rows(),
        }


def merged(*parts: Tables) -> Tables:
    """Tables put together, each table's rows one after the other."""
    out: Tables = {}
    for part in parts:
        for table, rows in part.items():
            out.setdefault(table, []).extend(rows)
    return out

