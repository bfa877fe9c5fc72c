"""Every transition of the petition lifecycle, on in-memory persistence."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.errors import ActionNotAllowed, CaseNotFound, InvalidField
from tests.support import START, STEPS, Office


def test_registration_opens_the_triage_clock_and_names_the_registrar(office: Office) -> None:
    """A new case is registered, its registrar responsible, with a 15-day triage clock."""
    petition = office.service.get(office.register())
    assert petition.status == "registered"
    assert petition.case_number == "XF-2026-000001"
    assert (petition.responsible_unit, petition.responsible_person) == ("county", "reception1")
    [triage] = petition.deadlines
    assert (triage.clock, triage.starts, triage.due, triage.status) == (
        "triage", date(2026, 9, 1), date(2026, 9, 16), "open"
    )
    assert "art. 21" in triage.rule and "2026: holidays" in triage.calendar


def test_case_numbers_count_up_within_a_year(office: Office) -> None:
    """Each registration takes the next serial of its year of receipt."""
    numbers = [office.service.get(office.register()).case_number for _ in range(3)]
    assert numbers == ["XF-2026-000001", "XF-2026-000002", "XF-2026-000003"]
    assert office.service.get("XF-2026-000002").case_number == "XF-2026-000002"


@pytest.mark.parametrize("mode, status", [("forward", "forwarded"), ("assign", "assigned")])
def test_routing_meets_triage_and_starts_the_acceptance_clock(
    office: Office, mode: str, status: str
) -> None:
    """Forwarding or assigning meets the triage clock and starts a 15-day acceptance clock."""
    pid = office.register()
    petition = office.do("assign", pid, actor="reception1", wait=2, unit="county/town1",
                         person="handler1", mode=mode)
    assert petition.status == status
    assert (petition.responsible_unit, petition.responsible_person) == ("county/town1", "handler1")
    triage, acceptance = petition.deadlines
    assert triage.status == "met"
    assert (acceptance.clock, acceptance.starts, acceptance.status) == (
        "acceptance", date(2026, 9, 3), "open"
    )
    assert acceptance.due == date(2026, 9, 18)


def test_first_inquiry_registrar_stays_responsible_until_someone_accepts(office: Office) -> None:
    """Forwarding to a unit without naming a person leaves the registrar named, until acceptance."""
    pid = office.register()
    petition = office.do("assign", pid, actor="reception1", unit="county/town1", person=None,
                         mode="forward")
    assert petition.responsible_person == "reception1"
    petition = office.do("accept", pid, actor="handler7")
    assert petition.responsible_person == "handler7"


def test_redirect_ends_the_case(office: Office) -> None:
    """Redirecting tells the petitioner where to go and ends the case."""
    pid = office.register()
    petition = office.do("redirect", pid, actor="reception1", to="县人民法院", reason="属诉讼事项")
    assert petition.status == "redirected" and not petition.is_open
    assert petition.deadlines[0].status == "met"
    with pytest.raises(ActionNotAllowed, match="cannot add a note"):
        office.do("add_note", pid, text="x", kind="other")


@pytest.mark.parametrize("status", ["registered", "forwarded", "assigned"])
def test_decline_ends_the_case_from_triage_or_acceptance(office: Office, status: str) -> None:
    """A case can be declined at triage or by the unit it was sent to."""
    petition = office.do("decline", office.case_in(status), reason="不属于信访事项")
    assert petition.status == "declined"
    assert all(not d.is_running for d in petition.deadlines)


def test_accept_starts_the_sixty_day_handling_clock(office: Office) -> None:
    """Acceptance meets the acceptance clock and starts 60 days of handling."""
    pid = office.case_in("assigned")
    petition = office.do("accept", pid, wait=5)
    handling = petition.current("handling")
    assert petition.status == "accepted" and petition.current("acceptance").status == "met"
    assert handling is not None
    # Accepted on 2026-09-06 (+08:00); 60 days later is Thursday 2026-11-05.
    assert (handling.starts, handling.due) == (date(2026, 9, 6), date(2026, 11, 5))


@pytest.mark.parametrize(
    "status, command, kwargs",
    [
        ("registered", "accept", {}),
        ("registered", "reply", {"opinion": "support", "text": "x"}),
        ("accepted", "assign", {"unit": "u", "person": None, "mode": "assign"}),
        ("accepted", "redirect", {"to": "court", "reason": "r"}),
        ("accepted", "decline", {"reason": "r"}),
        ("assigned", "serve", {}),
        ("replied", "rate", {"satisfaction": "satisfied"}),
        ("replied", "request_review", {"reason": "r"}),
        ("served", "decide_review", {"opinion": "support", "text": "x"}),
        ("served", "request_rereview", {"reason": "r"}),
        ("review_requested", "decide_rereview", {"opinion": "support", "text": "x"}),
        ("accepted", "revisit", {"outcome": "ok", "text": "x"}),
        ("accepted", "close_case", {"reason": "r"}),
        ("registered", "extend", {"days": 10, "reason": "r", "approved_by": "leader1"}),
    ],
)
def test_actions_that_do_not_fit_the_state_are_refused_and_record_nothing(
    office: Office, status: str, command: str, kwargs: dict[str, Any]
) -> None:
    """An action out of turn raises a named error and leaves the case as it was."""
    pid = office.case_in(status)
    before = office.service.get(pid).version
    with pytest.raises(ActionNotAllowed, match=r"cannot|only after|already"):
        office.do(command, pid, **kwargs)
    assert office.service.get(pid).version == before


def test_extension_is_granted_once_and_moves_the_handling_deadline(office: Office) -> None:
    """One extension of at most 30 days moves the handling deadline; a second is refused."""
    pid = office.case_in("accepted")
    due = office.service.get(pid).current("handling").due  # type: ignore[union-attr]
    petition = office.do("extend", pid, days=30, reason="案情复杂", approved_by="leader1")
    extended = petition.current("handling")
    assert extended.extension_days == 30
    assert extended.due == office.service.policy.calendar.due_date(extended.starts, 90) > due
    assert petition.extension == {"days": 30, "reason": "案情复杂", "by": "leader1"}
    with pytest.raises(ActionNotAllowed, match="already been extended once; the law allows one"):
        office.do("extend", pid, days=1, reason="again", approved_by="leader1")


@pytest.mark.parametrize("days", [0, 31, -1])
def test_extension_outside_one_to_thirty_days_is_refused(office: Office, days: int) -> None:
    """The law allows at most 30 days of extension."""
    pid = office.case_in("accepted")
    with pytest.raises(InvalidField, match="days"):
        office.do("extend", pid, days=days, reason="r", approved_by="leader1")


def test_suspension_moves_the_deadline_by_the_days_it_stood_still(office: Office) -> None:
    """A clock suspended for 10 days comes due 10 days (moved to a working day) later."""
    pid = office.case_in("accepted")
    handling = office.service.get(pid).current("handling")
    petition = office.do("suspend_clock", pid, reason="等待补充材料")
    assert petition.current("handling").status == "suspended"
    petition = office.do("resume_clock", pid, wait=10, reason="材料已补齐")
    resumed = petition.current("handling")
    assert resumed.status == "open" and resumed.suspended_days == 10
    assert resumed.due == office.service.policy.calendar.due_date(handling.starts, 70)  # type: ignore[union-attr]


def test_suspend_and_resume_need_a_clock_to_act_on(office: Office) -> None:
    """Resuming with nothing suspended, or suspending twice, is refused."""
    pid = office.case_in("accepted")
    with pytest.raises(ActionNotAllowed, match="no clock of this case is suspended"):
        office.do("resume_clock", pid, reason="r")
    office.do("suspend_clock", pid, reason="听证")
    with pytest.raises(ActionNotAllowed, match="no clock of this case is running"):
        office.do("suspend_clock", pid, reason="again")


def test_reply_and_service_open_the_review_window(office: Office) -> None:
    """The reply meets the handling clock; service opens a 30-day review request window."""
    pid = office.case_in("replied")
    assert office.service.get(pid).current("handling").status == "met"  # type: ignore[union-attr]
    petition = office.do("serve", pid)
    window = petition.current("review_request")
    assert petition.status == "served" and window is not None and window.is_petitioner_window
    assert (window.due - window.starts).days >= 30


def test_review_and_rereview_lead_to_a_final_case_with_a_revisit_clock(office: Office) -> None:
    """Review, its service, then re-review make the case final and start the revisit clock."""
    pid = office.case_in("final")
    petition = office.service.get(pid)
    assert petition.status == "final" and petition.tier == 2
    clocks = [d.clock for d in petition.deadlines]
    assert clocks == ["triage", "acceptance", "handling", "review_request", "review_decision",
                      "rereview_request", "rereview_decision", "revisit"]
    assert all(d.status == "met" for d in petition.deadlines[:-1])
    petition = office.do("revisit", pid, outcome="满意", text="电话回访")
    assert petition.current("revisit").status == "met" and petition.revisits == 1


@pytest.mark.parametrize("command, kwargs", [
    ("add_note", {"text": "x", "kind": "other"}),
    ("escalate", {"to_unit": "city", "reason": "r"}),
    ("supervise", {"level": "red", "reason": "r"}),
    ("package", {"leader": "leader1"}),
    ("request_rereview", {"reason": "again"}),
    ("close_case", {"reason": "r"}),
    ("suspend_clock", {"reason": "r"}),
])
def test_a_final_case_accepts_nothing_but_revisits(
    office: Office, command: str, kwargs: dict[str, Any]
) -> None:
    """After re-review the matter is final: only revisits are recorded."""
    pid = office.case_in("final")
    with pytest.raises(ActionNotAllowed, match="final"):
        office.do(command, pid, **kwargs)


def test_review_request_after_the_window_is_refused(office: Office) -> None:
    """The petitioner has 30 days from service to ask for a review."""
    pid = office.case_in("served")
    with pytest.raises(ActionNotAllowed, match="window ended"):
        office.do("request_review", pid, wait=45, reason="late")


def test_rereview_needs_a_served_review_decision(office: Office) -> None:
    """A re-review cannot be asked for against the first opinion."""
    pid = office.case_in("served")
    with pytest.raises(ActionNotAllowed, match="re-review is possible only after"):
        office.do("request_rereview", pid, reason="r")


def test_rating_is_recorded_once_per_opinion(office: Office) -> None:
    """The petitioner rates each opinion served once."""
    pid = office.case_in("served")
    petition = office.do("rate", pid, satisfaction="dissatisfied")
    assert petition.ratings == [{"tier": 0, "satisfaction": "dissatisfied"}]
    with pytest.raises(ActionNotAllowed, match="already been rated"):
        office.do("rate", pid, satisfaction="satisfied")
    with pytest.raises(InvalidField, match="satisfaction"):
        office.do("rate", office.case_in("served"), satisfaction="happy")


def test_closing_waits_for_the_window_unless_the_petitioner_is_satisfied(office: Office) -> None:
    """A served case closes after its window, or earlier on a satisfied rating."""
    pid = office.case_in("served")
    with pytest.raises(ActionNotAllowed, match="cannot close yet"):
        office.do("close_case", pid, reason="办结")
    petition = office.do("close_case", pid, wait=40, reason="期满未申请复查")
    assert petition.status == "closed" and petition.current("revisit").status == "open"
    assert petition.current("review_request").status == "missed"  # the petitioner let it pass
    early = office.case_in("served")
    office.do("rate", early, satisfaction="basically_satisfied")
    assert office.do("close_case", early, reason="满意").status == "closed"


def test_overlays_escalation_supervision_and_package_leader(office: Office) -> None:
    """Escalation, supervision with its feedback clock and a package leader sit beside the status."""
    pid = office.case_in("accepted")
    office.do("escalate", pid, to_unit="city", reason="重大紧急")
    petition = office.do("supervise", pid, actor="leader1", level="yellow", reason="催办",
                         by_unit="county")
    assert petition.supervision_level == "yellow"
    assert petition.current("supervision_feedback").status == "open"
    petition = office.do("report_supervision", pid, text="已约谈当事人")
    assert petition.current("supervision_feedback").status == "met"
    petition = office.do("package", pid, actor="leader1", leader="leader1")
    assert petition.package_leader == "leader1" and petition.status == "accepted"
    assert petition.escalations[0]["to_unit"] == "city"
    with pytest.raises(ActionNotAllowed, match="no supervision order is waiting"):
        office.do("report_supervision", pid, text="again")
    with pytest.raises(InvalidField, match="level"):
        office.do("supervise", pid, level="purple", reason="r")


def test_missed_deadline_is_recorded_once_and_charged_to_who_was_responsible(
    office: Office,
) -> None:
    """The sweep records a missed deadline once, naming the unit and person responsible then."""
    pid = office.case_in("assigned")
    office.clock.advance(days=20)
    first = office.service.record_missed_deadlines(pid).petition
    assert first.current("acceptance").status == "missed"  # type: ignore[union-attr]
    again = office.service.record_missed_deadlines(pid).petition
    assert again.version == first.version
    [missed] = [h for h in office.service.history(pid) if h.type == "DeadlineMissed"]
    assert missed.data["responsible_unit"] == "county/town1"
    assert missed.data["responsible_person"] == "handler1"
    late = office.do("accept", pid)
    assert late.current("acceptance").status == "missed"
    assert late.current("acceptance").closed_on is not None


def test_closing_event_after_the_due_date_marks_the_deadline_missed(office: Office) -> None:
    """An acceptance that comes late is missed even if the sweep never ran."""
    pid = office.case_in("assigned")
    petition = office.do("accept", pid, wait=30)
    assert petition.current("acceptance").status == "missed"


def test_business_time_cannot_be_in_the_future_or_out_of_order(office: Office) -> None:
    """`at` may be earlier than now, but never later, and never before the last step."""
    pid = office.case_in("assigned")
    now = office.clock.advance(hours=0.5)
    with pytest.raises(InvalidField, match="at: is in the future"):
        office.service.accept(pid, actor="h", at=now + timedelta(minutes=5))
    with pytest.raises(InvalidField, match="earlier than the case's last recorded step"):
        office.service.accept(pid, actor="h", at=START - timedelta(days=1))
    with pytest.raises(InvalidField, match="time zone"):
        office.service.accept(pid, actor="h", at=now.replace(tzinfo=None))
    petition = office.service.accept(pid, actor="h", at=now - timedelta(minutes=1)).petition
    assert petition.last_at == now - timedelta(minutes=1)


def test_unknown_case_is_reported_as_not_found(office: Office) -> None:
    """An unknown id or case number raises CaseNotFound."""
    with pytest.raises(CaseNotFound):
        office.service.get("XF-2026-999999")
    with pytest.raises(CaseNotFound):
        office.service.accept("6a1f4c4e-5b8b-4a57-9d2b-3c3b1f0f0a11", actor="h")


def test_every_step_is_kept_with_actor_and_both_times(office: Office) -> None:
    """History lists each event with its actor, business time and record time."""
    pid = office.case_in("served")
    history = office.service.history(pid)
    assert [h.type for h in history] == ["Registered", "Assigned", "Accepted", "Replied", "Served"]
    assert [h.version for h in history] == [1, 2, 3, 4, 5]
    assert history[2].actor == "handler1" and history[2].at is not None
    assert all(h.recorded_at is not None for h in history)
    assert history[3].data["opinion"] == STEPS["replied"][1]["opinion"]


def test_past_versions_are_readable(office: Office) -> None:
    """Any past version of a case can be loaded."""
    pid = office.case_in("replied")
    assert office.service.get(pid, version=2).status == "assigned"
    assert office.service.get(pid, version=3).status == "accepted"


def test_an_extension_after_the_limit_ended_is_refused(office: Office) -> None:
    """An extension must be approved while the handling limit is still running."""
    pid = office.case_in("accepted")
    with pytest.raises(ActionNotAllowed, match="must be approved before the limit ends"):
        office.do("extend", pid, wait=70, days=10, reason="r", approved_by="leader1")


def test_recording_a_missed_deadline_does_not_block_steps_entered_late(office: Office) -> None:
    """The sweep's record is not a step of the case: a step done earlier can still be entered."""
    pid = office.case_in("assigned")
    office.clock.advance(days=20)
    office.service.record_missed_deadlines(pid)
    earlier = office.clock.now - timedelta(days=2)
    petition = office.service.accept(pid, actor="handler1", at=earlier).petition
    assert petition.status == "accepted" and petition.current("acceptance").status == "missed"  # type: ignore[union-attr]


def test_a_review_at_a_higher_unit_moves_responsibility_there(office: Office) -> None:
    """The unit that decides the review, and the person who recorded the request, become responsible."""
    pid = office.case_in("served")
    petition = office.do("request_review", pid, actor="reception9", reason="不服", unit="county")
    assert (petition.responsible_unit, petition.responsible_person) == ("county", "reception9")


def test_the_sweep_leaves_a_lapsed_request_window_to_closure(office: Office) -> None:
    """A petitioner's window passing unused is not recorded as a missed deadline of the office."""
    pid = office.case_in("served")
    office.clock.advance(days=45)
    petition = office.service.record_missed_deadlines(pid).petition
    assert petition.current("review_request").status == "open"  # type: ignore[union-attr]
    assert not [h for h in office.service.history(pid) if h.type == "DeadlineMissed"]
