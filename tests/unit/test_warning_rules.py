"""The warning rule settings: defaults, validation naming the field, and changes kept as events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.errors import InvalidField
from domain.requests import AlreadyDone, RequestKey
from domain.rules import SensitivePeriod, WarningRules
from tests.support import Office

NATIONAL_DAY = SensitivePeriod("国庆", date(2026, 10, 1), date(2026, 10, 7))


def test_unset_rules_are_the_domain_pages_defaults(office: Office) -> None:
    """Before any administrator sets them, the service answers the documented defaults."""
    rules = office.service.warning_rules()
    assert rules == WarningRules()
    assert (rules.due_soon_days, rules.due_soon_share, rules.supervision_grace_days,
            rules.revisit_remind_days) == (3, 0.2, 15, 3)
    assert (rules.group_orange, rules.group_red, rules.repeat_days, rules.hotspot_count,
            rules.hotspot_days, rules.after_final_days, rules.sensitive_periods) == (5, 50, 30, 3, 7, 30, ())


def test_a_change_is_recorded_and_the_old_rules_stay_readable_as_of_before_it(office: Office) -> None:
    """The rules as of a moment before a change are the rules then; now they are the new ones."""
    first = WarningRules(repeat_days=20)
    office.service.set_warning_rules(first, actor="admin1")
    between = datetime.now(UTC)
    second = WarningRules(repeat_days=10, sensitive_periods=(NATIONAL_DAY,))
    assert office.service.set_warning_rules(second, actor="admin1") is not None
    assert office.service.warning_rules() == second
    assert office.service.warning_rules(as_of=between) == first
    assert office.service.warning_rules(as_of=datetime(2000, 1, 1, tzinfo=UTC)) == WarningRules()
    assert office.service.warning_rules(version=1) == first


def test_a_keyed_change_retried_records_nothing_new(office: Office) -> None:
    """The same Idempotency-Key answers AlreadyDone with the version the first request left."""
    key = RequestKey("admin1", "k1", "fingerprint")
    office.service.set_warning_rules(WarningRules(hotspot_count=4), actor="admin1", request=key)
    with pytest.raises(AlreadyDone) as done:
        office.service.set_warning_rules(WarningRules(hotspot_count=4), actor="admin1", request=key)
    assert done.value.record.version == 1
    assert office.service.warning_rules().hotspot_count == 4


@pytest.mark.parametrize("changes, field", [
    ({"repeat_days": 0}, "repeat_days"),
    ({"hotspot_count": "3"}, "hotspot_count"),
    ({"due_soon_share": 1.5}, "due_soon_share"),
    ({"group_orange": 10, "group_red": 8}, "group_red"),
    ({"group_orange": True}, "group_orange"),
    ({"sensitive_periods": [{"name": "两会", "start": "2026-03-10", "end": "2026-03-01"}]},
     "sensitive_periods[0].end"),
    ({"sensitive_periods": [{"name": " ", "start": "2026-03-01", "end": "2026-03-10"}]},
     "sensitive_periods[0].name"),
    ({"sensitive_periods": [{"name": "两会", "start": "March", "end": "2026-03-10"}]},
     "sensitive_periods[0].start"),
    ({"hotspot_size": 3}, "hotspot_size"),
])
def test_bad_settings_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    """Each bad value is an InvalidField whose message starts with the field's name."""
    with pytest.raises(InvalidField) as refused:
        WarningRules.from_dict({**WarningRules().to_dict(), **changes})
    assert refused.value.field == field and str(refused.value).startswith(field)


def test_settings_survive_their_plain_form() -> None:
    """to_dict and from_dict are inverse, periods included."""
    rules = WarningRules(hotspot_days=5, sensitive_periods=(NATIONAL_DAY,))
    assert WarningRules.from_dict(rules.to_dict()) == rules
    assert rules.periods_on(date(2026, 10, 7)) == [NATIONAL_DAY]
    assert rules.periods_on(date(2026, 10, 8)) == []
