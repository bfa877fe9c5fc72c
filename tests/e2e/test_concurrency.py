"""Fifty clients acting on one case at the same moment, over real HTTP through a thread pool.

Every answer is 200 or 409 (`conflict` when the case moved under the caller), never a 500, and
what the server recorded is exactly a serial run of the accepted requests: one event per 200
answer, carrying that request's text, at the version that answer reported, and replaying those
requests one after another on a fresh in-memory service gives the same case.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx

from domain.service import PetitionService
from tests.e2e.conftest import Running, petition_body

N = 50
NOTE_USERS = ("handler_county", "reception_town1", "leader_town1")
# The field of each event that carries the request's unique marker.
MARKED = {"NoteAdded": "text", "Escalated": "reason", "Packaged": "note"}
Request = tuple[str, str, dict[str, Any]]


def mixed_requests(expected_version: int | None) -> list[Request]:
    """Fifty requests, each with its own marker: mostly notes, with escalations and package orders."""
    requests: list[Request] = []
    for i in range(N):
        marker = f"并发请求{i:02d}"
        if i % 10 == 3:
            request: Request = ("escalate", "handler_town1", {"to_unit": "county", "reason": marker})
        elif i % 10 == 7:
            leader = ("leader_county", "leader_town1")[i % 4 == 3]
            request = ("package", "leader_county", {"leader": leader, "note": marker})
        else:
            request = ("notes", NOTE_USERS[i % 3], {"text": marker, "kind": "investigation"})
        if expected_version is not None:
            request[2]["expected_version"] = expected_version
        requests.append(request)
    return requests


def fire(api: Running, pid: str, requests: list[Request]) -> list[httpx.Response]:
    """Send every request at once: each thread waits at a barrier, then posts."""
    headers = {user: api.headers(user) for _, user, _ in requests}
    barrier = threading.Barrier(len(requests), timeout=60)

    def send(request: Request) -> httpx.Response:
        action, user, body = request
        barrier.wait()
        return api.client.post(f"/api/v1/petitions/{pid}/{action}", json=body, headers=headers[user])

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def new_case(api: Running) -> dict[str, Any]:
    """A freshly registered case in town1.v1 (version 1)."""
    return api.register(receiving_unit="town1.v1", location_unit="town1.v1")


def replay(case: dict[str, Any], accepted: list[Request]) -> Any:
    """The accepted requests carried out one after another on a fresh in-memory service."""
    service = PetitionService({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    body = petition_body(receiving_unit="town1.v1", location_unit="town1.v1")
    petition = service.register(actor=case["registered_by"], channel=body["channel"],
                                received_at=datetime.fromisoformat(case["received_at"]),
                                receiving_unit="town1.v1", location_unit="town1.v1",
                                petitioners=body["petitioners"],
                                headcount=1, category=body["category"], summary=body["summary"],
                                content=body["content"]).petition
    methods = {"notes": service.add_note, "escalate": service.escalate, "package": service.package}
    for action, user, body in accepted:
        arguments = {k: v for k, v in body.items() if k != "expected_version"}
        petition = methods[action](petition.id, actor=user, **arguments).petition
    service.close()
    return petition


def check_serial(api: Running, case: dict[str, Any], requests: list[Request],
                 answers: list[httpx.Response]) -> int:
    """Assert the record is a serial history of the 200 answers; return how many there were."""
    for answer in answers:
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 409:
            assert answer.json()["code"] == "conflict", answer.text
    accepted = {r[2].get("text") or r[2].get("reason") or r[2]["note"]: (r, a.json()["version"])
                for r, a in zip(requests, answers, strict=True) if a.status_code == 200}
    history = api.client.get(f"/api/v1/petitions/{case['id']}/history",
                             headers=api.headers("handler_county")).json()
    events = [e for e in history if e["version"] > case["version"]]
    recorded = {e["data"][MARKED[e["type"]]]: e["version"] for e in events}
    assert len(events) == len(recorded) == len(accepted)
    assert recorded == {marker: version for marker, (_, version) in accepted.items()}
    first = case["version"] + 1
    assert [e["version"] for e in events] == list(range(first, first + len(events)))
    expected = replay(case, [accepted[e["data"][MARKED[e["type"]]]][0] for e in events])
    now = api.client.get(f"/api/v1/petitions/{case['id']}", headers=api.headers("handler_county")).json()
    stored = api.container.petitions.get(case["id"])
    assert (now["status"], now["version"], now["package_leader"]) == (
        expected.status, expected.version, expected.package_leader)
    assert [e["to_unit"] for e in now["escalations"]] == [e["to_unit"] for e in expected.escalations]
    assert stored.notes_count == expected.notes_count == sum(e["type"] == "NoteAdded" for e in events)
    return len(accepted)


def test_fifty_requests_on_the_same_expected_version_let_exactly_one_through(api: Running) -> None:
    """With expected_version all read, one request is recorded and the other 49 get 409 conflict."""
    case = new_case(api)
    requests = mixed_requests(expected_version=case["version"])
    answers = fire(api, case["id"], requests)
    assert check_serial(api, case, requests, answers) == 1


def test_fifty_requests_without_expected_version_lose_no_update(api: Running) -> None:
    """Without expected_version each accepted request is recorded once and a stale save gets 409."""
    case = new_case(api)
    requests = mixed_requests(expected_version=None)
    answers = fire(api, case["id"], requests)
    accepted = check_serial(api, case, requests, answers)
    notes = sum(a.status_code == 200 and r[0] == "notes" for r, a in zip(requests, answers, strict=True))
    history = api.client.get(f"/api/v1/petitions/{case['id']}/history",
                             headers=api.headers("handler_county")).json()
    assert accepted >= 1 and notes == sum(e["type"] == "NoteAdded" for e in history)


def test_fifty_competing_decisions_on_an_assigned_case_record_exactly_one(api: Running) -> None:
    """Accepts and declines raced on one assigned case: one decision wins, the rest get 409."""
    case = new_case(api)
    assert api.act(case["id"], "assign", "reception_county", unit="town1", person="handler_town1",
                   mode="assign").status_code == 200
    requests: list[Request] = [("accept", "handler_town1", {}) if i % 2 else
                               ("decline", "handler_county", {"reason": f"不予受理{i}"}) for i in range(N)]
    answers = fire(api, case["id"], requests)
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    winners = [r for r, a in zip(requests, answers, strict=True) if a.status_code == 200]
    assert len(winners) == 1
    history = api.client.get(f"/api/v1/petitions/{case['id']}/history",
                             headers=api.headers("handler_county")).json()
    assert [e["type"] for e in history[2:]] == [{"accept": "Accepted", "decline": "Declined"}[winners[0][0]]]
