"""`petitions stats`, run as an office would run it at the end of a quarter or a year."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook


def run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the CLI with its data directory in tmp_path."""
    env = {**os.environ, "PETITIONS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "petitions", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_stats_writes_the_year_as_a_spreadsheet_and_prints_it_as_json(tmp_path: Path) -> None:
    """After one sample petition the year's summary counts it, in the .xlsx file and on stdout."""
    assert run(tmp_path, "sample").returncode == 0
    # The sample petition was received three days ago, by the office's calendar.
    year = str((datetime.now(UTC) - timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai")).year)
    no_units = run(tmp_path, "stats", "--period", year)
    assert no_units.returncode == 2 and "petitions init" in no_units.stderr
    assert run(tmp_path, "init", stdin="password-123\n").returncode == 0
    out = tmp_path / "summary.xlsx"
    saved = run(tmp_path, "stats", "--period", year, "--format", "xlsx", "--out", str(out))
    assert saved.returncode == 0, saved.stderr
    sheet = load_workbook(io.BytesIO(out.read_bytes())).active
    figures = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, max_col=3, values_only=True)}
    assert figures["received"] == 1 and figures["visit"] == 1
    printed = run(tmp_path, "stats", "--period", year)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["received"] == 1
    refused = run(tmp_path, "stats", "--period", f"{year}-Q9")
    assert refused.returncode == 2 and "period" in refused.stderr
    no_file = run(tmp_path, "stats", "--period", year, "--format", "xlsx")
    assert no_file.returncode == 2 and "--out" in no_file.stderr
