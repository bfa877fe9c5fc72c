"""Bad input over real HTTP: every refusal is a 4xx with exactly {"detail", "code"}, naming the field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Running, petition_body
from tests.support import ID_NUMBER

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
FUTURE = "2099-01-01T09:00:00+08:00"
# The same number with a wrong check digit.
BAD_ID_NUMBER = ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] == "0" else "0")


def refused(answer: httpx.Response, status: int, code: str, field: str | None = None) -> str:
    """Assert the contract's error answer; returns its detail."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"detail", "code"}, body
    assert body["code"] == code and isinstance(body["detail"], str) and body["detail"], body
    if field is not None:
        # Each problem reads "<field>: <message>"; nested fields as a.0.b or a[0].b.
        named = {re.sub(r"\[(\d+)\]", r".\1", part.split(": ", 1)[0]) for part in body["detail"].split("; ")}
        assert re.sub(r"\[(\d+)\]", r".\1", field) in named, body["detail"]
    detail: str = body["detail"]
    return detail


@pytest.fixture(scope="module")
def case(api: Running) -> str:
    """A registered case to act on."""
    return str(api.register()["id"])


def register(api: Running, body: Any) -> httpx.Response:
    """POST a registration body as reception."""
    return api.client.post("/api/v1/petitions", json=body, headers=api.headers("reception_county"))


def without(field: str) -> dict[str, Any]:
    """A valid registration body lacking one field."""
    body = petition_body()
    del body[field]
    return body


@pytest.mark.parametrize("raw", [b"{bad", b'{"channel": "visit",', b'{"summary": "\xff"}', b""],
                         ids=["garbage", "truncated", "not-utf8", "empty"])
def test_a_body_that_is_not_json_is_refused_with_422_naming_the_body(api: Running, raw: bytes) -> None:
    """Malformed, truncated, non-UTF-8 or empty JSON answers 422 `invalid` naming the body."""
    headers = api.headers("reception_county", **{"Content-Type": "application/json"})
    refused(api.client.post("/api/v1/petitions", content=raw, headers=headers), 422, "invalid", "body")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"headcount": "two"}, "headcount"),
    ({"petitioners": "张三"}, "petitioners"),
    ({"summary": ["承包地"]}, "summary"),
    ({"urgent": {"yes": True}}, "urgent"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"received_at": "2026-09-16T10:00:00"}, "received_at"),  # no offset
    ({"petitioners": [{"name": 5}]}, "petitioners[0].name"),
])
def test_a_field_of_the_wrong_type_is_refused_with_422_naming_it(api: Running, overrides: dict[str, Any],
                                                                 field: str) -> None:
    """A string for a number, a string for a list, a list for a string, a naive time: 422 naming it."""
    refused(register(api, petition_body(**overrides)), 422, "invalid", field)


@pytest.mark.parametrize(("action", "body", "field"), [
    ("assign", {"unit": "town1", "person": "handler_town1", "mode": "x"}, "mode"),
    ("notes", {"text": "走访", "kind": "gossip"}, "kind"),
    ("notes", {"text": 5, "kind": "other"}, "text"),
    ("extend", {"days": "many", "reason": "r", "approved_by": "leader_county"}, "days"),
    ("extend", {"days": 31, "reason": "r", "approved_by": "leader_county"}, "days"),
])
def test_an_action_body_with_a_bad_value_is_refused_with_422_naming_it(
        api: Running, case: str, action: str, body: dict[str, Any], field: str) -> None:
    """An unknown mode or kind, a wrong type or a number out of range in an action: 422 naming it."""
    user = "handler_town1" if action == "extend" else "reception_county"
    refused(api.act(case, action, user, **body), 422, "invalid", field)


def test_an_unknown_channel_is_refused_with_422_naming_the_channel(api: Running) -> None:
    """channel "fax" is not one of letter, visit, phone, online, email."""
    detail = refused(register(api, petition_body(channel="fax")), 422, "invalid", "channel")
    assert "letter" in detail


@pytest.mark.parametrize("field", ["channel", "received_at", "location_unit", "petitioners", "category",
                                   "summary", "content"])
def test_a_missing_required_field_is_refused_with_422_naming_it(api: Running, field: str) -> None:
    """Each required field of a registration, left out, is named in the 422."""
    refused(register(api, without(field)), 422, "invalid", field)


