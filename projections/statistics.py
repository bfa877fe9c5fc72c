"""Quarterly and year-end summaries (季度、年度统计): SELECTs on the case list, the facts and the board.

Which cases count: those received in the period (by the office's calendar) whose responsible or
location unit lies in the subtree, the same rule as the case list. What the office did in the
period (deadlines, ratings, closures, escalations, supervisions) comes from the responsibility
facts, charged to the unit responsible when it happened; deadlines count by their due date.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from domain.errors import InvalidField
from domain.intake import CHANNELS
from projections.store import Views
from projections.subtree import below, within

CHANNEL_NAMES = {"letter": "来信", "visit": "来访", "phone": "电话", "online": "网上", "email": "电子邮件"}
STATUS_NAMES = {
    "registered": "已登记", "forwarded": "已转送", "assigned": "已交办", "accepted": "已受理",
    "replied": "已答复", "served": "已送达", "review_requested": "申请复查", "review_decided": "已复查",
    "rereview_requested": "申请复核", "redirected": "已告知", "declined": "不予受理", "closed": "已办结",
    "final": "已终结",
}
GROUP_HEADCOUNT = 5  # a group petition (集体访): five or more people
FACT_KINDS = ("due_met", "due_missed", "satisfied", "basically_satisfied", "dissatisfied", "closed",
              "escalated", "supervised")
_PERIOD = re.compile(r"([0-9]{4})(?:-Q([1-4]))?")

RECEIVED = (
    "SELECT c.channel, c.category, c.status, c.location_path, COUNT(*) AS n,"
    " SUM(c.headcount) AS persons,"
    " SUM(CASE WHEN c.headcount >= %(group)s THEN 1 ELSE 0 END) AS group_cases,"
    " SUM(CASE WHEN EXISTS (SELECT 1 FROM {s}warning_board w WHERE w.petition_id = c.id"
    " AND w.rule = 'repeat') THEN 1 ELSE 0 END) AS repeat_cases"
    " FROM {s}case_list c"
    f" WHERE ({within('c.responsible_path', 'within')} OR {within('c.location_path', 'within')})"
    " AND c.received_at >= %(start)s AND c.received_at < %(stop)s"
    " GROUP BY c.channel, c.category, c.status, c.location_path"
)
FACTS = (
    "SELECT kind, COUNT(*) AS n FROM {s}responsibility_facts"
    f" WHERE {within('unit_path', 'within')} AND day >= %(first)s AND day <= %(last)s"
    f" AND kind IN ({', '.join(repr(k) for k in FACT_KINDS)}) GROUP BY kind"
)


@dataclass(frozen=True)
class Period:
    """A quarter (2026-Q3) or a year (2026): office dates, both ends included."""

    label: str
    first: date
    last: date

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period a text names, or an error naming `period`."""
        found = _PERIOD.fullmatch(text)
        if found is None or not 1900 <= int(found[1]) <= 2999:
            raise InvalidField("period", "must be a year like 2026 or a quarter like 2026-Q3")
        year = int(found[1])
        if found[2] is None:
            return cls(str(year), date(year, 1, 1), date(year, 12, 31))
        quarter = int(found[2])
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(f"{year}-Q{quarter}", date(year, 3 * quarter - 2, 1), after - timedelta(days=1))

    def instants(self, tz: tzinfo) -> tuple[str, str]:
        """Its first moment and the first moment after it, in UTC as the case list writes them."""
        def utc(day: date) -> str:
            moment = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
            return moment.isoformat(timespec="microseconds")

        return utc(self.first), utc(self.last + timedelta(days=1))


def area_of(location_path: str) -> str:
    """The township a location lies in: the second unit of its path (the county's own cases: the county)."""
    parts = location_path.strip("/").split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places, or None when there is nothing to share."""
    return round(part / whole, 4) if whole else None


def breakdown(counts: Counter[str], names: Callable[[str], str],
              keep: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of key, name and count: the keys in `keep` first (zeros too), then the rest by count."""
    rest = sorted((k for k in counts if k not in keep), key=lambda k: (-counts[k], k))
    return [{"key": k, "name": names(k), "count": counts[k]} for k in (*keep, *rest)]


def summary(views: Views, within_path: str, period: Period, tz: tzinfo, unit: str,
            unit_name: Callable[[str], str] = str) -> dict[str, Any]:
    """The figures an office reports for the period within a unit's subtree."""
    start, stop = period.instants(tz)
    pattern = below(within_path)
    rows = views.query(RECEIVED, {"within": pattern, "start": start, "stop": stop, "group": GROUP_HEADCOUNT})
    channel, category, area, status = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    persons = group_cases = repeat_cases = 0
    for r in rows:
        n = int(r["n"])
        channel[r["channel"]] += n
        category[r["category"]] += n
        area[area_of(r["location_path"])] += n
        status[r["status"]] += n
        persons += int(r["persons"])
        group_cases += int(r["group_cases"])
        repeat_cases += int(r["repeat_cases"])
    facts = dict.fromkeys(FACT_KINDS, 0)
    for r in views.query(FACTS, {"within": pattern, "first": period.first.isoformat(),
                                 "last": period.last.isoformat()}):
        facts[r["kind"]] = int(r["n"])
    received = sum(channel.values())
    met, missed = facts["due_met"], facts["due_missed"]
    ratings = facts["satisfied"] + facts["basically_satisfied"] + facts["dissatisfied"]
    return {
        "period": period.label, "from": period.first, "to": period.last,
        "unit": unit, "unit_name": unit_name(unit),
        "received": received, "persons": persons, "group_petitions": group_cases,
        "closed": facts["closed"], "escalations": facts["escalated"], "supervisions": facts["supervised"],
        "deadlines_met": met, "deadlines_missed": missed, "on_time_rate": rate(met, met + missed),
        "ratings": ratings, "satisfied": facts["satisfied"],
        "basically_satisfied": facts["basically_satisfied"], "dissatisfied": facts["dissatisfied"],
        "satisfaction_rate": rate(facts["satisfied"] + facts["basically_satisfied"], ratings),
        "repeat_cases": repeat_cases, "repeat_rate": rate(repeat_cases, received),
        "by_channel": breakdown(channel, lambda k: CHANNEL_NAMES.get(k, k), CHANNELS),
        "by_category": breakdown(category, str),
        "by_area": breakdown(area, unit_name),
        "by_status": breakdown(status, lambda k: STATUS_NAMES.get(k, k),
                               tuple(k for k in STATUS_NAMES if k in status)),
    }
