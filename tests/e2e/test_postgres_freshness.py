"""Read-your-writes on PostgreSQL over real HTTP: view routes wait for the projector to pass `after`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from petitions.bootstrap import event_store_env
from projections.runner import subscribe
from tests.e2e.conftest import Running, petition_body, start, stop
from tests.integration.conftest import pg_schema, settings_for  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres
VIEW_ROUTES = ["/api/v1/warnings", "/api/v1/petitions", "/api/v1/responsibility",
               "/api/v1/statistics?period=2026"]


@pytest.fixture
def pg_api(pg_schema: str, tmp_path: Path) -> Iterator[Running]:  # noqa: F811
    """A server on PostgreSQL, with no projector running unless the test starts one."""
    running, server, thread = start(settings_for("postgres", tmp_path, pg_schema, cipher=True))
    yield running
    stop(running, server, thread)


def written(api: Running) -> tuple[str, int]:
    """Register an urgent case (it raises a red warning); its id and notification id."""
    answer = api.client.post("/api/v1/petitions", json=petition_body(urgent=True),
                             headers=api.headers("reception_county"))
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], int(answer.headers["X-Notification-Id"])


def test_a_view_read_waits_for_the_projector_to_pass_the_write(pg_api: Running) -> None:
    """With the projector following, `after` gives the list and the board the write just made."""
    container = pg_api.container
    with subscribe(container.projection, event_store_env(container.settings)):
        pid, notification = written(pg_api)
        leader = pg_api.headers("leader_county")
        board = pg_api.client.get(f"/api/v1/warnings?after={notification}", headers=leader)
        assert any(w["petition_id"] == pid and w["rule"] == "urgent" for w in board.json())
        listed = pg_api.client.get(f"/api/v1/petitions?after={notification}", headers=leader)
        assert pid in {item["id"] for item in listed.json()["items"]}
        for route in VIEW_ROUTES:
            sep = "&" if "?" in route else "?"
            answer = pg_api.client.get(f"{route}{sep}after={notification}", headers=leader)
            assert answer.status_code == 200, (route, answer.text)


@pytest.mark.parametrize("route", VIEW_ROUTES)
def test_without_a_projector_a_read_after_a_write_answers_503_not_stale_rows(
        pg_api: Running, route: str) -> None:
    """No projector: the view never reaches the write, and the route says so within 5 s."""
    _, notification = written(pg_api)
    sep = "&" if "?" in route else "?"
    answer = pg_api.client.get(f"{route}{sep}after={notification}",
                               headers=pg_api.headers("leader_county"))
    assert answer.status_code == 503
    assert set(answer.json()) == {"detail", "code"}
