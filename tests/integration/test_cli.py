"""The `petitions` command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with its data directory in tmp_path."""
    env = {**os.environ, "PETITIONS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "petitions", *args], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )


def test_sample_registers_a_petition_and_prints_its_deadlines(tmp_path: Path) -> None:
    """The main job registers a case on the SQLite store and prints its clocks."""
    first = run(tmp_path, "sample")
    assert first.returncode == 0, first.stderr
    assert "XF-" in first.stdout and "handling" in first.stdout and "triage" in first.stdout
    assert (tmp_path / "data" / "events.sqlite3").exists()
    second = run(tmp_path, "sample")
    assert "-000002" in second.stdout  # the store persisted between runs
    shown = run(tmp_path, "show", next(w for w in first.stdout.split() if w.startswith("XF-")))
    assert shown.returncode == 0 and "Accepted" in shown.stdout


def test_an_administrator_loads_a_holiday_schedule_for_a_new_year(tmp_path: Path) -> None:
    """A schedule for a year the package does not know is loaded and used."""
    schedule = {"year": 2031, "holidays": ["2031-03-03"], "workdays": ["2031-03-08"],
                "source": "国务院办公厅通知 (test)"}
    path = tmp_path / "2031.json"
    path.write_text(json.dumps(schedule), encoding="utf-8")
    loaded = run(tmp_path, "holidays", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    shown = run(tmp_path, "holidays", "show", "2031")
    assert "override" in shown.stdout and "2031-03-03" in shown.stdout and "2031-03-08" in shown.stdout


def test_a_malformed_schedule_is_refused_with_the_problem_named(tmp_path: Path) -> None:
    """A bad date in a schedule file is refused and nothing is written."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"year": 2031, "holidays": ["2031-02-30"], "source": "x"}))
    result = run(tmp_path, "holidays", "load", str(path))
    assert result.returncode == 2
    assert "2031-02-30" in result.stdout
    assert not (tmp_path / "data" / "holidays.json").exists()


def test_views_rebuild_refills_the_case_list_from_the_events(tmp_path: Path) -> None:
    """`petitions views rebuild` empties the list view and fills it again from every event."""
    assert run(tmp_path, "sample").returncode == 0
    rebuilt = run(tmp_path, "views", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt case_list from 3 events" in rebuilt.stdout
    unknown = run(tmp_path, "views", "rebuild", "nonsense")
    assert unknown.returncode == 2 and "no view named nonsense" in unknown.stdout


def test_scheduler_run_once_sweeps_and_exits(tmp_path: Path) -> None:
    """`petitions scheduler run-once` runs the deadline sweep once and exits."""
    assert run(tmp_path, "sample").returncode == 0
    result = run(tmp_path, "scheduler", "run-once")
    assert result.returncode == 0, result.stderr
    assert "deadline_sweep: 0" in result.stdout
