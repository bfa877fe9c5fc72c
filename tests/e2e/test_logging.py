"""Structured logs over real HTTP: one request line each, the request id, and no personal data.

The server runs in a thread of this process, so `structlog.testing.capture_logs` sees its log
calls. The capture keeps the application's own processors except the renderer, so entries are
what a log line would hold. The request line is written after the answer is sent, so each test
waits for it rather than assuming it is there when the client has the answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from api.logs import scrub
from domain.validation import make_id_number
from tests.e2e.conftest import PASSWORD, Running, petition_body

ID_NUMBER = make_id_number("44030519851231123")
INVALID_ID_NUMBER = make_id_number("44030519790615456")[:-1] + "0"
PHONE = "13987654321"
ADDRESS = "幸福路八十八号三单元"
WRONG_PASSWORD = "not-the-password-42"
NEW_PASSWORD = "new-user-password-77"
# Logins from an address of their own (uvicorn trusts X-Forwarded-For from 127.0.0.1): the login
# rate limit is per client address, and the other tests log in from 127.0.0.1.
LOGIN_CLIENT = {"X-Forwarded-For": "192.0.2.200"}


@pytest.fixture
def entries() -> Iterator[list[MutableMapping[str, Any]]]:
    """Log entries captured while the test runs, processed as the application processes them."""
    processors = structlog.get_config()["processors"][:-1]  # all but the renderer
    with capture_logs(processors=processors) as captured:
        yield captured


def request_line(entries: list[MutableMapping[str, Any]], answer: httpx.Response) -> MutableMapping[str, Any]:
    """The one request line logged for this answer, waiting (up to 30 s on a loaded machine) for it."""
    request_id = answer.headers["X-Request-ID"]
    deadline = time.monotonic() + 30
    while True:
        lines = [e for e in list(entries) if (e.get("event"), e.get("request_id")) == ("request", request_id)]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(lines) == 1, lines
    return lines[0]


def test_each_request_logs_one_line_with_id_user_method_route_status_and_duration(
        api: Running, entries: list[MutableMapping[str, Any]]) -> None:
    """An action logs its route template (not the concrete path), the user, the status and the time."""
    pid = api.register()["id"]
    answer = api.act(pid, "notes", "reception_county", text="走访", kind="investigation")
    assert answer.status_code == 200, answer.text
    line = request_line(entries, answer)
    assert line["route"] == "/api/v1/petitions/{petition_id}/notes" and pid not in str(line)
    assert line["user"] == "reception_county" and line["method"] == "POST" and line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["request_id"] == answer.headers["X-Request-ID"]


def test_an_anonymous_refused_request_logs_its_status_and_no_user(
        api: Running, entries: list[MutableMapping[str, Any]]) -> None:
    """A request without a token logs user "-", status 401 and the route template."""
    answer = api.client.get("/api/v1/petitions/XF-2026-000001/history")
    assert answer.status_code == 401
    line = request_line(entries, answer)
    assert (line["user"], line["status"], line["method"]) == ("-", 401, "GET")
    assert line["route"] == "/api/v1/petitions/{petition_id}/history"


def test_a_valid_incoming_request_id_is_kept_and_an_invalid_one_replaced(
        api: Running, entries: list[MutableMapping[str, Any]]) -> None:
    """X-Request-ID of safe characters is echoed and logged; one with spaces is replaced by a new id."""
    kept = api.client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"})
    assert kept.headers["X-Request-ID"] == "trace-42.a_b"
    assert request_line(entries, kept)["route"] == "/healthz"
    replaced = api.client.get("/healthz", headers={"X-Request-ID": "bad id; drop table"})
    assert replaced.headers["X-Request-ID"] != "bad id; drop table"
    assert request_line(entries, replaced)["request_id"] == replaced.headers["X-Request-ID"]


def test_no_log_entry_holds_an_id_number_phone_address_password_or_receipt_code(
        api: Running, entries: list[MutableMapping[str, Any]]) -> None:
    """Registration, failed and good logins, a new user, a refused ID number and the progress query."""
    person = {"name": "王五", "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS}

    def login(username: str, password: str) -> httpx.Response:
        return api.client.post("/api/v1/auth/token", data={"username": username, "password": password},
                               headers=LOGIN_CLIENT)

    receipt = api.register(petitioners=[person])
    answers = [
        login("reception_county", WRONG_PASSWORD),
        login("handler_town1", PASSWORD),
        api.client.post("/api/v1/users", headers=api.headers("admin_county"),
                        json={"username": "log_probe", "password": NEW_PASSWORD, "role": "auditor",
                              "unit": "town2"}),
        api.client.post("/api/v1/petitions", headers=api.headers("reception_county"), json=petition_body(
            petitioners=[{**person, "id_number": INVALID_ID_NUMBER}])),
        api.client.get("/api/v1/progress", params={"case_number": receipt["case_number"],
                                                   "code": receipt["access_code"]}),
    ]
    assert [a.status_code for a in answers] == [401, 200, 201, 422, 200], [a.text for a in answers]
    for answer in answers:
        request_line(entries, answer)
    secrets = [ID_NUMBER, INVALID_ID_NUMBER, INVALID_ID_NUMBER[:17], PHONE, ADDRESS, WRONG_PASSWORD, PASSWORD,
               NEW_PASSWORD, receipt["access_code"], answers[1].json()["access_token"]]
    for entry in list(entries):
        text = json.dumps(entry, ensure_ascii=False, default=str)
        assert not [s for s in secrets if s in text], text


def test_scrub_removes_sensitive_keys_whatever_their_case() -> None:
    """Values under personal or secret keys are replaced, in any letter case; others stay."""
    event = {"event": "x", "ID_Number": "anything", "Authorization": "Bearer abc", "password": "p",
             "address": "幸福路", "code": "ABCD2345", "petitioners": [{"name": "张三"}], "status": 200}
    scrubbed = scrub(None, "info", dict(event))
    assert {k for k, v in scrubbed.items() if v == "[removed]"} == set(event) - {"event", "status"}
    assert scrubbed["event"] == "x" and scrubbed["status"] == 200


@pytest.mark.parametrize(("value", "expected"), [
    (f"caller {ID_NUMBER} came", "caller [removed] came"),
    ("id 11010519491231002x", "id [removed]"),
    (f"call {PHONE}!", "call [removed]!"),
    ("case XF-2026-000123 took 13.5 ms", "case XF-2026-000123 took 13.5 ms"),
    ("order 12345678901234567890", "order 12345678901234567890"),  # 20 digits: neither shape
    ("landline 010-12345678", "landline 010-12345678"),
])
def test_scrub_blanks_id_and_mobile_numbers_by_shape_only(value: str, expected: str) -> None:
    """18-digit ID numbers (check digit X too) and 11-digit mobiles inside text go; other numbers stay."""
    assert scrub(None, "info", {"event": "e", "message": value})["message"] == expected
