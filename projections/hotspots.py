"""The hotspot rule (热点): petitions of one category in one village or township within a few days.

A hotspot stands for an area and a category. It is raised when a window of `hotspot_days` days
holding the new petition's receipt day holds `hotspot_count` petitions of the area and category.
It stands until `hotspot_days` after the last petition joined it (record time). While it stands, a
new petition joins it when received within `hotspot_days` of one of its petitions, or when it
completes such a window (the window's petitions join with it).

The board keeps each state of a hotspot as a row of its own: a join clears the row standing then at
the join's record time and raises one naming the petitions joined so far, with the new planned end.
No row is otherwise changed, so the board as of a past moment shows the hotspot as it stood then,
and a petition registered after a hotspot ended never reopens it (it may raise a new one).

All of it is SQL run in the write transaction in event order (a batch sees its own earlier rows);
each statement is bounded by the window and the cluster, not by the history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from projections.store import Statement, stamp
from projections.subtree import below, within

DDL = (
    # One row per hotspot: the petition that raised it, the raised_version of its board row
    # standing now, and the receipt day of its latest petition.
    "CREATE TABLE IF NOT EXISTS {s}hotspots ("
    " area TEXT NOT NULL, category TEXT NOT NULL, petition_id TEXT NOT NULL,"
    " raised_version INTEGER NOT NULL, last_day TEXT NOT NULL,"
    " PRIMARY KEY (area, category, petition_id, raised_version))",
    "CREATE INDEX IF NOT EXISTS hotspots_last_day ON {s}hotspots (area, category, last_day)",
    # The petitions that joined each hotspot (`cluster`: the petition that raised it).
    "CREATE TABLE IF NOT EXISTS {s}hotspot_members ("
    " area TEXT NOT NULL, category TEXT NOT NULL, cluster TEXT NOT NULL, petition_id TEXT NOT NULL,"
    " case_number TEXT NOT NULL, received_on TEXT NOT NULL,"
    " PRIMARY KEY (area, category, cluster, petition_id))",
    "CREATE INDEX IF NOT EXISTS hotspot_members_day ON {s}hotspot_members"
    " (area, category, cluster, received_on)",
    "CREATE INDEX IF NOT EXISTS case_list_category_day ON {s}case_list (category, received_on)",
)
TABLES = ("hotspots", "hotspot_members")
COLUMNS = ("(petition_id, case_number, rule, level, detail, responsible_unit, responsible_person,"
           " unit_path, raised_at, cleared_at, raised_version)")
LISTED = 5  # case numbers named in a detail; the rest are counted


def listed(select: str) -> str:
    """SQL text naming the first few values of a one-column SELECT, then '(+N more)', on both engines."""
    first = [f"(SELECT x FROM ({select}) AS e ORDER BY x LIMIT 1 OFFSET {i})" for i in range(LISTED)]
    named = first[0] + "".join(f" || COALESCE(', ' || {part}, '')" for part in first[1:])
    more = f"(SELECT COUNT(*) FROM ({select}) AS e)"
    return f"{named} || CASE WHEN {more} > {LISTED} THEN ' (+' || ({more} - {LISTED}) || ' more)' ELSE '' END"


def standing_in(area: str) -> str:
    """SQL: the hotspot of the area parameter `area` and the category whose board row stands at `at`."""
    return (f"SELECT h.petition_id, h.raised_version FROM {{s}}hotspots h WHERE h.area = %({area})s"
            " AND h.category = %(category)s AND EXISTS (SELECT 1 FROM {s}warning_board w"
            " WHERE w.petition_id = h.petition_id AND w.rule = 'hotspot' AND w.level = 'orange'"
            " AND w.raised_version = h.raised_version AND w.cleared_at > %(at)s)")


STANDING = standing_in("area")
IN_AREA = ("FROM {s}case_list c WHERE c.category = %(category)s AND "
           + within("c.location_path", "area_like"))


def member(cluster: str) -> str:
    """SQL: a petition of the hotspot raised by `cluster` (SQL text), as `m`."""
    return ("SELECT 1 FROM {s}hotspot_members m WHERE m.area = %(area)s AND m.category = %(category)s"
            " AND m.cluster = " + cluster)


# The hotspot the new petition joined (not one it raised): at most one per area.
JOINED = ("FROM {s}hotspots h WHERE h.area = %(area)s AND h.category = %(category)s"
          " AND h.petition_id <> %(petition_id)s AND EXISTS ("
          + member("h.petition_id") + " AND m.petition_id = %(petition_id)s)")


def detail(cluster: str) -> str:
    """SQL text of a hotspot row's detail: how many petitions joined, and their case numbers."""
    members = ("SELECT case_number AS x FROM {s}hotspot_members WHERE area = %(area)s"
               " AND category = %(category)s AND cluster = " + cluster)
    return ("(SELECT COUNT(*) FROM (" + members + ") AS e) || ' petitions on ' || %(category)s"
            " || ' in ' || %(area)s || ' within ' || %(days)s || ' days: ' || " + listed(members))


def windows(day: date, days: int) -> list[tuple[date, date]]:
    """Every window of `days` days holding the new petition's receipt day, earlier and later ones
    alike: a letter received first but registered last completes a window as much as any other."""
    return [(day + timedelta(days=k - days + 1), day + timedelta(days=k)) for k in range(days)]


