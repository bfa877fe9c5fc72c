"""The early-warning rule settings an administrator may change (预警规则), kept as events."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain import intake
from domain.errors import Conflict, InvalidField
from domain.requests import RequestKey, check_request, save_with_request

if TYPE_CHECKING:
    from eventsourcing.application import Application

RULES_ID = uuid5(NAMESPACE_URL, "petitions:warning-rules")
# Upper bounds keep a typo (3000 days) from silently switching a rule off.
_INT_LIMITS = {
    "due_soon_days": (0, 60), "group_orange": (2, 100000), "group_red": (2, 100000),
    "repeat_days": (1, 365), "hotspot_count": (2, 1000), "hotspot_days": (1, 90),
    "after_final_days": (1, 365), "supervision_grace_days": (0, 90), "revisit_remind_days": (0, 90),
}
MAX_PERIODS = 50


@dataclass(frozen=True)
class SensitivePeriod:
    """A configured sensitive period (敏感时期), both days included, in the office's dates."""

    name: str
    start: date
    end: date

    def covers(self, day: date) -> bool:
        """True when `day` falls within the period."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class WarningRules:
    """Thresholds of the warning rules, with the domain page's defaults."""

    due_soon_days: int = 3
    due_soon_share: float = 0.2
    group_orange: int = 5
    group_red: int = 50
    repeat_days: int = 30
    hotspot_count: int = 3
    hotspot_days: int = 7
    after_final_days: int = 30
    supervision_grace_days: int = 15
    revisit_remind_days: int = 3
    sensitive_periods: tuple[SensitivePeriod, ...] = field(default=())

    def __post_init__(self) -> None:
        for name, (low, high) in _INT_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidField(name, f"must be a whole number from {low} to {high}")
        share = self.due_soon_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidField("due_soon_share", "must be a fraction from 0 to 1 (0.2 is 20 %)")
        if self.group_red < self.group_orange:
            raise InvalidField("group_red", "must not be below group_orange")
        if len(self.sensitive_periods) > MAX_PERIODS:
            raise InvalidField("sensitive_periods", f"at most {MAX_PERIODS} periods")
        for i, period in enumerate(self.sensitive_periods):
            where = f"sensitive_periods[{i}]"
            if not isinstance(period, SensitivePeriod):
                raise InvalidField(where, "must have a name, a start date and an end date")
            if not isinstance(period.name, str) or not 1 <= len(period.name.strip()) <= 100:
                raise InvalidField(f"{where}.name", "must be 1-100 characters")
            for part in ("start", "end"):
                if not isinstance(getattr(period, part), date) or isinstance(getattr(period, part), datetime):
                    raise InvalidField(f"{where}.{part}", "must be a date (YYYY-MM-DD)")
            if period.end < period.start:
                raise InvalidField(f"{where}.end", "must not be before the start")

    def periods_on(self, day: date) -> list[SensitivePeriod]:
        """The sensitive periods covering `day`."""
        return [p for p in self.sensitive_periods if p.covers(day)]

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (dates as ISO strings)."""
        data = asdict(self)
        data["sensitive_periods"] = [
            {"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
            for p in self.sensitive_periods
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarningRules:
        """Settings from `to_dict`'s form (unknown keys refused, missing ones defaulted)."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidField(str(key), "is not a warning rule setting")
        values = dict(data)
        periods = []
        for i, raw in enumerate(values.pop("sensitive_periods", None) or ()):
            where = f"sensitive_periods[{i}]"
            if not isinstance(raw, dict):
                raise InvalidField(where, "must have a name, a start date and an end date")
            try:
                periods.append(SensitivePeriod(
                    raw.get("name"), _day(raw.get("start"), f"{where}.start"),  # type: ignore[arg-type]
                    _day(raw.get("end"), f"{where}.end")))
            except TypeError:
                raise InvalidField(where, "must have a name, a start date and an end date") from None
        return cls(**values, sensitive_periods=tuple(periods))


def _day(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidField(where, "must be a date (YYYY-MM-DD)") from None


class WarningRuleSettings(Aggregate):
    """The one record of the rule settings; each change is an event, so any past setting is known."""

    @event("Created")
    def __init__(self, rules: dict[str, Any], actor: str) -> None:
        self.rules = rules
        self.changed_by = actor

    @staticmethod
    def create_id() -> UUID:
        """The settings' fixed id: there is one set of rules per office."""
        return RULES_ID

    @event("Changed")
    def change(self, rules: dict[str, Any], actor: str) -> None:
        """Replace the settings."""
        self.rules = rules
        self.changed_by = actor

    @property
    def current(self) -> WarningRules:
        """The settings as a value."""
        return WarningRules.from_dict(self.rules)


RULES_CACHE_SECONDS = 2.0
RULES_TOPICS = (f"{__name__}:WarningRuleSettings.Created", f"{__name__}:WarningRuleSettings.Changed")


class WarningRuleCommands:
    """Mixed into the petition service: the rule settings are saved in its store, so their events
    are in the notification log the board's projection follows (a rebuild sees each change in order)."""

    def set_warning_rules(self, rules: WarningRules, *, actor: str,
                          request: RequestKey | None = None) -> int | None:
        """Replace the rule settings (admin); returns the notification id of the save."""
        app = cast("Application[UUID]", self)
        check_request(app, request)
        if not isinstance(rules, WarningRules):
            raise InvalidField("rules", "must be warning rule settings")
        actor = intake.text(actor, "actor", max_length=100)
        settings: WarningRuleSettings
        try:
            settings = cast(WarningRuleSettings, app.repository.get(RULES_ID))
            settings.change(rules.to_dict(), actor)
        except AggregateNotFoundError:
            settings = WarningRuleSettings(rules.to_dict(), actor)
        try:
            recordings = save_with_request(app, request, settings)
        except IntegrityError:
            raise Conflict("the rule settings were changed by someone else at the same moment; "
                           "reload them and try again") from None
        self._rules_cache = (time.monotonic(), settings.current)
        return recordings[-1].notification.id if recordings else None

    def warning_rules(self, as_of: datetime | None = None, *, version: int | None = None) -> WarningRules:
        """The settings now, as recorded by `as_of` (record time), or at a version; defaults if never set.

        The current settings are read from the store at most every RULES_CACHE_SECONDS (every case
        answer shows its warnings by them, so a store read each time would cost every request a
        round trip); a change made in this process is seen at once, elsewhere within that time."""
        app = cast("Application[UUID]", self)
        if as_of is None and version is None:
            cached: tuple[float, WarningRules] | None = getattr(self, "_rules_cache", None)
            now = time.monotonic()
            if cached is not None and now - cached[0] < RULES_CACHE_SECONDS:
                return cached[1]
            current = self._stored_rules(app, None)
            self._rules_cache = (now, current)
            return current
        if as_of is not None:
            as_of = intake.aware(as_of, "as_of")
            version = 0
            for stored in app.events.get(RULES_ID):  # a handful of changes, ever
                if cast(datetime, stored.timestamp) > as_of:  # type: ignore[attr-defined]
                    break
                version = stored.originator_version
            if version == 0:
                return WarningRules()
        return self._stored_rules(app, version)

    @staticmethod
    def _stored_rules(app: Application[UUID], version: int | None) -> WarningRules:
        try:
            found: object = app.repository.get(RULES_ID, version=version)
        except AggregateNotFoundError:
            return WarningRules()
        return cast(WarningRuleSettings, found).current
