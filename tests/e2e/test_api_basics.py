"""The HTTP contract's basics, over real HTTP."""

from __future__ import annotations

from tests.e2e.conftest import Running, petition_body


def test_registration_answers_the_petition_with_a_case_number_and_receipt_code(api: Running) -> None:
    """201 with id, case number, status, responsible unit and person, deadlines, version."""
    body = api.register()
    assert body["case_number"].startswith("XF-") and body["status"] == "registered"
    assert body["responsible_unit"] == "county" and body["responsible_person"] == "reception_county"
    assert body["deadlines"][0]["clock"] == "triage" and body["version"] == 1
    assert len(body["access_code"]) == 8


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(api: Running) -> None:
    """The same key twice registers one case and answers the same case twice."""
    headers = api.headers("reception_county", **{"Idempotency-Key": "retry-1"})
    body = petition_body()
    first = api.client.post("/api/v1/petitions", json=body, headers=headers)
    again = api.client.post("/api/v1/petitions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["version"] == 1
    other = api.client.post("/api/v1/petitions", json={**body, "summary": "另一件"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_the_petitioner_sees_progress_with_the_receipt_code_and_nothing_personal(api: Running) -> None:
    """Case number plus code answers status and next deadline; a wrong code answers 404."""
    body = api.register()
    answer = api.client.get("/api/v1/progress",
                            params={"case_number": body["case_number"], "code": body["access_code"]})
    assert answer.status_code == 200
    assert answer.json()["status"] == "registered"
    assert answer.json()["next_deadline"]["clock"] == "triage"
    assert "张三" not in answer.text and "138" not in answer.text
    wrong = api.client.get("/api/v1/progress",
                           params={"case_number": body["case_number"], "code": "WRONG000"})
    assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"



def test_a_write_answers_the_case_exactly_as_a_read_of_it_does(api: Running) -> None:
    """The registration's and an action's answers equal a read of the case (plus the receipt code)."""
    headers = api.headers("reception_county")
    registered = api.client.post("/api/v1/petitions", json=petition_body(), headers=headers)
    assert registered.status_code == 201
    assert registered.headers["content-type"] == "application/json"
    receipt = registered.json()
    read = api.client.get(f"/api/v1/petitions/{receipt['id']}", headers=headers).json()
    assert {**read, "access_code": receipt["access_code"]} == receipt
    noted = api.client.post(f"/api/v1/petitions/{receipt['id']}/notes", headers=headers,
                            json={"text": "第一次走访", "kind": "investigation"})
    assert noted.status_code == 200 and noted.headers["content-type"] == "application/json"
    again = api.client.get(f"/api/v1/petitions/{receipt['id']}", headers=headers).json()
    assert noted.json() == again and again["version"] == 2


def test_every_write_documents_its_idempotency_key_and_bearer_token(api: Running) -> None:
    """Each POST (and the PUT) of the OpenAPI document takes an Idempotency-Key and a bearer token."""
    doc = api.client.get("/openapi.json").json()
    writes = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()
              if method in ("post", "put") and path != "/api/v1/auth/token"]
    assert len(writes) > 20
    for path, method, op in writes:
        headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        assert "idempotency-key" in headers, (method, path)
        assert op.get("security") and "401" in op["responses"], (method, path)