def statements(count_of_windows: int, township: bool) -> list[str]:
    """Join the standing hotspot (a new row, the old one cleared) or raise one."""
    spans = " UNION ALL ".join(f"SELECT %(w{i}a)s AS a, %(w{i}b)s AS b" for i in range(count_of_windows))
    full = ("FROM (" + spans + ") AS w WHERE (SELECT COUNT(*) " + IN_AREA
            + " AND c.received_on >= w.a AND c.received_on <= w.b) >= %(count)s")
    # A township hotspot is not raised while the petition's village has one of its own.
    own_village = (" AND (EXISTS (" + STANDING + ") OR NOT EXISTS (" + standing_in("first_area") + "))"
                   if township else "")
    joined_row = "(SELECT h.petition_id, h.raised_version " + JOINED + ") AS h"
    return [
        # The petitions of the windows that hold enough join the standing hotspot, or make a new one.
        "INSERT INTO {s}hotspot_members SELECT %(area)s, %(category)s,"
        " COALESCE((SELECT o.petition_id FROM (" + STANDING + ") AS o LIMIT 1), %(petition_id)s),"
        " c.id, c.case_number, c.received_on " + IN_AREA + " AND c.received_on >= (SELECT MIN(w.a) "
        + full + ") AND c.received_on <= (SELECT MAX(w.b) " + full + ")" + own_village
        + " ON CONFLICT DO NOTHING",
        # The new petition joins the standing hotspot when received near one of its petitions.
        "INSERT INTO {s}hotspot_members SELECT %(area)s, %(category)s, o.petition_id, %(petition_id)s,"
        " %(case_number)s, %(day)s FROM (" + STANDING + ") AS o WHERE EXISTS (" + member("o.petition_id")
        + " AND m.received_on >= %(reach_from)s AND m.received_on <= %(reach_to)s) ON CONFLICT DO NOTHING",
        # A new hotspot, raised by this petition, and its first row.
        "INSERT INTO {s}hotspots SELECT %(area)s, %(category)s, %(petition_id)s, %(version)s,"
        " (SELECT MAX(received_on) FROM {s}hotspot_members WHERE area = %(area)s"
        " AND category = %(category)s AND cluster = %(petition_id)s) WHERE NOT EXISTS (" + STANDING
        + ") AND EXISTS (" + member("%(petition_id)s") + ") ON CONFLICT DO NOTHING",
        "INSERT INTO {s}warning_board " + COLUMNS + " SELECT %(petition_id)s, %(case_number)s, 'hotspot',"
        " 'orange', " + detail("%(petition_id)s") + ", %(responsible_unit)s, %(responsible_person)s,"
        " %(area_path)s, %(at)s, %(until)s, %(version)s FROM {s}hotspots WHERE area = %(area)s"
        " AND category = %(category)s AND petition_id = %(petition_id)s AND raised_version = %(version)s"
        " ON CONFLICT DO NOTHING",
        # A join: the hotspot's next row, as the standing one but naming the petitions joined so far,
        # raised now and planned to end `hotspot_days` from now ...
        "INSERT INTO {s}warning_board " + COLUMNS + " SELECT w.petition_id, w.case_number, 'hotspot',"
        " 'orange', " + detail("h.petition_id") + ", w.responsible_unit, w.responsible_person,"
        " w.unit_path, %(at)s, %(until)s, w.raised_version + 1 FROM {s}warning_board w, " + joined_row
        + " WHERE w.petition_id = h.petition_id AND w.rule = 'hotspot' AND w.level = 'orange'"
        " AND w.raised_version = h.raised_version AND w.cleared_at > %(at)s ON CONFLICT DO NOTHING",
        # ... the standing row cleared at the join's record time (its only change) ...
        "UPDATE {s}warning_board SET cleared_at = %(at)s WHERE petition_id = (SELECT h.petition_id "
        + JOINED + ") AND rule = 'hotspot' AND level = 'orange' AND raised_version = (SELECT"
        " h.raised_version " + JOINED + ") AND cleared_at > %(at)s",
        # ... and the hotspot pointing at its new row.
        "UPDATE {s}hotspots SET raised_version = raised_version + 1, last_day = (SELECT"
        " MAX(m.received_on) FROM {s}hotspot_members m WHERE m.area = {s}hotspots.area"
        " AND m.category = {s}hotspots.category AND m.cluster = {s}hotspots.petition_id)"
        " WHERE area = %(area)s AND category = %(category)s AND petition_id <> %(petition_id)s"
        " AND EXISTS (" + member("{s}hotspots.petition_id") + " AND m.petition_id = %(petition_id)s)",
    ]


def hotspot_statements(areas: list[str], path: Any, category: str, day: date, days: int, count: int,
                       at: datetime, who: dict[str, Any]) -> list[Statement]:
    """What a new petition (received on `day`, recorded at `at`) does to the hotspots of its areas."""
    spans = windows(day, days)
    reach = days - 1
    found: list[Statement] = []
    for i, area in enumerate(areas):
        params = {**who, "area": area, "area_path": path(area), "area_like": below(path(area)),
                  "category": category, "count": count, "days": days, "first_area": areas[0],
                  "until": stamp((at + timedelta(days=days)).astimezone(UTC)),
                  "day": day.isoformat(), "reach_from": (day - timedelta(days=reach)).isoformat(),
                  "reach_to": (day + timedelta(days=reach)).isoformat(),
                  **{f"w{k}a": a.isoformat() for k, (a, _) in enumerate(spans)},
                  **{f"w{k}b": b.isoformat() for k, (_, b) in enumerate(spans)}}
        found += [(sql, params) for sql in statements(len(spans), township=i > 0)]
    return found
