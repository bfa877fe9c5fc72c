"""Schemathesis against the running server's own OpenAPI document, over real HTTP, as several roles.

The engine (the programmatic runner behind `schemathesis run`) is used rather than the pytest
plugin, whose lazy `from_fixture` loader does not work with pytest 9. Each role is fuzzed on the
routes it may use. In three positive cases of four, generated petition ids, receipt codes, unit
codes and user names are replaced by real ones (and stale times and versions left out), so that
requests reach the domain rules instead of stopping at 404 or 422.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.engine import events

from api.routers.actions import ACTIONS
from api.security import Principal, issue_token
from petitions.settings import Settings
from tests.e2e.conftest import UNITS, Running, start, stop
from tests.support import ID_NUMBER

PETITION = "/api/v1/petitions/{petition_id}"
READS = [f"GET {PETITION}", f"GET {PETITION}/history"]


def actions(role: str) -> list[str]:
    """The action routes a role may use, so that most requests get past the 403."""
    return [f"POST {PETITION}/{path}" for path, _, _, roles, _, _ in ACTIONS if role in roles]


# The operations each identity is fuzzed on, by label.
ROUTES = {
    "reception_county": [*READS, *actions("reception"), "POST /api/v1/petitions", "POST /api/v1/auth/token",
                         "GET /api/v1/progress", "GET /api/v1/units", "GET /api/v1/users/me"],
    # GET /api/v1/users is for admins: the handler's run checks that its 403 is documented.
    "handler_town1": [*READS, *actions("handler"), "GET /api/v1/users"],
    "leader_county": [*actions("leader"), "GET /api/v1/warnings", "GET /api/v1/responsibility",
                      "GET /api/v1/statistics"],
    "admin_county": ["POST /api/v1/units", "GET /api/v1/units", "POST /api/v1/users", "GET /api/v1/users",
                     "GET /api/v1/users/me", "GET /api/v1/warning-rules", "PUT /api/v1/warning-rules"],
}
CONFIG: dict[str, Any] = {
    "seed": 20260916,
    "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
    "phases": {
        # Two unexpected methods per route are enough to check 405 and its Allow header.
        "coverage": {"unexpected-methods": ["delete", "options"]},
        # Stateful testing needs links the document does not declare; the case pool stands in for it.
        "stateful": {"enabled": False},
    },
    "checks": {
        # By design a schema-valid request may still be refused with 422: unit codes and user names
        # must exist, ID numbers need a valid check digit, business times may not lie in the future
        # nor before the case's last step. 422 is documented on every route that takes input, so it
        # joins the check's default list. (5xx stays in that list: not_a_server_error reports it.)
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"],
        },
    },
}
UNIT_FIELDS = {"unit", "to_unit", "location_unit", "receiving_unit", "parent"}
USER_FIELDS = {"person": "handler_town1", "leader": "leader_county", "approved_by": "leader_county"}
DROPPED_FIELDS = {"at", "served_at", "expected_version", "same_matter_as"}
# The way of a case to each status the pool holds, as (action, user, body).
STEPS = [
    ("assign", "reception_county", {"unit": "town1", "person": "handler_town1", "mode": "assign"}),
    ("accept", "handler_town1", {}),
    ("reply", "handler_town1", {"opinion": "support", "text": "支持诉求。"}),
    ("serve", "handler_town1", {}),
    ("request-review", "handler_town1", {"reason": "不服处理意见"}),
]


@dataclass
class Pool:
    """Cases in every status from registered to review_requested, and their receipts."""

    ids: list[str] = field(default_factory=list)
    receipts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    """What one run found: failures with their reproduction, and the statuses it saw."""

    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A server of its own: the fuzzer creates units, users and cases the other tests should not see."""
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    served, server, thread = start(Settings(data_dir=data, progress_per_minute=100_000))
    for username in ROUTES.keys() | {user for _, user, _ in STEPS}:
        user = served.container.directory.user(username)
        assert user is not None
        # Signed with the server's secret instead of logging in: the login limit is process-wide.
        served.tokens[username] = issue_token(Principal(user.username, user.role, user.unit),
                                              served.container.token_secret, 60)
    yield served
    stop(served, server, thread)


