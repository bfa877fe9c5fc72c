"""`petitions demo` fills a fresh store with a sample county, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from domain.directory import LEVELS, ROLES
from domain.petition import Petition
from petitions.bootstrap import build
from petitions.settings import Settings

STATUSES = {"registered", "forwarded", "assigned", "accepted", "replied", "served",
            "review_requested", "review_decided", "rereview_requested", "final", "closed",
            "redirected", "declined"}


def demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m petitions demo` on a SQLite store in `data_dir`."""
    env = {**os.environ, "PETITIONS_DATA_DIR": str(data_dir), "PETITIONS_STORE": "sqlite",
           "PETITIONS_MODE": "development", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "petitions", "demo", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def petitions(data_dir: Path) -> list[Petition]:
    """Every petition in the store, by its registration notification."""
    container = build(Settings(store="sqlite", data_dir=data_dir))
    try:
        service = container.petitions
        registered = service.recorder.select_notifications(
            start=1, limit=1_000_000, topics=["domain.events:Registered"])
        return [service.get(UUID(str(n.originator_id))) for n in registered]
    finally:
        container.close()


def test_demo_fills_a_fresh_store_with_a_county_and_every_kind_of_case(tmp_path: Path) -> None:
    """Every status, overlay and role occurs, the units form one tree, and a second run is refused."""
    data_dir = tmp_path / "data"
    first = demo(data_dir, "--cases", "80", "--seed", "7")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "qingshan-demo" in first.stdout and "/api/v1/auth/token" in first.stdout

    cases = petitions(data_dir)
    assert len(cases) == 80
    assert {p.status for p in cases} == STATUSES
    assert all(len(p.petitioners) <= 5 and p.headcount >= len(p.petitioners) for p in cases)
    assert any(p.headcount >= 5 for p in cases) and any(p.urgent for p in cases)
    assert any(p.extension for p in cases) and any(p.supervisions for p in cases)
    assert any(p.escalations for p in cases) and any(p.package_leader for p in cases)
    assert any(d.status == "suspended" for p in cases for d in p.deadlines)
    assert any(d.status == "missed" and not d.is_petitioner_window for p in cases for d in p.deadlines)
    assert any(p.revisits for p in cases if p.status == "closed")
    assert len({p.channel for p in cases}) == 5 and len({p.category for p in cases}) >= 8
    now = datetime.now(UTC)
    assert all(p.received_at <= p.registered_at <= p.last_at <= now for p in cases)
    assert all(p.received_at >= now - timedelta(days=366) for p in cases)

    container = build(Settings(store="sqlite", data_dir=data_dir))
    try:
        units = container.directory.units()
        users = container.directory.users()
    finally:
        container.close()
    roots = [u for u in units.values() if u.parent is None]
    assert [u.level for u in roots] == ["county"]
    for unit in units.values():
        if unit.parent is not None:
            assert LEVELS.index(unit.level) == LEVELS.index(units[unit.parent].level) + 1
    assert Counter(u.level for u in units.values()).keys() == set(LEVELS)
    assert {u.role for u in users} == set(ROLES)
    assert all(u.unit in units for u in users)
    assert any(u.role == "reception" and units[u.unit].level == "group" for u in users)
    assert {p.location_unit for p in cases} <= set(units)

    again = demo(data_dir, "--cases", "5")
    assert again.returncode == 1
    assert "already has" in again.stdout
    assert len(petitions(data_dir)) == 80
    skipped = demo(data_dir, "--if-empty")
    assert skipped.returncode == 0 and "skipped" in skipped.stdout
