"""A real server over real HTTP: uvicorn in a thread, on a SQLite store in a temporary directory."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.security import hash_password
from petitions.bootstrap import Container, build
from petitions.settings import Settings
from tests.support import ID_NUMBER

PASSWORD = "password-123"
ROLES = ("reception", "handler", "leader", "auditor", "admin")
# county ─ town1 ─ town1.v1 ─ town1.v1.g1
#        └ town2 ─ town2.v1
UNITS = [("county", "县", "county", None), ("town1", "一镇", "township", "county"),
         ("town2", "二镇", "township", "county"), ("town1.v1", "一村", "village", "town1"),
         ("town2.v1", "二村", "village", "town2"), ("town1.v1.g1", "一组", "group", "town1.v1")]
SEATS = ("county", "town1", "town2")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    """A running server and a client that logs in as anyone of the seeded staff."""

    container: Container
    base_url: str
    client: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        """Authorization for a seeded user (role_seat, e.g. handler_town1)."""
        if username not in self.tokens:
            answer = self.client.post("/api/v1/auth/token",
                                      data={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            self.tokens[username] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}

    def register(self, user: str = "reception_county", **overrides: Any) -> dict[str, Any]:
        """Register a petition over HTTP; returns the answer's body."""
        body = petition_body(**overrides)
        answer = self.client.post("/api/v1/petitions", json=body, headers=self.headers(user))
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def act(self, pid: str, action: str, user: str, **body: Any) -> httpx.Response:
        """POST an action on a petition."""
        return self.client.post(f"/api/v1/petitions/{pid}/{action}", json=body,
                                headers=self.headers(user))


def petition_body(**overrides: Any) -> dict[str, Any]:
    """A valid registration body."""
    body: dict[str, Any] = {
        "channel": "visit",
        "received_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "location_unit": "town1.v1",
        "petitioners": [{"name": "张三", "id_number": ID_NUMBER, "phone": "13812345678",
                         "address": "一村三组十号"}],
        "headcount": 1,
        "category": "land",
        "summary": "承包地被占用",
        "content": "来访人反映承包地被占用。",
    }
    body.update(overrides)
    return body


def seed(container: Container) -> None:
    """The sample tree and one user of every role at the county and at each township."""
    directory = container.directory
    for code, name, level, parent in UNITS:
        directory.create_unit(code=code, name=name, level=level, parent=parent, actor="seed")
    hashed = hash_password(PASSWORD)
    for seat in SEATS:
        for role in ROLES:
            directory.create_user(username=f"{role}_{seat}", password_hash=hashed, role=role,
                                  unit=seat, actor="seed")


def start(settings: Settings) -> tuple[Running, uvicorn.Server, threading.Thread]:
    """Build, seed and serve on a free port; returns when the server accepts connections."""
    container = build(settings)
    if "county" not in container.directory.units():
        seed(container)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    return Running(container, base, httpx.Client(base_url=base, timeout=30)), server, thread


def stop(running: Running, server: uvicorn.Server, thread: threading.Thread) -> None:
    """Stop the server and release the store."""
    server.should_exit = True
    thread.join(timeout=10)
    running.client.close()
    running.container.close()


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One server for the whole session, on a SQLite store."""
    data = Path(tmp_path_factory.mktemp("api")) / "data"
    running, server, thread = start(Settings(data_dir=data, progress_per_minute=1000))
    yield running
    stop(running, server, thread)