def new_pool(running: Running) -> Pool:
    """Three fresh cases in each status along STEPS."""
    pool = Pool()
    for depth in range(len(STEPS) + 1):
        for _ in range(3):
            receipt = running.register()
            for action, user, body in STEPS[:depth]:
                answer = running.act(receipt["id"], action, user, **body)
                assert answer.status_code == 200, answer.text
            pool.ids.append(receipt["id"])
            pool.receipts.append((receipt["case_number"], receipt["access_code"]))
    return pool


class Realism:
    """A `map_case` hook: real references in three positive cases of four, in place.

    What a field gets depends only on the number of cases mapped before and the field's name, so a
    derandomized run sends the same requests every time (up to the server's answers feeding back).
    """

    def __init__(self, pool: Pool) -> None:
        self.pool, self.count = pool, 0

    def choose(self, key: str, value: Any, options: list[Any]) -> Any:
        """Keep the generated value one time in four, else pick one of the real options."""
        digest = zlib.crc32(f"{self.count}:{key}".encode())
        return value if digest % 4 == 0 else options[digest // 4 % len(options)]

    def __call__(self, context: Any, case: Case[Any]) -> Case[Any]:
        if case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE:
            return case
        self.count += 1
        params = case.path_parameters or {}
        if "petition_id" in params:
            params["petition_id"] = self.choose("id", params["petition_id"], self.pool.ids)
        query = case.query or {}
        if "case_number" in query:
            receipt = self.choose("receipt", None, self.pool.receipts)
            if receipt is not None:
                query["case_number"], query["code"] = receipt
        headers: MutableMapping[str, Any] = case.headers or {}
        for name in [h for h in headers if h.lower() == "idempotency-key"]:
            # Keys like "0" recur in generated data; reused with another body they are refused.
            headers[name] = self.choose(name, headers[name], [f"fuzz-{self.count}"])
        if isinstance(case.body, dict):
            self.body(case.body)
        return case

    def body(self, body: dict[str, Any]) -> None:
        """Real unit codes, user names, ID numbers and receipt times; no stale times or versions."""
        units = [code for code, *_ in UNITS]
        for key in list(body):
            if key in UNIT_FIELDS and isinstance(body[key], str):
                body[key] = self.choose(key, body[key], units)
            elif key in USER_FIELDS:
                body[key] = self.choose(key, body[key], [USER_FIELDS[key]])
            elif key in DROPPED_FIELDS and self.choose(key, body[key], [None]) is None:
                del body[key]
        if "received_at" in body:
            recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            body["received_at"] = self.choose("received_at", body["received_at"], [recent])
        for person in body.get("petitioners") or []:
            if isinstance(person, dict) and "id_number" in person:
                person["id_number"] = self.choose("id_number", person["id_number"], [ID_NUMBER])


def fuzz(running: Running, identity: str, pool: Pool) -> Outcome:
    """Run the examples, coverage and fuzzing phases on the identity's routes; collect failed checks."""
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_url(f"{running.base_url}/openapi.json", config=config)
    # A client address of its own (uvicorn trusts X-Forwarded-For from 127.0.0.1), so the fuzzer's
    # logins and progress queries fill a rate-limit bucket of their own, not the other tests'.
    schema.config.update(headers={"Authorization": f"Bearer {running.tokens[identity]}",
                                  "X-Forwarded-For": "192.0.2.1"})
    schema = schema.include(name=ROUTES[identity])  # type: ignore[assignment]
    schema.hook("map_case")(Realism(pool))
    outcome = Outcome()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    outcome.statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                outcome.failures.extend(
                    f"{event.recorder.label}: {node.failure_info.failure.title}\n"
                    f"{node.failure_info.failure.message}\n{node.failure_info.code_sample}"
                    for node in checks if node.failure_info is not None)
        elif isinstance(event, events.NonFatalError):
            outcome.failures.append(f"{event.label}: error {type(event.value).__name__}: {event.value}")
        elif isinstance(event, events.FatalError):
            outcome.failures.append(f"fatal error {type(event.exception).__name__}: {event.exception}")
    return outcome


@pytest.mark.parametrize("identity", list(ROUTES))
def test_every_answer_to_generated_requests_fits_the_openapi_document(running: Running,
                                                                       identity: str) -> None:
    """No 5xx, every status documented, every body fits its schema, on the routes of the identity's role."""
    outcome = fuzz(running, identity, new_pool(running))
    assert not outcome.failures, "\n\n".join(outcome.failures)
    assert outcome.statuses[200] + outcome.statuses[201] > 0, f"nothing succeeded: {outcome.statuses}"
