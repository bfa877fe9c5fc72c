"""GET /api/v1/petitions: the list view over real HTTP."""

from __future__ import annotations

from tests.e2e.conftest import Running


def test_a_registration_is_listed_at_once_and_filters_apply(api: Running) -> None:
    """Read-your-writes: the case just registered is in the list; status and text filters narrow it."""
    body = api.register(summary="独一无二的列表测试")
    listed = api.client.get("/api/v1/petitions", params={"q": "独一无二的列表测试"},
                            headers=api.headers("reception_county")).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert listed["items"][0]["status"] == "registered" and listed["next_cursor"] is None
    accept = api.act(body["id"], "decline", "reception_county", reason="不属于信访事项")
    assert accept.status_code == 200
    declined = api.client.get("/api/v1/petitions", params={"status": "declined", "limit": 200},
                              headers=api.headers("auditor_county")).json()
    assert body["id"] in {item["id"] for item in declined["items"]}


def test_pages_follow_the_cursor_without_repeats(api: Running) -> None:
    """Keyset pages of two cover the list with no case twice."""
    for _ in range(5):
        api.register(summary="分页测试")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"q": "分页测试", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/petitions", params=params,
                              headers=api.headers("leader_county")).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_a_bad_cursor_or_filter_is_refused_naming_it(api: Running) -> None:
    """A forged cursor and an unknown status answer 422 naming the parameter."""
    bad = api.client.get("/api/v1/petitions", params={"cursor": "not-a-cursor"},
                         headers=api.headers("leader_county"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("cursor")
    wrong = api.client.get("/api/v1/petitions", params={"status": "lost"},
                           headers=api.headers("leader_county"))
    assert wrong.status_code == 422 and "status" in wrong.json()["detail"]
