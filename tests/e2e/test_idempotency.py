"""Idempotency-Key on every POST, over real HTTP: a retry gets the first answer and records nothing.

Covered: registration, an action (notes), unit and user creation; a key reused for a different
body; keys belonging to one user; retries after a server restart; fifty retries at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from petitions.settings import Settings
from tests.e2e.conftest import Running, petition_body, start, stop

N = 50


def post(api: Running, path: str, user: str, key: str, body: dict[str, Any]) -> httpx.Response:
    """A POST with an Idempotency-Key."""
    return api.client.post(path, json=body, headers=api.headers(user, **{"Idempotency-Key": key}))


def last_event(api: Running) -> int:
    """The petition store's last notification id: it moves whenever anything is recorded."""
    return int(api.client.get("/healthz").json()["last_event"])


def history(api: Running, pid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.client.get(f"/api/v1/petitions/{pid}/history",
                                                 headers=api.headers("handler_county")).json()
    return found


def listing(api: Running, what: str) -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/v1/{what}", headers=api.headers("admin_county"))
    found: list[dict[str, Any]] = answer.json()
    return found


def without_code(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "access_code"}


def assert_key_reused(answer: httpx.Response) -> None:
    assert answer.status_code == 422 and answer.json()["code"] == "idempotency_key_reused", answer.text


def test_a_retried_registration_answers_the_same_case_and_records_nothing(api: Running) -> None:
    """The same key and body twice registers one case; the key with another body is refused with 422."""
    body = petition_body()
    first = post(api, "/api/v1/petitions", "reception_county", "reg-1", body)
    before = last_event(api)
    again = post(api, "/api/v1/petitions", "reception_county", "reg-1", body)
    assert first.status_code == again.status_code == 201
    assert without_code(again.json()) == without_code(first.json())
    other = {**body, "summary": "另一件"}
    assert_key_reused(post(api, "/api/v1/petitions", "reception_county", "reg-1", other))
    assert last_event(api) == before and len(history(api, first.json()["id"])) == 1


def test_a_retried_registration_returns_the_receipt_code_of_the_first_answer(api: Running) -> None:
    """A client whose first answer was lost still gets the petitioner's receipt code on the retry."""
    body = petition_body()
    first = post(api, "/api/v1/petitions", "reception_county", "reg-code", body)
    again = post(api, "/api/v1/petitions", "reception_county", "reg-code", body)
    assert first.json()["access_code"] and again.json() == first.json()


def test_a_retried_action_answers_the_first_version_even_after_the_case_moved_on(api: Running) -> None:
    """A retried note returns the first answer, records nothing, and refuses the key with another body."""
    pid = api.register()["id"]
    body = {"text": "第一次走访", "kind": "investigation"}
    first = post(api, f"/api/v1/petitions/{pid}/notes", "handler_county", "note-1", body)
    assert first.status_code == 200 and first.json()["version"] == 2
    assert api.act(pid, "notes", "leader_county", text="另一条", kind="other").status_code == 200
    before = history(api, pid)
    again = post(api, f"/api/v1/petitions/{pid}/notes", "handler_county", "note-1", body)
    assert again.status_code == 200 and again.json() == first.json()
    assert_key_reused(post(api, f"/api/v1/petitions/{pid}/notes", "handler_county", "note-1",
                           {**body, "text": "改过的"}))
    assert history(api, pid) == before and len(before) == 3


@pytest.mark.parametrize(("what", "body"), [
    ("units", lambda n: {"code": f"idem-{n}", "name": "新组", "level": "village", "parent": "town1"}),
    ("users", lambda n: {"username": f"idem-{n}", "password": "password-123", "role": "handler",
                         "unit": "town1"}),
])
def test_a_retried_creation_answers_the_same_and_adds_nothing(
        api: Running, what: str, body: Callable[[str], dict[str, Any]]) -> None:
    """A unit or user created with a key is created once; a retry answers the same; another body gets 422."""
    first = post(api, f"/api/v1/{what}", "admin_county", f"{what}-1", body("a"))
    before = listing(api, what)
    again = post(api, f"/api/v1/{what}", "admin_county", f"{what}-1", body("a"))
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert_key_reused(post(api, f"/api/v1/{what}", "admin_county", f"{what}-1", body("b")))
    assert listing(api, what) == before


def test_the_same_key_from_another_user_is_a_different_request(api: Running) -> None:
    """Keys belong to their user: another user sending the same key and body is carried out anew."""
    pid = api.register()["id"]
    body = {"text": "同一把钥匙", "kind": "other"}
    mine = post(api, f"/api/v1/petitions/{pid}/notes", "handler_county", "shared-key", body)
    theirs = post(api, f"/api/v1/petitions/{pid}/notes", "handler_town1", "shared-key", body)
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert [e["actor"] for e in history(api, pid) if e["type"] == "NoteAdded"] == [
        "handler_county", "handler_town1"]
    registration = petition_body()
    cases = {post(api, "/api/v1/petitions", user, "shared-reg", registration).json()["id"]
             for user in ("reception_county", "reception_town1")}
    assert len(cases) == 2


def test_retries_after_a_server_restart_still_answer_the_first_answer(tmp_path: Path) -> None:
    """Keys are kept in the store: after a restart every retry returns the first answer and adds nothing."""
    settings = Settings(data_dir=tmp_path / "data", progress_per_minute=1000)
    api, server, thread = start(settings)
    try:
        pid = api.register()["id"]
        requests = [
            ("/api/v1/petitions", "reception_county", petition_body()),
            (f"/api/v1/petitions/{pid}/notes", "handler_county", {"text": "重启前", "kind": "other"}),
            ("/api/v1/units", "admin_county", {"code": "restart-v", "name": "村", "level": "village",
                                               "parent": "town2"}),
            ("/api/v1/users", "admin_county", {"username": "restart-u", "password": "password-123",
                                               "role": "auditor", "unit": "town2"}),
        ]
        firsts = [post(api, path, user, f"restart-{i}", b) for i, (path, user, b) in enumerate(requests)]
        assert [a.status_code for a in firsts] == [201, 200, 201, 201]
        counts = (last_event(api), listing(api, "units"), listing(api, "users"))
    finally:
        stop(api, server, thread)
    api, server, thread = start(settings)
    try:
        agains = [post(api, path, user, f"restart-{i}", b) for i, (path, user, b) in enumerate(requests)]
        assert [a.status_code for a in agains] == [201, 200, 201, 201]
        assert without_code(agains[0].json()) == without_code(firsts[0].json())
        assert [a.json() for a in agains[1:]] == [a.json() for a in firsts[1:]]
        assert (last_event(api), listing(api, "units"), listing(api, "users")) == counts
    finally:
        stop(api, server, thread)


def all_at_once(api: Running, path: str, user: str, key: str, body: dict[str, Any]) -> list[httpx.Response]:
    """The same keyed POST from fifty threads released together."""
    headers = api.headers(user, **{"Idempotency-Key": key})
    barrier = threading.Barrier(N, timeout=60)

    def send(_: int) -> httpx.Response:
        barrier.wait()
        return api.client.post(path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(send, range(N)))


def test_fifty_simultaneous_retries_of_an_action_record_one_event(api: Running) -> None:
    """Fifty copies of one keyed note sent at once all answer the same version, and one note is recorded."""
    pid = api.register()["id"]
    answers = all_at_once(api, f"/api/v1/petitions/{pid}/notes", "handler_county", "storm-note",
                          {"text": "一次就好", "kind": "mediation"})
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers if a.status_code != 200]
    assert {a.json()["version"] for a in answers} == {2}
    assert [e["type"] for e in history(api, pid)] == ["Registered", "NoteAdded"]


def test_fifty_simultaneous_retries_of_a_registration_register_one_case(api: Running) -> None:
    """Fifty copies of one keyed registration sent at once all answer one case, and one case is stored."""
    before = last_event(api)
    answers = all_at_once(api, "/api/v1/petitions", "reception_county", "storm-reg", petition_body())
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    recorder = api.container.petitions.recorder
    stored = recorder.select_notifications(start=before + 1, limit=10_000)
    assert sum(n.topic.endswith("Registered") for n in stored) == 1
