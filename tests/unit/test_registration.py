"""What reception types in is checked before anything is recorded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.errors import InvalidField
from domain.requests import AlreadyDone, KeyReused, RequestKey
from domain.service import PetitionService
from tests.support import ID_NUMBER, START, FakeClock, Office, registration


def person(**fields: Any) -> dict[str, Any]:
    """One petitioner with a name and the given extra fields."""
    return {"name": "李四", **fields}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"petitioners": [person(id_number=ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"))]},
         "petitioners[0].id_number"),
        ({"petitioners": [person(id_number="11010519490230002X")]}, "petitioners[0].id_number"),
        ({"petitioners": [person(id_number="1234")]}, "petitioners[0].id_number"),
        ({"petitioners": [person(phone="12345")]}, "petitioners[0].phone"),
        ({"petitioners": [person(address="  ")]}, None),  # blank optional field is simply absent
        ({"petitioners": [person(name=" ")]}, "petitioners[0].name"),
        ({"petitioners": []}, "petitioners"),
        ({"petitioners": [person()] * 6, "headcount": 60}, "petitioners"),
        ({"petitioners": [person(), person()], "headcount": 1}, "headcount"),
        ({"headcount": 0}, "headcount"),
        ({"channel": "fax"}, "channel"),
        ({"summary": ""}, "summary"),
        ({"category": "x" * 65}, "category"),
        ({"received_at": START.replace(tzinfo=None)}, "received_at"),
        ({"petitioners": [person(email="a@b")]}, "petitioners[0]"),
    ],
)
def test_bad_registration_is_refused_naming_the_field(
    office: Office, overrides: dict[str, Any], field: str | None
) -> None:
    """Each wrong field is named in the refusal, and no case is recorded."""
    fields = registration(**overrides)
    if field is None:
        assert office.service.register(**fields).petition.petitioners[0]["address"] is None
        return
    with pytest.raises(InvalidField) as refused:
        office.service.register(**fields)
    assert refused.value.field == field
    assert ID_NUMBER not in str(refused.value)
    assert office.service.recorder.max_notification_id() in (None, 0)


def test_letters_may_lack_id_phone_and_address(office: Office) -> None:
    """Only a name is required of a petitioner."""
    petition = office.service.register(**registration(petitioners=[person()])).petition
    assert petition.petitioners == [{"name": "李四", "id_number": None, "phone": None, "address": None}]


def test_a_group_records_at_most_five_representatives(office: Office) -> None:
    """Fifty people may come; five representatives are recorded."""
    petition = office.service.register(
        **registration(petitioners=[person(name=f"代表{i}") for i in range(5)], headcount=50)
    ).petition
    assert petition.headcount == 50 and len(petition.petitioners) == 5


def test_registration_in_the_future_is_refused(office: Office) -> None:
    """Registration time, like every business time, cannot be later than now."""
    with pytest.raises(InvalidField, match="at: is in the future"):
        office.service.register(**registration(at=START + timedelta(hours=1)))
    with pytest.raises(InvalidField, match="received_at: is later than the registration"):
        office.service.register(**registration(received_at=START + timedelta(minutes=1), at=START))


def test_a_new_petition_on_a_final_matter_is_declined_with_a_link(office: Office) -> None:
    """The same matter after re-review is not taken up again; the new case links the old one."""
    old = office.case_in("final")
    office.clock.advance(days=1)
    receipt = office.service.register(**registration(received_at=office.clock.now,
                                                     same_matter_as=office.service.get(old).case_number))
    petition = receipt.petition
    assert petition.status == "declined"
    assert petition.related_case_id == str(old)
    assert petition.related_case_number == office.service.get(old).case_number
    assert "settled finally" in (petition.outcome or "")


def test_a_linked_matter_still_open_is_registered_normally(office: Office) -> None:
    """A link to an open case is kept, and the new case proceeds."""
    old = office.case_in("accepted")
    petition = office.service.register(
        **registration(received_at=office.clock.now, same_matter_as=old)
    ).petition
    assert petition.status == "registered" and petition.related_case_id == str(old)


def test_receipt_code_opens_the_case_and_nothing_else_does(office: Office) -> None:
    """The code printed on the receipt is checked against a digest; a wrong code finds nothing."""
    receipt = office.service.register(**registration())
    number = receipt.petition.case_number
    assert office.service.check_access_code(number, receipt.access_code.lower()) is not None
    assert office.service.check_access_code(number, "WRONG123") is None
    assert office.service.check_access_code("XF-2026-999999", receipt.access_code) is None
    assert receipt.access_code not in repr(receipt.petition.__dict__)


def test_age_and_silence_clocks_run_beside_the_stage_clocks(office: Office) -> None:
    """The case's age counts from receipt; silence from the last contact with the petitioner."""
    pid = office.case_in("assigned")
    office.do("accept", pid, wait=4)  # acceptance is told to the petitioner on 2026-09-05
    office.do("add_note", pid, wait=3, text="走访", kind="investigation")  # not a contact
    petition = office.service.get(pid)
    today = date(2026, 9, 21)
    assert petition.age_days(today) == 20
    assert petition.silent_days(today) == 16


def test_keyed_receipt_codes_can_be_printed_again(clock: FakeClock) -> None:
    """With a receipt key the same code is made again for a retried registration; never otherwise."""
    keyed = PetitionService({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock,
                            receipt_key=b"k" * 32)
    receipt = keyed.register(**registration())
    assert keyed.receipt_code(receipt.petition) == receipt.access_code
    plain = PetitionService({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    assert plain.receipt_code(plain.register(**registration()).petition) is None


def test_a_retried_registration_takes_no_case_number(office: Office) -> None:
    """The retry answers as the first did; the next new case gets the very next number."""
    key = RequestKey(caller="reception1", key="k-1", fingerprint="a" * 64, status_code=201)
    first = office.service.register(**registration(), request=key)
    with pytest.raises(AlreadyDone):
        office.service.register(**registration(), request=key)
    with pytest.raises(KeyReused):
        office.service.register(**registration(), request=RequestKey(
            caller="reception1", key="k-1", fingerprint="b" * 64, status_code=201))
    second = office.service.register(**registration())
    assert (first.petition.case_number, second.petition.case_number) == (
        "XF-2026-000001", "XF-2026-000002")


def test_a_received_time_outside_the_years_offices_keep_is_refused(office: Office) -> None:
    """The service itself refuses year 1 (not only the HTTP layer): no event could poison a view."""
    with pytest.raises(InvalidField, match="received_at: must lie between the years 1990 and 2100"):
        office.service.register(**registration(received_at=START.replace(year=1)))
