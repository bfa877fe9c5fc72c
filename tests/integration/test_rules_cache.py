"""The current warning rules are cached briefly: at once in the process that changed them, within
the cache time in another process (every case answer reads them, so not from the store each time)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain import rules as rules_module
from domain.rules import WarningRules
from domain.service import PetitionService


def test_another_process_sees_a_rules_change_once_its_cache_expires(
        make_service: Callable[..., PetitionService], monkeypatch: pytest.MonkeyPatch) -> None:
    """Process A changes the rules; A sees it at once; B keeps its copy until the cache expires."""
    a, b = make_service(), make_service()
    assert b.warning_rules().hotspot_count == 3  # B reads (and caches) the defaults
    a.set_warning_rules(WarningRules(hotspot_count=4), actor="admin")
    assert a.warning_rules().hotspot_count == 4
    assert b.warning_rules().hotspot_count == 3  # still cached in B
    monkeypatch.setattr(rules_module, "RULES_CACHE_SECONDS", 0.0)
    assert b.warning_rules().hotspot_count == 4  # expired: B reads the store again
