"""The cross-case rules' rows in the view tables: what they read (ViewSource), what they write.

Each read is bounded by an index and by the rule's window or by the hotspots of one area and
category that may still stand, not by the size of the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.hotspots import COLUMNS, Hotspot
from projections.store import Views
from projections.subtree import below, within

NAMES = ("petition_id", "case_number", "rule", "level", "detail", "responsible_unit",
         "responsible_person", "unit_path", "raised_at", "cleared_at", "raised_version")
ADD_ROW = (f"INSERT INTO {{s}}warning_board {COLUMNS} VALUES ("
           + ", ".join(f"%({n})s" for n in NAMES) + ") ON CONFLICT DO NOTHING")
CLEAR_ROW = ("UPDATE {s}warning_board SET cleared_at = %(at)s WHERE petition_id = %(petition_id)s"
             " AND rule = 'hotspot' AND level = 'orange' AND raised_version = %(raised_version)s"
             " AND cleared_at > %(at)s")
ADD_MEMBER = ("INSERT INTO {s}hotspot_members VALUES (%(area)s, %(category)s, %(cluster)s,"
              " %(petition_id)s, %(case_number)s, %(received_on)s) ON CONFLICT DO NOTHING")
NEW_HOTSPOT = ("INSERT INTO {s}hotspots VALUES (%(area)s, %(category)s, %(pid)s, %(version)s,"
               " %(last_day)s) ON CONFLICT DO NOTHING")
MOVE_HOTSPOT = ("UPDATE {s}hotspots SET raised_version = %(version)s, last_day = %(last_day)s"
                " WHERE area = %(area)s AND category = %(category)s AND petition_id = %(pid)s")
ADD_PERSON = ("INSERT INTO {s}petitioner_index VALUES (%(person)s, %(received_at)s, %(petition_id)s,"
              " %(case_number)s) ON CONFLICT DO NOTHING")


def row_params(row: list[Any]) -> dict[str, Any]:
    """A board row (cross_case's list) as ADD_ROW's parameters."""
    return dict(zip(NAMES, row, strict=False))


class ViewSource:
    """The committed rows of the view tables, for the rules deciding one batch of events.

    `since`: the earliest record time in the batch; a hotspot whose board row ended by then cannot
    stand for any of the batch's petitions."""

    def __init__(self, views: Views, path: Callable[[str], str], since: str) -> None:
        self.views, self.path, self.since = views, path, since

    def area(self, area: str, category: str, low: str, high: str) -> list[tuple[str, str, str]]:
        """The cases of a category located in an area, received from `low` to `high`."""
        rows = self.views.query(
            "SELECT received_on, id, case_number FROM {s}case_list WHERE category = %(category)s"
            f" AND received_on >= %(low)s AND received_on <= %(high)s AND {within('location_path', 'area')}",
            {"category": category, "low": low, "high": high, "area": below(self.path(area))})
        return [(r["received_on"], r["id"], r["case_number"]) for r in rows]

    def hotspots(self, area: str,
                 category: str) -> list[tuple[Hotspot, list[Any], dict[str, tuple[str, str]]]]:
        """The hotspots of the area and category whose board row stands after `since`, each with
        that row and its members."""
        rows = self.views.query(
            "SELECT h.last_day, " + ", ".join(f"w.{n}" for n in NAMES) + " FROM {s}hotspots h"
            " JOIN {s}warning_board w ON w.petition_id = h.petition_id AND w.rule = 'hotspot'"
            " AND w.level = 'orange' AND w.raised_version = h.raised_version"
            " WHERE h.area = %(area)s AND h.category = %(category)s AND w.cleared_at > %(since)s",
            {"area": area, "category": category, "since": self.since})
        found = []
        for r in rows:
            members = self.views.query(
                "SELECT petition_id, case_number, received_on FROM {s}hotspot_members"
                " WHERE area = %(area)s AND category = %(category)s AND cluster = %(cluster)s",
                {"area": area, "category": category, "cluster": r["petition_id"]})
            hotspot = Hotspot(area, category, r["petition_id"], int(r["raised_version"]), r["last_day"])
            row = [r[n] for n in NAMES]
            row[-1] = int(row[-1])
            found.append((hotspot, [*row, "warning_board"],
                          {m["petition_id"]: (m["case_number"], m["received_on"]) for m in members}))
        return found

    def people(self, person: str, start: str, end: str) -> list[tuple[str, str, str]]:
        """The petitions of a person (keyed hash) received from `start` to `end`."""
        rows = self.views.query(
            "SELECT received_at, petition_id, case_number FROM {s}petitioner_index"
            " WHERE person = %(person)s AND received_at >= %(start)s AND received_at <= %(end)s",
            {"person": person, "start": start, "end": end})
        return [(r["received_at"], r["petition_id"], r["case_number"]) for r in rows]

    def case(self, pid: str) -> tuple[str, str] | None:
        """A case's status and number, as its list row has them."""
        rows = self.views.query("SELECT status, case_number FROM {s}case_list WHERE id = %(id)s",
                                {"id": pid})
        return (rows[0]["status"], rows[0]["case_number"]) if rows else None
