"""Quarterly and year-end summaries from the views, and their exports, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from openpyxl import load_workbook

from domain.directory import DirectoryService
from domain.service import PetitionService
from domain.validation import make_id_number
from projections.board import RAISE
from projections.case_list import unit_paths
from projections.runner import EmbeddedProjector, build_views, case_list_projection
from projections.statistics import Period, summary
from projections.statistics_export import to_csv, to_xlsx
from tests.integration.test_case_list import projector_on, views_env
from tests.support import CST, FakeClock, Office

MakeService = Callable[..., PetitionService]
_serials = itertools.count(10)


def tree() -> DirectoryService:
    """county → town1 (一镇) → town1.v1, county → town2 (二镇) → town2.v1, in memory."""
    directory = DirectoryService({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for code, name, level, parent in [("county", "县", "county", None),
                                      ("town1", "一镇", "township", "county"),
                                      ("town2", "二镇", "township", "county"),
                                      ("town1.v1", "一村", "village", "town1"),
                                      ("town2.v1", "二村", "village", "town2")]:
        directory.create_unit(code=code, name=name, level=level, parent=parent, actor="t")
    return directory


@dataclass
class Scene:
    """An office on a real store, its views, and the figures of a period as the route reads them."""

    office: Office
    projector: EmbeddedProjector
    directory: DirectoryService

    def register(self, **overrides: Any) -> UUID:
        """A petition by a petitioner of their own (so no repeat rule links the cases)."""
        person = {"name": "李四", "id_number": make_id_number(f"110105194912310{next(_serials):02d}")}
        return self.office.register(**{"petitioners": [person], **overrides})

    def served(self, **overrides: Any) -> UUID:
        """A case in town1, assigned, accepted, replied and served."""
        pid = self.register(location_unit="town1.v1", **overrides)
        self.office.do("assign", pid, actor="reception1", unit="town1", person="handler1", mode="assign")
        self.office.do("accept", pid)
        self.office.do("reply", pid, opinion="support", text="支持")
        self.office.do("serve", pid)
        return pid

    def figures(self, period: str, unit: str = "county") -> dict[str, Any]:
        """The summary after the view caught up."""
        self.projector.catch_up()
        units = self.directory.units()
        return summary(self.projector.projection.view, unit_paths(self.directory.ancestors)(unit),
                       Period.parse(period), self.office.service.policy.tz, unit,
                       lambda code: units[code].name)


def scene(make_service: MakeService, tmp_path: Path) -> Scene:
    clock = FakeClock()
    service = make_service(clock)
    directory = tree()
    return Scene(Office(service, clock), projector_on(service, tmp_path, directory), directory)


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["key"]: r["count"] for r in rows}


def test_counts_petitions_received_by_channel_category_area_and_status_within_the_subtree(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Three letters and two visits: counted by channel, category, township and status; a group visit
    adds its headcount; a township's summary holds only the cases of its subtree."""
    s = scene(make_service, tmp_path)
    s.register(channel="letter", location_unit="town1.v1", category="land")
    s.register(channel="letter", location_unit="town1.v1", category="land")
    s.register(channel="letter", location_unit="town1", category="pension")
    s.register(channel="visit", location_unit="town2.v1", category="land", headcount=6)
    declined = s.register(channel="visit", location_unit="town2.v1", category="land")
    s.office.do("decline", declined, actor="reception1", reason="不属于信访事项")
    q3 = s.figures("2026-Q3")
    assert q3["received"] == 5 and q3["persons"] == 10 and q3["group_petitions"] == 1
    assert counts(q3["by_channel"]) == {"letter": 3, "visit": 2, "phone": 0, "online": 0, "email": 0}
    assert [r["name"] for r in q3["by_channel"][:2]] == ["来信", "来访"]
    assert counts(q3["by_category"]) == {"land": 4, "pension": 1}
    assert counts(q3["by_area"]) == {"town1": 3, "town2": 2}
    assert {r["key"]: r["name"] for r in q3["by_area"]} == {"town1": "一镇", "town2": "二镇"}
    assert counts(q3["by_status"]) == {"registered": 4, "declined": 1}
    assert q3["closed"] == 1 and q3["unit_name"] == "县"
    town2 = s.figures("2026-Q3", "town2")
    assert town2["received"] == 2 and counts(town2["by_area"]) == {"town2": 2}
    assert town2["closed"] == 0  # the decline is charged to the county, responsible at the time
    assert s.figures("2026-Q4")["received"] == 0


