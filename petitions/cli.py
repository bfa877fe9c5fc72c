"""The `petitions` command line: sample registration, case look-up, holiday schedules, keys."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from eventsourcing.cryptography import AESCipher
from rich.console import Console
from rich.table import Table

from domain.calendar import dump_schedule, load_schedules
from domain.errors import PetitionError
from domain.petition import Petition
from domain.validation import make_id_number
from petitions.bootstrap import build, build_service, deadline_policy, event_store_env
from petitions.settings import Settings
from petitions.stats_cli import stats

app = typer.Typer(help="Letters-and-visits (信访) case tracker.", no_args_is_help=True)
holidays_app = typer.Typer(help="Official holiday schedules (节假日安排) loaded by an administrator.")
app.add_typer(holidays_app, name="holidays")
app.command("stats")(stats)
console = Console()


def deadline_table(petition: Petition) -> Table:
    """The case's deadlines as a table a clerk can read."""
    table = Table(title=f"{petition.case_number} — {petition.status}")
    for column in ("clock", "starts", "due", "status", "rule", "calendar"):
        table.add_column(column)
    for d in petition.deadlines:
        table.add_row(d.clock, d.starts.isoformat(), d.due.isoformat(), d.status, d.rule,
                      d.calendar)
    return table


@app.command()
def sample() -> None:
    """Register a sample petition on the configured store, route and accept it, print its deadlines."""
    settings = Settings()
    service = build_service(settings)
    try:
        now = datetime.now(UTC)
        received = now - timedelta(days=3)
        receipt = service.register(
            actor="reception.demo", channel="visit", received_at=received,
            receiving_unit="county", location_unit="county/town-1",
            petitioners=[{"name": "张三", "id_number": make_id_number("11010519491231002"),
                          "phone": "13812345678", "address": "一号村三组"}],
            headcount=1, category="land", summary="承包地被占用，要求恢复",
            content="来访人反映其承包地被邻村占用，要求恢复原状。", at=received,
        )
        pid = receipt.petition.id
        service.assign(pid, unit="county/town-1", person="handler.demo", mode="assign",
                       actor="reception.demo", at=received + timedelta(hours=2))
        outcome = service.accept(pid, actor="handler.demo", at=now - timedelta(days=1))
        console.print(deadline_table(outcome.petition))
        console.print(
            f"Registered [bold]{receipt.petition.case_number}[/] on the {settings.store} store "
            f"(receipt code {receipt.access_code}); responsible: "
            f"{outcome.petition.responsible_unit} / {outcome.petition.responsible_person}"
        )
    finally:
        service.close()


@app.command()
def show(case: Annotated[str, typer.Argument(help="case number or id")]) -> None:
    """Print a case's deadlines and history."""
    service = build_service()
    try:
        petition = service.get(case)
        console.print(deadline_table(petition))
        for entry in service.history(petition.id):
            when = entry.at.isoformat(timespec="minutes") if entry.at else "-"
            console.print(f"v{entry.version} {entry.type:<20} {when} by {entry.actor}")
    except PetitionError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(1) from None
    finally:
        service.close()


@app.command("new-key")
def new_key() -> None:
    """Print a new AES key for PETITIONS_CIPHER_KEY (keep it safe: without it nothing is readable)."""
    typer.echo(AESCipher.create_key(32))


@holidays_app.command("load")
def holidays_load(path: Annotated[str, typer.Argument(help="JSON file of schedules")]) -> None:
    """Check a file of official schedules and add it to the office's calendar."""
    settings = Settings()
    try:
        incoming = load_schedules(path)
        current = load_schedules(settings.holidays_path) if settings.holidays_path.exists() else {}
    except PetitionError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(2) from None
    merged = current | incoming
    settings.holidays_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = settings.holidays_path.with_suffix(".tmp")
    tmp.write_text(json.dumps([dump_schedule(merged[y]) for y in sorted(merged)],
                              ensure_ascii=False, indent=2))
    tmp.replace(settings.holidays_path)
    console.print(f"Loaded {', '.join(str(y) for y in sorted(incoming))} into {settings.holidays_path}")


@holidays_app.command("show")
def holidays_show(year: int) -> None:
    """Print the days off and make-up working days of a year, and the data they come from."""
    policy = deadline_policy(Settings())
    calendar = policy.calendar
    day, end = date(year, 1, 1), date(year, 12, 31)
    off, on = [], []
    while day <= end:
        weekend = day.weekday() >= 5
        if calendar.is_working_day(day) and weekend:
            on.append(day.isoformat())
        elif not calendar.is_working_day(day) and not weekend:
            off.append(day.isoformat())
        day += timedelta(days=1)
    console.print(f"[bold]{calendar.version(date(year, 1, 1), end)}[/]")
    console.print("weekday days off: " + ", ".join(off))
    console.print("weekend working days: " + ", ".join(on))


@app.command()
def init(
    unit_code: Annotated[str, typer.Option(help="code of the county unit")] = "county",
    unit_name: Annotated[str, typer.Option(help="name of the county unit")] = "县信访局",
    admin: Annotated[str, typer.Option(help="the administrator's user name")] = "admin",
) -> None:
    """Create the store, the county unit and the admin user; the password is read from stdin."""
    from api.security import MIN_PASSWORD, hash_password

    password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        console.print(f"[red]the admin password must have at least {MIN_PASSWORD} characters "
                      "(give it on standard input)[/]")
        raise typer.Exit(2)
    container = build()
    try:
        directory = container.directory
        if unit_code not in directory.units():
            directory.create_unit(code=unit_code, name=unit_name, level="county", parent=None,
                                  actor="init")
        if directory.user(admin) is not None:
            console.print(f"[red]user {admin} already exists; nothing changed[/]")
            raise typer.Exit(1)
        directory.create_user(username=admin, password_hash=hash_password(password), role="admin",
                              unit=unit_code, actor="init")
        console.print(f"Created unit {unit_code} and user {admin} on the {container.settings.store} store")
    except PetitionError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(2) from None
    finally:
        container.close()


