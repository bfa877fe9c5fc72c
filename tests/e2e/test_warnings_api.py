"""GET /api/v1/warnings a page at a time over real HTTP: the body stays a list of warnings, and the
X-Next-Cursor header says more stand and where the next page starts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.e2e.conftest import Running

PATH = "/api/v1/warnings"


def test_a_leader_pages_through_the_board_and_gets_it_whole(api: Running) -> None:
    """Three urgent cases: pages of one, followed by their cursors, hold the board read whole as of
    the same moment; the last page has no cursor; a whole read has none either."""
    for i in range(3):
        api.register(urgent=True, summary=f"紧急 {i}", category=f"paging-{i}")
    leader = api.headers("leader_county")
    moment = datetime.now(UTC).isoformat()
    whole = api.client.get(PATH, params={"as_of": moment}, headers=leader)
    assert whole.status_code == 200 and "X-Next-Cursor" not in whole.headers
    assert len(whole.json()) >= 3
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"as_of": moment, "limit": 1}
    while True:
        page = api.client.get(PATH, params=params, headers=leader)
        assert page.status_code == 200, page.text
        assert len(page.json()) == 1
        seen += page.json()
        if "X-Next-Cursor" not in page.headers:
            break
        params = {"limit": 1, "cursor": page.headers["X-Next-Cursor"]}
    assert seen == whole.json()


def test_a_bad_cursor_or_limit_is_refused_naming_it(api: Running) -> None:
    """422 naming cursor for a cursor the board never gave out, and limit for 0 or 501."""
    leader = api.headers("leader_county")
    bad = api.client.get(PATH, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=leader)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("cursor"), bad.text
    for limit in (0, 501):
        answer = api.client.get(PATH, params={"limit": limit}, headers=leader)
        assert answer.status_code == 422 and "limit" in answer.json()["detail"], answer.text