def test_an_action_without_its_required_field_is_refused_with_422_naming_it(api: Running, case: str) -> None:
    """assign without unit answers 422 naming unit."""
    refused(api.act(case, "assign", "reception_county", mode="forward"), 422, "invalid", "unit")


@pytest.mark.parametrize(("body", "field"), [
    (petition_body(priority="high"), "priority"),
    (petition_body(petitioners=[{"name": "张三", "email": "a@b.c"}]), "petitioners[0].email"),
], ids=["top-level", "petitioner"])
def test_an_unknown_field_is_refused_with_422_naming_it(api: Running, body: dict[str, Any],
                                                        field: str) -> None:
    """A misspelt or unknown field is never silently dropped."""
    refused(register(api, body), 422, "invalid", field)


def test_an_unknown_field_in_an_action_is_refused_with_422_naming_it(api: Running, case: str) -> None:
    """notes with "txt" instead of "text" names both the unknown and the missing field."""
    answer = api.act(case, "notes", "reception_county", txt="走访", kind="other")
    detail = refused(answer, 422, "invalid", "txt")
    assert "text" in detail


def oversize(api: Running) -> bytes:
    """A registration body one byte over the server's limit."""
    limit = api.container.settings.max_body_bytes
    body = json.dumps(petition_body(content="")).encode()
    return json.dumps(petition_body(content="x" * (limit - len(body) + 1))).encode()


def test_a_body_over_the_limit_is_refused_with_413(api: Running) -> None:
    """A Content-Length over max_body_bytes answers 413 `too_large`."""
    body = oversize(api)
    assert len(body) == api.container.settings.max_body_bytes + 1
    headers = api.headers("reception_county", **{"Content-Type": "application/json"})
    refused(api.client.post("/api/v1/petitions", content=body, headers=headers), 413, "too_large")


def test_a_chunked_body_over_the_limit_is_refused_with_413(api: Running) -> None:
    """Without a Content-Length the limit holds too: 413 `too_large`, not a parse error."""
    body = oversize(api)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    headers = api.headers("reception_county", **{"Content-Type": "application/json"})
    refused(api.client.post("/api/v1/petitions", content=chunks(), headers=headers), 413, "too_large")


@pytest.mark.parametrize("path", [
    f"/api/v1/petitions/{UNKNOWN_ID}", f"/api/v1/petitions/{UNKNOWN_ID}/history",
    "/api/v1/petitions/XF-2099-999999", "/api/v1/petitions/not-a-case",
])
def test_an_unknown_petition_id_or_case_number_answers_404(api: Running, path: str) -> None:
    """Reading an unknown id or case number answers 404 `not_found`."""
    refused(api.client.get(path, headers=api.headers("reception_county")), 404, "not_found")


def test_an_action_on_an_unknown_petition_answers_404(api: Running) -> None:
    """A valid action body on an unknown id answers 404 `not_found`."""
    refused(api.act(UNKNOWN_ID, "notes", "reception_county", text="走访", kind="other"), 404, "not_found")


def test_the_progress_query_for_an_unknown_case_number_answers_404(api: Running) -> None:
    """The petitioner's query with a case number nobody has answers 404 `not_found`."""
    answer = api.client.get("/api/v1/progress", params={"case_number": "XF-2099-999999", "code": "ABCD2345"})
    refused(answer, 404, "not_found")


def test_a_future_business_time_is_refused_with_422_naming_at(api: Running, case: str) -> None:
    """`at` in the future is refused on registration and on an action."""
    refused(register(api, petition_body(at=FUTURE)), 422, "invalid", "at")
    answer = api.act(case, "notes", "reception_county", text="走访", kind="other", at=FUTURE)
    refused(answer, 422, "invalid", "at")


def test_an_invalid_id_number_is_refused_naming_the_field_without_echoing_the_number(api: Running) -> None:
    """A wrong check digit answers 422 naming petitioners[0].id_number; the number is not in the answer."""
    person = {"name": "李四", "id_number": BAD_ID_NUMBER, "phone": "13812345678"}
    answer = register(api, petition_body(petitioners=[person]))
    refused(answer, 422, "invalid", "petitioners[0].id_number")
    assert BAD_ID_NUMBER not in answer.text and BAD_ID_NUMBER[:17] not in answer.text


