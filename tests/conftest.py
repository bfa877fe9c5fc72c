"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.service import PetitionService
from tests.support import FakeClock, Office


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def office(clock: FakeClock) -> Iterator[Office]:
    """The petition service on in-memory storage, driven by the fake clock."""
    service = PetitionService({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    yield Office(service, clock)
    service.close()
