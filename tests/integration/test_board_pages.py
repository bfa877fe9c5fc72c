"""The board read a page at a time: filters and levels as shown decided in SQL, so no warning drops
out of a filtered or truncated read, during a sensitive period or not; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.errors import InvalidField
from domain.rules import SensitivePeriod, WarningRules
from projections.board_read import board_page
from tests.integration.test_board_rules import TZ, Board, MakeService


def every_page(b: Board, as_of: datetime, limit: int, **filters: Any) -> list[list[dict[str, Any]]]:
    """The board as of a moment, page by page, following the cursors to the end."""
    b.projector.catch_up()
    pages, cursor = [], None
    while True:
        page, cursor = board_page(b.projector.projection.view, "/county/", as_of if cursor is None else None,
                                  TZ, limit=limit, cursor=cursor, **filters)
        pages.append(page)
        if cursor is None:
            return pages


def key(w: dict[str, Any]) -> tuple[str, str, str]:
    return w["petition_id"], w["rule"], w["level"]


def an_office_with_an_old_red_warning(make_service: MakeService, tmp_path: Path) -> Board:
    """An urgent case (red), then a skip-level one (orange), then three repeats (yellow), in that order."""
    b = Board(make_service, tmp_path)
    b.register(1, urgent=True, category="roads")
    b.register(2, receiving_unit="county", location_unit="town1.v1", category="water")
    for category in ("land", "pension", "noise"):  # no three of one category: no hotspot
        b.register(3, category=category)
    return b


def test_an_older_red_warning_stays_on_a_short_red_read_during_a_sensitive_period(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """With a period on, ?level=red with room for two names both the skip-level case (raised to red)
    and the older urgent one, though three newer warnings stand; orange is the repeats raised."""
    b = an_office_with_an_old_red_warning(make_service, tmp_path)
    today = datetime.now(UTC).astimezone(TZ).date()
    period = SensitivePeriod("国庆", today - timedelta(days=1), today + timedelta(days=1))
    b.service.set_warning_rules(WarningRules(sensitive_periods=(period,)), actor="admin")
    red = b.read(level="red", limit=2)
    assert [w["rule"] for w in red] == ["skip_level", "urgent"]
    assert {w["rule"] for w in b.read(level="orange")} == {"repeat"} and len(b.read(level="orange")) == 2
    assert b.read(level="yellow") == [] and b.read(level="blue") == []


def test_pages_of_two_hold_the_whole_board_once_most_severe_first(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Outside a period and during one, pages of two follow one another to the board read whole, in
    the same order; a truncated page names the next; a later warning is not on a later page."""
    b = an_office_with_an_old_red_warning(make_service, tmp_path)
    moment = datetime.now(UTC)
    whole = b.read(moment)
    assert [w["level"] for w in whole] == ["red", "orange", "yellow", "yellow"]
    pages = every_page(b, moment, 2)
    b.register(4, urgent=True, category="roads")
    assert [len(p) for p in pages] == [2, 2]
    assert [key(w) for p in pages for w in p] == [key(w) for w in whole]
    today = moment.astimezone(TZ).date()
    period = SensitivePeriod("两会", today, today)
    b.service.set_warning_rules(WarningRules(sensitive_periods=(period,)), actor="admin")
    b.register(5, key_person=True, category="water")
    now = datetime.now(UTC)
    whole = b.read(now)
    assert [w["level"] for w in whole] == ["red", "red", "red", "orange", "orange", "yellow"]
    assert [key(w) for p in every_page(b, now, 2) for w in p] == [key(w) for w in whole]
    assert [key(w) for p in every_page(b, now, 1, level="red") for w in p] == [
        key(w) for w in whole if w["level"] == "red"]


def test_a_cursor_from_another_board_or_none_of_ours_is_refused_naming_it(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A made-up cursor, or one sent with an as_of other than its own, is refused naming `cursor`."""
    b = an_office_with_an_old_red_warning(make_service, tmp_path)
    view, moment = b.projector.projection.view, datetime.now(UTC)
    b.projector.catch_up()
    _, cursor = board_page(view, "/county/", moment, TZ, limit=1)
    assert cursor is not None
    assert board_page(view, "/county/", moment, TZ, limit=1, cursor=cursor)[0] == b.read(moment)[1:2]
    for bad, as_of in (("bm90IGEgY3Vyc29y", None), ("{}", None), (cursor, moment - timedelta(seconds=1))):
        with pytest.raises(InvalidField) as refused:
            board_page(view, "/county/", as_of, TZ, cursor=bad)
        assert refused.value.field == "cursor"
