"""GET /api/v1/statistics over real HTTP: JSON, CSV and a spreadsheet with the same figures."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.e2e.conftest import Running

# A quarter the other tests of the session do not register in (they receive cases "now").
PERIOD = "2026-Q3"
RECEIVED_AT = "2026-08-10T10:00:00+08:00"


def read(api: Running, user: str = "leader_county", **params: str) -> Any:
    """The route's answer for the period, as the given user."""
    return api.client.get("/api/v1/statistics", params={"period": PERIOD, **params},
                          headers=api.headers(user))


def by_key(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["key"]: r["count"] for r in rows}


def test_a_leader_downloads_the_quarter_as_json_csv_and_xlsx_with_the_same_numbers(api: Running) -> None:
    """Two letters and a call received in the quarter show in every format, with a download name."""
    before = read(api).json()
    for channel in ("letter", "letter", "phone"):
        api.register(channel=channel, received_at=RECEIVED_AT, location_unit="town2.v1")
    answer = read(api)
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["received"] - before["received"] == 3
    assert by_key(after["by_channel"])["letter"] - by_key(before["by_channel"])["letter"] == 2
    assert by_key(after["by_channel"])["phone"] - by_key(before["by_channel"])["phone"] == 1
    assert (after["from"], after["to"], after["unit"]) == ("2026-07-01", "2026-09-30", "county")

    as_csv = read(api, format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"] == 'attachment; filename="statistics-county-2026-Q3.csv"'
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = {(r["section"], r["key"]): r["value"]
            for r in csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")))}
    assert int(rows[("overview", "received")]) == after["received"]
    assert int(rows[("channel", "letter")]) == by_key(after["by_channel"])["letter"]

    as_xlsx = read(api, "auditor_county", format="xlsx")
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "statistics-county-2026-Q3.xlsx" in as_xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    figures = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, max_col=3, values_only=True)}
    assert figures["received"] == after["received"]
    assert figures["letter"] == by_key(after["by_channel"])["letter"]


def test_a_township_sees_its_own_cases_and_may_not_read_another_township(api: Running) -> None:
    """town2's leader reads town2's figures; asking for town1 is refused by jurisdiction."""
    before = read(api, "leader_town2").json()
    api.register(channel="online", received_at=RECEIVED_AT, location_unit="town2.v1")
    after = read(api, "leader_town2").json()
    assert after["received"] - before["received"] == 1 and after["unit"] == "town2"
    assert set(by_key(after["by_area"])) == {"town2"}
    assert read(api, "leader_town2", unit="town1").status_code == 403


def test_a_bad_period_or_format_is_refused_naming_the_parameter(api: Running) -> None:
    """2026-Q5, a missing period and format=pdf answer 422 with the parameter's name."""
    bad = read(api, period="2026-Q5")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("period")
    missing = api.client.get("/api/v1/statistics", headers=api.headers("leader_county"))
    assert missing.status_code == 422 and "period" in missing.json()["detail"]
    wrong = read(api, format="pdf")
    assert wrong.status_code == 422 and "format" in wrong.json()["detail"]
    unknown = read(api, unit="nowhere")
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("unit")
