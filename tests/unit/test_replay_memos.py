"""What a replay remembers to go faster gives the same answers as working them out each time."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from eventsourcing.domain import CanInitAggregate

from domain.events import Registered
from domain.petition import Petition
from projections.board_rules import BoardRules
from tests.support import Office


def test_one_moment_asked_for_in_two_time_zones_gives_each_zone_its_own_date(office: Office) -> None:
    """The office date of the moment asked for last is remembered, but only for its time zone."""
    shanghai = office.service.get(office.register())
    utc_office = copy.copy(shanghai)
    utc_office.timezone = "UTC"
    evening = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)  # already 2 January in Shanghai
    assert shanghai.office_date(evening) == date(2026, 1, 2)
    assert utc_office.office_date(evening) == date(2026, 1, 1)
    assert shanghai.office_date(evening) == date(2026, 1, 2)
    assert shanghai.office_date(datetime(2026, 1, 1, 15, 0, tzinfo=UTC)) == date(2026, 1, 1)


def test_a_visit_is_judged_skip_level_once_its_unknown_unit_is_added(office: Office) -> None:
    """A visit on a matter of a unit the directory does not know yet raises no skip-level warning;
    once the unit is added as a village, the same visit to the county does."""
    levels = {"county": "county"}
    rules = BoardRules(lambda code: f"/{code}/", levels.get, None)
    visit = office.service.get(office.register(location_unit="county/town1/v1"))
    assert ("skip_level", "orange") not in rules.standing(visit)
    levels["county/town1/v1"] = "village"
    assert ("skip_level", "orange") in rules.standing(visit)
    letter = office.service.get(office.register(location_unit="county/town1/v1", channel="letter"))
    assert ("skip_level", "orange") not in rules.standing(letter)


def test_a_registration_replays_to_the_petition_the_library_would_make(office: Office) -> None:
    """Registered.mutate names the petition's fields itself; what it makes is what the library's
    own CanInitAggregate.mutate makes of the same event, attribute for attribute."""
    pid = office.register()
    registered = next(iter(office.service.events.get(pid)))
    assert isinstance(registered, Registered)

    ours, libraries = registered.mutate(None), CanInitAggregate.mutate(registered, None)

    assert isinstance(ours, Petition) and isinstance(libraries, Petition)
    assert vars(ours) == vars(libraries)
    assert ours.case_number and ours.status == "registered" and ours.version == 1
