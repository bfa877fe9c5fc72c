"""GET/PUT /api/v1/warning-rules over real HTTP, and the board before and after a change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import Running

PATH = "/api/v1/warning-rules"


@pytest.fixture
def defaults_after(api: Running) -> Iterator[dict[str, Any]]:
    """The settings as found; put back afterwards (the server is shared by the session)."""
    found: dict[str, Any] = api.client.get(PATH, headers=api.headers("admin_county")).json()
    yield found
    assert api.client.put(PATH, json=found, headers=api.headers("admin_county")).status_code == 200


def last_event(api: Running) -> int:
    """The store's last notification id."""
    return int(api.client.get("/healthz").json()["last_event"])


def test_an_admin_changes_the_rules_once_per_idempotency_key(api: Running,
                                                              defaults_after: dict[str, Any]) -> None:
    """A keyed PUT is recorded once; its retry answers the same settings and records nothing."""
    body = {"repeat_days": 20, "hotspot_count": 4}
    headers = api.headers("admin_county", **{"Idempotency-Key": "rules-change-1"})
    first = api.client.put(PATH, json=body, headers=headers)
    assert first.status_code == 200 and first.headers["X-Notification-Id"]
    assert (first.json()["repeat_days"], first.json()["group_orange"]) == (20, 5)  # the rest: defaults
    recorded = last_event(api)
    retry = api.client.put(PATH, json=body, headers=headers)
    assert retry.status_code == 200 and retry.json() == first.json()
    assert last_event(api) == recorded
    reused = api.client.put(PATH, json={"repeat_days": 21}, headers=headers)
    assert reused.status_code == 422 and reused.json()["detail"].startswith("Idempotency-Key")
    read = api.client.get(PATH, headers=api.headers("auditor_town1")).json()
    assert read == first.json()


@pytest.mark.parametrize("body, field", [
    ({"repeat_days": 0}, "repeat_days"),
    ({"repeat_days": "soon"}, "repeat_days"),
    ({"due_soon_share": 2}, "due_soon_share"),
    ({"group_orange": 60, "group_red": 50}, "group_red"),
    ({"sensitive_periods": [{"name": "国庆", "start": "2026-10-07", "end": "2026-10-01"}]},
     "sensitive_periods[0].end"),
    ({"sensitive_periods": [{"name": "国庆", "start": "October", "end": "2026-10-07"}]},
     "sensitive_periods[0].start"),
    ({"hotspot_size": 3}, "hotspot_size"),
])
def test_bad_settings_are_refused_naming_the_field(api: Running, body: dict[str, Any], field: str) -> None:
    """422 with the field first in the message, and nothing recorded."""
    before = last_event(api)
    answer = api.client.put(PATH, json=body, headers=api.headers("admin_county"))
    assert answer.status_code == 422 and answer.json()["detail"].startswith(field), answer.text
    assert last_event(api) == before


def test_the_board_as_of_before_a_sensitive_period_was_set_is_as_it_was(
        api: Running, defaults_after: dict[str, Any]) -> None:
    """A key person's open case shows as sensitive_period once a period covering today is set; the
    board as of a moment before the change does not show it; the rules as of then are the old ones."""
    case = api.register(key_person=True, summary="重点人员测试")
    board = {"rule": "sensitive_period"}
    leader = api.headers("leader_county")
    assert api.client.get("/api/v1/warnings", params=board, headers=leader).json() == []
    before = datetime.now(UTC)
    today = before.astimezone(ZoneInfo("Asia/Shanghai")).date()
    period = {"name": "两会", "start": (today - timedelta(days=1)).isoformat(),
              "end": (today + timedelta(days=1)).isoformat()}
    changed = api.client.put(PATH, json={"sensitive_periods": [period]}, headers=api.headers("admin_county"))
    assert changed.status_code == 200
    now = api.client.get("/api/v1/warnings", params=board, headers=leader).json()
    assert [(w["case_number"], w["level"]) for w in now] == [(case["case_number"], "yellow")]
    then = api.client.get("/api/v1/warnings", params={**board, "as_of": before.isoformat()},
                          headers=leader).json()
    assert then == []
    old = api.client.get(PATH, params={"as_of": before.isoformat()}, headers=leader).json()
    assert old["sensitive_periods"] == [] and changed.json()["sensitive_periods"] == [period]


def test_a_case_read_judges_its_warnings_by_the_rules_in_force_then(
        api: Running, defaults_after: dict[str, Any]) -> None:
    """After the admin lowers the group threshold to 3 and widens due soon to 20 days, the case read
    shows a group and a due-soon warning; read as of before the change, neither."""
    case = api.register(headcount=3, summary="规则测试")
    reader = api.headers("leader_county")
    url = f"/api/v1/petitions/{case['id']}"

    def rules_of(**params: str) -> set[tuple[str, str]]:
        answer = api.client.get(url, params=params, headers=reader)
        assert answer.status_code == 200, answer.text
        return {(w["rule"], w["level"]) for w in answer.json()["warnings"]}

    assert rules_of() == set()
    before = datetime.now(UTC)
    changed = api.client.put(PATH, json={"group_orange": 3, "group_red": 4, "due_soon_days": 20},
                             headers=api.headers("admin_county"))
    assert changed.status_code == 200, changed.text
    assert rules_of() == {("group", "orange"), ("due_soon", "yellow")}
    assert rules_of(as_of=before.isoformat()) == set()