@app.command()
def demo(
    cases: Annotated[int, typer.Option(min=1, max=100_000, help="how many petitions")] = 600,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same county")] = 2026,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="do nothing (exit 0) when the store already has units")] = False,
) -> None:
    """Fill a fresh store with a sample county, its staff and a year of petitions."""
    from petitions.demo import DemoRefused, report, run_demo

    settings = Settings()
    try:
        summary = run_demo(settings, cases, seed, console)
    except DemoRefused as refused:
        if if_empty:
            console.print(f"demo skipped: {refused}")
            return
        where = (f"PETITIONS_DATA_DIR (now {settings.data_dir})" if settings.store == "sqlite"
                 else f"PETITIONS_POSTGRES_SCHEMA (now {settings.postgres_schema or 'public'})")
        console.print(f"[red]demo refused: {refused}; it fills only a fresh store: choose another "
                      f"{where}[/]")
        raise typer.Exit(1) from None
    report(summary, settings, console)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default PETITIONS_HOST (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="default PETITIONS_PORT (8000)")] = None,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    container = build(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"petitions: serving on http://{bind_host}:{bind_port}  "
                  f"(API docs: http://{bind_host}:{bind_port}/docs; log in with "
                  f"POST /api/v1/auth/token)")
    scheduler = None
    if settings.store == "sqlite":  # embedded: the scheduler runs in-process
        from scheduler.runner import start_in_process

        scheduler = start_in_process(container)
    try:
        uvicorn.run(create_app(container), host=bind_host, port=bind_port, log_level="warning")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        container.close()


views_app = typer.Typer(help="Read models (views) kept by projections.")
app.add_typer(views_app, name="views")
VIEW_NAMES = ("case_list",)


@views_app.command("rebuild")
def views_rebuild(
    name: Annotated[str | None, typer.Argument(help=f"one of {', '.join(VIEW_NAMES)}; default all")] = None,
) -> None:
    """Empty views and rebuild them from the event store, with a progress bar."""
    from rich.progress import Progress

    from projections.runner import EmbeddedProjector

    if name is not None and name not in VIEW_NAMES:
        console.print(f"[red]no view named {name}; views: {', '.join(VIEW_NAMES)}[/]")
        raise typer.Exit(2)
    container = build()
    try:
        projector = container.projector or EmbeddedProjector(container.petitions, container.projection)
        total = container.petitions.recorder.max_notification_id() or 0
        with container.views.sole_projector(wait=False) as sole:
            if not sole:
                console.print("[red]a `petitions projector` is keeping these views: stop it, rebuild, "
                              "then start it again[/]")
                raise typer.Exit(1)
            with Progress(console=console) as progress:
                task = progress.add_task("case_list", total=total or 1)
                count = projector.rebuild(progress=lambda position: progress.update(task, completed=position))
                progress.update(task, completed=total or 1)
        console.print(f"rebuilt case_list from {count} events")
    finally:
        container.close()


@app.command()
def projector() -> None:
    """Keep the views up to date: follows the event store until stopped (one per deployment)."""
    import signal
    import threading

    from projections.runner import EmbeddedProjector, subscribe

    settings = Settings()
    container = build(settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        if container.projector is not None:  # SQLite: poll
            container.projector.start(interval=0.5)
            console.print("projector: following the SQLite store")
            while not stopping.wait(1):
                if container.projector.error is not None:
                    raise container.projector.error
            return
        console.print("projector: waiting for any other projector of these views to stop")
        with container.views.sole_projector(wait=True, stopping=stopping.is_set) as sole:
            if not sole:
                return  # stopped while standing by
            if container.views.position(container.petitions.name) == 0:
                # Empty views (a first start, an upgrade that changed their tables): made in memory
                # and loaded at once, far faster than following the history event by event.
                EmbeddedProjector(container.petitions, container.projection).catch_up()
            with subscribe(container.projection, event_store_env(settings)) as runner:
                console.print("projector: following the PostgreSQL store (LISTEN/NOTIFY)")
                while not stopping.is_set():
                    runner.run_forever(timeout=1)  # re-raises a projection error: exit non-zero
    except KeyboardInterrupt:
        pass
    finally:
        container.close()


scheduler_app = typer.Typer(help="Scheduled jobs: the deadline sweep.", invoke_without_command=True)
app.add_typer(scheduler_app, name="scheduler")


@scheduler_app.callback()
def scheduler_main(ctx: typer.Context,
                   minutes: Annotated[int, typer.Option(help="how often the jobs run")] = 15) -> None:
    """Run the jobs every few minutes until stopped; several processes may run, one acts."""
    if ctx.invoked_subcommand is not None:
        return
    from scheduler.runner import run_forever

    container = build()
    try:
        run_forever(container, minutes)
    except KeyboardInterrupt:
        pass
    finally:
        container.close()


@scheduler_app.command("run-once")
def scheduler_run_once() -> None:
    """Run every job once and exit (for operators and tests)."""
    from scheduler.runner import run_once

    container = build()
    try:
        done = run_once(container)
        console.print("scheduler: " + (", ".join(f"{k}: {v}" for k, v in done.items())
                                       or "another scheduler is acting; nothing done"))
    finally:
        container.close()


def main() -> None:
    """Entry point of the `petitions` script."""
    app()
