"""`petitions demo`: a fresh store filled with a sample county and a year of its petitions."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from uuid import UUID

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.security import hash_password
from domain.petition import Petition
from domain.service import PetitionService
from petitions import demo_data as data
from petitions.bootstrap import build
from petitions.demo_plan import STATUSES, CasePlan, Planner, Step
from petitions.settings import Settings

DEMO_PASSWORD = "qingshan-demo"
_SLACK = timedelta(minutes=1)


class DemoRefused(Exception):
    """The demo would mix invented cases into a store that is in use."""


class DemoClock:
    """The service's clock: now, except while a sweep records a miss on the day after it happened."""

    def __init__(self) -> None:
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC)


@dataclass
class Summary:
    """What the demo created."""

    seconds: float = 0.0
    units: Counter[str] = field(default_factory=Counter)
    users: dict[str, list[str]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    overlays: Counter[str] = field(default_factory=Counter)

    def count(self, petition: Petition) -> None:
        """Add one finished case to the figures."""
        self.statuses[petition.status] += 1
        self.channels[petition.channel] += 1
        missed = [d for d in petition.deadlines if d.status == "missed"]
        for name, present in (
            ("group petitions (≥ 5 people)", petition.headcount >= 5),
            ("urgent", petition.urgent), ("key person", petition.key_person),
            ("escalated", bool(petition.escalations)), ("supervised", bool(petition.supervisions)),
            ("package leader", petition.package_leader is not None),
            ("extended", petition.extension is not None),
            ("clock suspended now", any(d.status == "suspended" for d in petition.deadlines)),
            ("office deadline missed", any(not d.is_petitioner_window for d in missed)),
            ("petitioner window lapsed", any(d.is_petitioner_window for d in missed)),
            ("revisited", petition.revisits > 0), ("rated", bool(petition.ratings)),
            ("declined as final matter", petition.related_case_number is not None),
        ):
            self.overlays[name] += bool(present)


class Runner:
    """Records planned cases through the petition service, step by step in business time."""

    def __init__(self, service: PetitionService, clock: DemoClock, rng: random.Random) -> None:
        self.service, self.clock, self.rng = service, clock, rng
        self.tz = service.policy.tz
        self.ids: dict[int, UUID] = {}

    def run(self, plan: CasePlan) -> Petition:
        """Register the case, carry out its steps, and record the deadlines it has missed."""
        latest = datetime.now(UTC) - _SLACK
        related = self.ids[id(plan.repeat_of)] if plan.repeat_of is not None else None
        receipt = self.service.register(received_at=plan.received, same_matter_as=related,
                                        at=min(plan.received + plan.registered_after, latest),
                                        **plan.register)
        petition = receipt.petition
        self.ids[id(plan)] = petition.id
        for step in plan.steps:
            at = self.when(plan, step, petition)
            if at is None:
                break
            petition = self.catch_up(petition, at)
            command = getattr(self.service, step.command)
            petition = command(petition.id, at=at, actor=step.actor, **step.args).petition
        return self.catch_up(petition, datetime.now(UTC))

    def when(self, plan: CasePlan, step: Step, petition: Petition) -> datetime | None:
        """The business time of a step: its planned day in office hours, after the case's last step."""
        day = plan.received.astimezone(self.tz).date() + timedelta(days=step.day)
        at = self.office_hours(day)
        if step.after_window:
            window = petition.current("review_request" if petition.tier == 0 else "rereview_request")
            if window is not None:
                at = max(at, self.office_hours(window.due + timedelta(days=1)))
        if at <= petition.last_at:
            at = petition.last_at + timedelta(minutes=self.rng.randint(5, 90))
        latest = datetime.now(UTC) - _SLACK
        if at > latest:
            if step.after_window:
                return None  # the window has not ended yet: the case stays served
            at = max(petition.last_at, latest)
        return at

    def office_hours(self, day: date) -> datetime:
        """A random time between 08:30 and 17:30 on `day` in the office's time zone."""
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, clock_time(minutes // 60, minutes % 60), self.tz)

    def catch_up(self, petition: Petition, until: datetime) -> Petition:
        """Record each deadline missed before `until` at 01:00 on the day after it, as the scheduler does."""
        today = self.service.policy.office_date(until)
        while overdue := petition.overdue_unrecorded(today):
            day = min(petition.deadlines[i].due for i in overdue) + timedelta(days=1)
            swept = datetime.combine(day, clock_time(1, 0), self.tz)
            self.clock.frozen = max(petition.last_at, min(swept, until))
            try:
                petition = self.service.record_missed_deadlines(petition.id, today=day).petition
            finally:
                self.clock.frozen = None
        return petition


def create_directory(settings: Settings, county: data.County, summary: Summary,
                     progress: Progress) -> None:
    """The units of the sample county and its staff, all with the demo password."""
    container = build(settings)
    try:
        if container.settings.mode == "production":
            raise DemoRefused("the demo invents cases and shares one password: not in production mode")
        existing = container.directory.units()
        if existing:
            raise DemoRefused(f"the store already has {len(existing)} unit(s)")
        task = progress.add_task("units and staff", total=len(county.units) + len(county.staff))
        for place in county.units:
            container.directory.create_unit(code=place.code, name=place.name, level=place.level,
                                            parent=place.parent, actor="demo")
            summary.units[place.level] += 1
            progress.advance(task)
        hashed = hash_password(DEMO_PASSWORD)
        for username, (role, unit) in county.staff.items():
            container.directory.create_user(username=username, password_hash=hashed, role=role,
                                            unit=unit, actor="demo")
            summary.users.setdefault(role, []).append(username)
            progress.advance(task)
    finally:
        container.close()


def run_demo(settings: Settings, cases: int, seed: int, console: Console) -> Summary:
    """Fill a fresh store; raises DemoRefused when the store already has units."""
    started = time.perf_counter()
    summary, county, clock = Summary(), data.sample_county(), DemoClock()
    columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        create_directory(settings, county, summary, progress)
        container = build(settings, clock=clock)
        try:
            rng = random.Random(seed)
            plans = Planner(rng, county, datetime.now(UTC), container.petitions.policy.tz).plan(cases)
            runner = Runner(container.petitions, clock, random.Random(seed + 1))
            task = progress.add_task("petitions", total=len(plans))
            for plan in plans:
                summary.count(runner.run(plan))
                progress.advance(task)
        finally:
            container.close()
    summary.seconds = time.perf_counter() - started
    return summary


def report(summary: Summary, settings: Settings, console: Console) -> None:
    """Print what was created, the staff by role, the password and where to log in."""
    where = (f"SQLite under {settings.data_dir}" if settings.store == "sqlite"
             else f"PostgreSQL {settings.postgres_dbname}/{settings.postgres_schema or 'public'}")
    console.print(f"\n[bold]{data.COUNTY[1]}[/] demo: {sum(summary.statuses.values())} petitions, "
                  f"{sum(summary.units.values())} units, {sum(map(len, summary.users.values()))} users "
                  f"in {summary.seconds:.1f} s on {where}")
    figures = Table(title="petitions")
    for column in ("status", "cases", "", "channel / overlay", "cases "):
        figures.add_column(column, justify="right" if column.startswith("cases") else "left")
    right = [*summary.channels.most_common(), *summary.overlays.items()]
    for i in range(max(len(STATUSES), len(right))):
        status = STATUSES[i] if i < len(STATUSES) else ""
        name, n = right[i] if i < len(right) else ("", "")
        figures.add_row(status, str(summary.statuses[status]) if status else "", "", name, str(n))
    console.print(figures)
    staff = Table(title="staff (units: " + ", ".join(f"{n} {lvl}" for lvl, n in summary.units.items()) + ")")
    staff.add_column("role")
    staff.add_column("users")
    for role, names in summary.users.items():
        staff.add_row(role, ", ".join(names))
    console.print(staff)
    base = f"http://{settings.host}:{settings.port}"
    console.print(f"Every user's password: [bold]{DEMO_PASSWORD}[/]\n"
                  f"Start the server with `petitions serve`, open {base}/docs and log in with "
                  f"POST /api/v1/auth/token (e.g. reception.{data.COUNTY[0]}, handler.dongqiao, "
                  f"leader.{data.COUNTY[0]}, auditor, admin).")