@pytest.mark.parametrize(("method", "path", "user", "body", "field"), [
    ("POST", "/api/v1/petitions", "reception_county", petition_body(location_unit="x"), "location_unit"),
    ("POST", "/api/v1/petitions", "reception_county", petition_body(receiving_unit="x"), "receiving_unit"),
    ("POST", "/api/v1/users", "admin_county",
     {"username": "bad_unit_user", "password": "password-123", "role": "handler", "unit": "nowhere"}, "unit"),
    ("POST", "/api/v1/units", "admin_county",
     {"code": "bad.parent", "name": "无", "level": "village", "parent": "nowhere"}, "parent"),
], ids=["location_unit", "receiving_unit", "user-unit", "unit-parent"])
def test_an_unknown_unit_code_is_refused_with_422_naming_the_field(
        api: Running, method: str, path: str, user: str, body: dict[str, Any], field: str) -> None:
    """A unit code nobody has is refused with 422 naming the field that holds it."""
    answer = api.client.request(method, path, json=body, headers=api.headers(user))
    refused(answer, 422, "invalid", field)


@pytest.mark.parametrize(("action", "body", "field"), [
    ("assign", {"unit": "nowhere", "mode": "forward"}, "unit"),
    ("escalate", {"to_unit": "nowhere", "reason": "重大"}, "to_unit"),
])
def test_an_action_naming_an_unknown_unit_is_refused_with_422_naming_the_field(
        api: Running, case: str, action: str, body: dict[str, Any], field: str) -> None:
    """assign to or escalate to a unit nobody has: 422 naming the field."""
    refused(api.act(case, action, "reception_county", **body), 422, "invalid", field)


def test_an_overlong_path_id_or_idempotency_key_is_refused_with_422_naming_it(api: Running,
                                                                               case: str) -> None:
    """A petition id over 64 characters and an Idempotency-Key over 200 are refused by name."""
    long_id = api.client.get(f"/api/v1/petitions/{'x' * 65}", headers=api.headers("reception_county"))
    refused(long_id, 422, "invalid", "petition_id")
    headers = api.headers("reception_county", **{"Idempotency-Key": "k" * 201})
    answer = api.client.post(f"/api/v1/petitions/{case}/notes", json={"text": "走访", "kind": "other"},
                             headers=headers)
    refused(answer, 422, "invalid", "idempotency-key")


def test_a_time_query_without_an_offset_is_refused_with_422_naming_it(api: Running, case: str) -> None:
    """as_of must carry an offset: a naive time answers 422 naming as_of."""
    answer = api.client.get(f"/api/v1/petitions/{case}", params={"as_of": "2026-09-16T10:00:00"},
                            headers=api.headers("reception_county"))
    refused(answer, 422, "invalid", "as_of")


@pytest.mark.parametrize("path, field, value", [
    # A number is no date: pydantic alone would read it as a Unix time.
    ("/api/v1/warnings", "as_of", "-1338"),
    ("/api/v1/responsibility", "to", "0"),
    ("/api/v1/petitions", "from", "20260901"),
    # Years before 1990 or after 2100: refused, never an overflow.
    ("/api/v1/warnings", "as_of", "0001-01-01T00:00:00+14:00"),
    ("/api/v1/warnings", "as_of", "9999-12-31T23:59:59-14:00"),
    ("/api/v1/responsibility", "to", "0001-01-05"),
    ("/api/v1/petitions", "to", "9999-12-31"),
])
def test_a_date_that_is_no_iso_date_of_an_office_record_is_refused_naming_it(
        api: Running, path: str, field: str, value: str) -> None:
    """Dates and times are ISO text within 1990-2100: anything else answers 422 naming it."""
    answer = api.client.get(path, params={field: value}, headers=api.headers("leader_county"))
    refused(answer, 422, "invalid", field)


def test_a_number_as_the_received_time_is_refused_naming_it(api: Running) -> None:
    """A JSON number is no time of receipt (pydantic alone would take it as a Unix time)."""
    refused(register(api, {**petition_body(), "received_at": 1700000000}), 422, "invalid", "received_at")


def test_a_query_parameter_given_twice_is_refused_naming_it(api: Running) -> None:
    """`?unit=a&unit=b` is ambiguous: 422 naming unit, not a silent pick of one."""
    answer = api.client.get("/api/v1/petitions?unit=county&unit=town1",
                            headers=api.headers("leader_county"))
    refused(answer, 422, "invalid", "unit")


def test_a_registration_received_in_year_one_is_refused_naming_it(api: Running) -> None:
    """received_at in year 1 would poison every later window calculation: 422 naming it."""
    body = {**petition_body(), "received_at": "0001-01-02T00:00:00+00:00"}
    refused(register(api, body), 422, "invalid", "received_at")
