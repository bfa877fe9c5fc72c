"""`petitions stats`: a quarterly or year-end summary as JSON, CSV or a spreadsheet file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from domain.errors import InvalidField, PetitionError
from petitions.bootstrap import build
from projections.case_list import unit_paths
from projections.statistics import Period, summary

FORMATS = ("json", "csv", "xlsx")
console = Console(stderr=True)


def stats(
    period: Annotated[str, typer.Option(help="a quarter (2026-Q3) or a year (2026)")],
    unit: Annotated[str | None, typer.Option(help="a unit's code; default the top of the tree")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or xlsx")] = "json",
    out: Annotated[Path | None, typer.Option(help="the file to write; default standard output")] = None,
) -> None:
    """Print or save the summary of a quarter or a year (counts by channel, category, area, status;
    on-time, satisfaction and repeat rates) for a unit and the units below it."""
    if fmt not in FORMATS:
        console.print(f"[red]format: must be one of {', '.join(FORMATS)}[/]")
        raise typer.Exit(2)
    if fmt == "xlsx" and out is None:
        console.print("[red]out: a spreadsheet needs a file to go to (--out FILE.xlsx)[/]")
        raise typer.Exit(2)
    container = build()
    try:
        chosen = Period.parse(period)
        directory = container.directory
        units = directory.units()
        code = unit or next((u.code for u in units.values() if u.parent is None), None)
        if code is None:
            raise InvalidField("unit", "the store has no units yet (run `petitions init`)")
        directory.unit(code)
        if container.projector is not None:
            container.projector.catch_up()  # embedded: the views see every event before the report
        figures = summary(container.views, unit_paths(directory.ancestors)(code), chosen,
                          container.petitions.policy.tz, code,
                          lambda c: units[c].name if c in units else c)
    except PetitionError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(2) from None
    finally:
        container.close()
    from projections.statistics_export import to_csv, to_xlsx  # openpyxl only when reporting

    data = (to_xlsx(figures) if fmt == "xlsx" else to_csv(figures) if fmt == "csv"
            else json.dumps(figures, ensure_ascii=False, indent=2, default=str).encode() + b"\n")
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    out.write_bytes(data)
    console.print(f"wrote {out} ({chosen.label}, {figures['unit_name']}: {figures['received']} petitions)")
