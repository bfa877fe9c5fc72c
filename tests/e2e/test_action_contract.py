"""Action bodies as the contract words them: the optional fields really are optional.

Calls that may fail with a server error use their own connection, so a dropped connection after
a 500 cannot spill into other tests through the shared client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Running
from tests.e2e.test_authorization_matrix import CASE_ROUTES, STEP_USERS, new_case

ACTIONS = sorted(suffix[1:] for method, suffix in CASE_ROUTES if method == "POST")


def post_alone(api: Running, pid: str, action: str, user: str, body: dict[str, Any]) -> httpx.Response:
    """An action POST on a connection of its own."""
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        return client.post(f"/api/v1/petitions/{pid}/{action}", json=body, headers=api.headers(user))


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_takes_an_optional_note(api: Running, action: str) -> None:
    """Each action accepts the optional `note` of the contract and records it on its event."""
    roles, body, setup = CASE_ROUTES[("POST", f"/{action}")]
    pid = new_case(api, setup)
    user = STEP_USERS.get(action, f"{roles[0]}_county")
    answer = post_alone(api, pid, action, user, {**(body or {}), "note": "附注：电话告知"})
    assert answer.status_code == 200, answer.text
    history = api.client.get(f"/api/v1/petitions/{pid}/history", headers=api.headers("handler_county"))
    assert history.json()[-1]["data"]["note"] == "附注：电话告知"


def test_assign_without_naming_a_person_forwards_the_case(api: Running) -> None:
    """The contract makes the person optional, so forwarding to a unit without naming one succeeds."""
    pid = new_case(api)
    answer = post_alone(api, pid, "assign", "reception_county", {"unit": "town1.v1", "mode": "forward"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "forwarded" and answer.json()["responsible_unit"] == "town1.v1"