def test_a_quarter_begins_and_ends_at_midnight_in_the_office_time_zone(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Received at 23:30 on 30 September (Beijing time) is Q3; at 00:30 on 1 October, Q4, though
    both moments fall on 30 September in UTC."""
    s = scene(make_service, tmp_path)
    s.office.clock.now = datetime(2026, 9, 30, 23, 30, tzinfo=CST)
    s.register(channel="letter")
    s.office.clock.now = datetime(2026, 10, 1, 0, 30, tzinfo=CST)
    s.register(channel="online")
    assert counts(s.figures("2026-Q3")["by_channel"])["letter"] == 1
    assert s.figures("2026-Q3")["received"] == 1
    assert counts(s.figures("2026-Q4")["by_channel"]) == {"letter": 0, "visit": 0, "phone": 0,
                                                          "online": 1, "email": 0}
    assert s.figures("2026")["received"] == 2 and s.figures("2027")["received"] == 0


def test_the_on_time_rate_counts_each_deadline_in_the_period_it_fell_due(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Three deadlines met and one missed, all due in September: 75 % on time in Q3. A handling
    deadline met early in September but due in November counts in Q4."""
    s = scene(make_service, tmp_path)
    on_time = s.register(location_unit="town1.v1")
    s.office.do("assign", on_time, actor="reception1", unit="town1", person="handler1", mode="assign")
    s.office.do("accept", on_time)
    s.office.do("reply", on_time, opinion="support", text="支持")  # handling is due in November
    late = s.register(location_unit="town1.v1")
    s.office.do("assign", late, actor="reception1", unit="town1", person="handler1", mode="assign")
    s.office.clock.advance(days=20)
    s.office.service.record_missed_deadlines(late)  # acceptance, due 16 September
    q3, q4, year = s.figures("2026-Q3"), s.figures("2026-Q4"), s.figures("2026")
    assert (q3["deadlines_met"], q3["deadlines_missed"], q3["on_time_rate"]) == (3, 1, 0.75)
    assert (q4["deadlines_met"], q4["deadlines_missed"], q4["on_time_rate"]) == (1, 0, 1.0)
    assert (year["deadlines_met"], year["deadlines_missed"], year["on_time_rate"]) == (4, 1, 0.8)
    assert s.figures("2027")["on_time_rate"] is None  # no deadline fell due: no rate, not 0 %


def rated_scene(make_service: MakeService, tmp_path: Path) -> Scene:
    """Four served cases rated satisfied, satisfied, basically satisfied and dissatisfied; one closed,
    one escalated, one supervised; one carrying a repeat warning on the board."""
    s = scene(make_service, tmp_path)
    cases = [s.served(channel=channel) for channel in ("letter", "letter", "visit", "online")]
    for pid, rating in zip(cases, ("satisfied", "satisfied", "basically_satisfied", "dissatisfied"),
                           strict=True):
        s.office.do("rate", pid, satisfaction=rating)
    s.office.do("close_case", cases[0], reason="满意")
    s.office.do("escalate", cases[3], to_unit="county", reason="重大")
    s.office.do("supervise", cases[3], actor="leader1", level="yellow", reason="催办", by_unit="county")
    s.projector.catch_up()
    # What the board projection writes when the repeat rule fires on a case.
    s.projector.projection.view.write(None, [(RAISE, {
        "petition_id": str(cases[1]), "case_number": "XF-2026-000002", "rule": "repeat",
        "level": "yellow", "detail": "same petitioner again", "responsible_unit": "town1",
        "responsible_person": "handler1", "unit_path": "/county/town1/",
        "at": datetime.now(CST).isoformat(), "version": 2})])
    return s


def test_satisfaction_repeat_closures_escalations_and_supervisions_are_counted(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Three of four ratings satisfied or basically satisfied: 75 %; one case of four repeats: 25 %."""
    q3 = rated_scene(make_service, tmp_path).figures("2026-Q3")
    assert (q3["ratings"], q3["satisfied"], q3["basically_satisfied"], q3["dissatisfied"]) == (4, 2, 1, 1)
    assert q3["satisfaction_rate"] == 0.75
    assert (q3["repeat_cases"], q3["repeat_rate"]) == (1, 0.25)
    assert (q3["closed"], q3["escalations"], q3["supervisions"]) == (1, 1, 1)
    assert counts(q3["by_status"]) == {"served": 3, "closed": 1}


def sheet_figures(data: bytes) -> dict[str, dict[str, Any]]:
    """Section heading → {code: value} as a reader finds them in the spreadsheet."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    found: dict[str, dict[str, Any]] = {}
    section = ""
    for name, code, value, *_ in sheet.iter_rows(min_row=2, max_col=4, values_only=True):
        if name and code is None:
            section = str(name)
        elif code not in (None, "代码 Code"):
            found.setdefault(section, {})[str(code)] = value
    return found


def test_the_spreadsheet_and_the_csv_hold_the_same_numbers_as_the_json(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """The .xlsx opens with openpyxl, names the period and unit in its title, and holds every figure;
    the CSV starts with a BOM and parses back to the same figures."""
    q3 = rated_scene(make_service, tmp_path).figures("2026-Q3")
    data = to_xlsx(q3)
    title = load_workbook(io.BytesIO(data)).active["A1"].value
    assert "2026-Q3" in title and "县 (county)" in title
    sheet = sheet_figures(data)
    overview = sheet["概况 Overview"]
    assert {k: overview[k] for k in ("received", "deadlines_met", "on_time_rate", "satisfaction_rate",
                                     "repeat_rate", "closed")} == \
        {k: q3[k] for k in ("received", "deadlines_met", "on_time_rate", "satisfaction_rate",
                            "repeat_rate", "closed")}
    channel = sheet["按信访形式 By channel"]
    assert {k: v for k, v in channel.items() if k != "total"} == counts(q3["by_channel"])
    assert channel["total"] == q3["received"] == sum(sheet["按办理状态 By status"].values()) / 2
    raw = to_csv(q3)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by = {(r["section"], r["key"]): r["value"] for r in rows}
    assert by[("report", "period")] == "2026-Q3" and by[("report", "unit")] == "county"
    assert int(by[("overview", "received")]) == q3["received"]
    assert float(by[("overview", "satisfaction_rate")].rstrip("%")) / 100 == q3["satisfaction_rate"]
    assert {k: int(v) for (section, k), v in by.items() if section == "area"} == counts(q3["by_area"])


def test_a_category_that_looks_like_a_formula_is_exported_as_text(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A category typed as =HYPERLINK(...) stays text: the CSV puts an apostrophe before it, the
    spreadsheet stores a text cell, not a formula; the counts stay numbers."""
    s = scene(make_service, tmp_path)
    formula = '=HYPERLINK("http://x","y")'
    for category in (formula, formula, "@SUM(A1)", "land"):
        s.register(location_unit="town1.v1", category=category)
    q3 = s.figures("2026-Q3")
    rows = list(csv.reader(io.StringIO(to_csv(q3).decode("utf-8-sig"))))
    by_category = {r[1]: r for r in rows if r[0] == "category"}
    assert set(by_category) == {"'" + formula, "'@SUM(A1)", "land"}
    assert by_category["'" + formula] == ["category", "'" + formula, "'" + formula, "2"]
    sheet = load_workbook(io.BytesIO(to_xlsx(q3))).active
    assert sheet is not None
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=2, max_col=4)
             if row[1].value in (formula, "@SUM(A1)", "land")}
    assert set(cells) == {formula, "@SUM(A1)", "land"}
    for name, code, count, share in cells.values():
        assert name.data_type == code.data_type == "s" and count.data_type == share.data_type == "n"
    assert cells[formula][0].value == formula and cells[formula][2].value == 2


def test_the_repeat_rate_counts_what_the_repeat_rule_raised(make_service: MakeService,
                                                           tmp_path: Path) -> None:
    """The same petitioner twice in 30 days (matched by the keyed hash the projection keeps) and a
    third person once: one repeat case of three, through the real rule, not a hand-written row."""
    clock = FakeClock()
    service = make_service(clock)
    directory = tree()
    views = build_views(views_env(service, tmp_path))
    projector = EmbeddedProjector(service, case_list_projection(
        views, service, directory, person_key=b"k" * 32))
    s = Scene(Office(service, clock), projector, directory)
    same = {"name": "王五", "id_number": make_id_number("11010519600101001")}
    s.office.register(petitioners=[same], location_unit="town1.v1")
    clock.advance(days=10)
    s.office.register(petitioners=[same], location_unit="town1.v1")
    s.register(location_unit="town2.v1")
    q3 = s.figures("2026-Q3")
    assert q3["received"] == 3
    assert (q3["repeat_cases"], q3["repeat_rate"]) == (1, 0.3333)  # rates are kept to 4 places
