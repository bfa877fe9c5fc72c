"""Invariants of the petition aggregate under random sequences of commands on several cases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from domain.errors import ActionNotAllowed, CaseIsFinal, PetitionError
from domain.petition import Petition
from domain.reading import HistoryEntry
from domain.service import PetitionService
from tests.support import FakeClock, registration

# From the spec (domain.md, "Lifecycle" and "Time limits"), not from the code under test.
ENDED = frozenset({"redirected", "declined", "closed", "final"})
STATUSES = ENDED | {"registered", "forwarded", "assigned", "accepted", "replied", "served",
                    "review_requested", "review_decided", "rereview_requested"}
MAX_EXTENSION_DAYS = 30
STAGE_ORDER = ("triage", "acceptance", "handling", "review_request", "review_decision",
               "rereview_request", "rereview_decision")
UNITS = st.sampled_from(["county/town1", "county/town2", "county"])
TEXT = st.sampled_from(["需要进一步核实", "已约谈当事人", "x" * 3])
OPINION = st.sampled_from(["support", "explain", "not_support", "maybe"])  # one unknown
MAYBE_UNIT = st.none() | UNITS
# Business time: mostly now, sometimes earlier (possibly before the last step), rarely future.
AT_OFFSET = st.none() | st.integers(-2, 24 * 20).map(lambda h: timedelta(hours=h))


def args(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of a command, each drawn from its strategy."""
    return st.fixed_dictionaries(fields)


# Every command with random but plausible arguments, now and then an invalid one.
ARGS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "assign": args(unit=UNITS, person=st.none() | st.just("handler1"),
                   mode=st.sampled_from(["forward", "assign", "assign", "transfer"])),
    "redirect": args(to=st.sampled_from(["人民法院", "劳动仲裁委"]), reason=TEXT),
    "decline": args(reason=TEXT), "accept": args(), "serve": args(),
    "add_note": args(text=TEXT, kind=st.sampled_from(["investigation", "mediation", "gossip"])),
    "extend": args(days=st.integers(1, MAX_EXTENSION_DAYS) | st.sampled_from([0, 31, -3]),
                   reason=TEXT, approved_by=st.just("leader1")),
    "suspend_clock": args(reason=TEXT, clock=st.none() | st.sampled_from(STAGE_ORDER)),
    "resume_clock": args(reason=TEXT), "reply": args(opinion=OPINION, text=TEXT),
    "rate": args(satisfaction=st.sampled_from(["satisfied", "dissatisfied", "meh"])),
    "request_review": args(reason=TEXT, unit=MAYBE_UNIT),
    "decide_review": args(opinion=OPINION, text=TEXT),
    "request_rereview": args(reason=TEXT, unit=MAYBE_UNIT),
    "decide_rereview": args(opinion=OPINION, text=TEXT),
    "escalate": args(to_unit=UNITS, reason=TEXT), "report_supervision": args(text=TEXT),
    "supervise": args(level=st.sampled_from(["normal", "yellow", "red", "purple"]),
                      reason=TEXT, by_unit=MAYBE_UNIT),
    "package": args(leader=st.just("leader1")), "close_case": args(reason=TEXT),
    "revisit": args(outcome=st.sampled_from(["满意", "不满意"]), text=TEXT),
}  # fmt: skip
# The usual next steps from each status, with the side steps that fit there.
NEXT: dict[str, tuple[str, ...]] = {
    "registered": ("assign",), "forwarded": ("accept",), "assigned": ("accept",),
    "accepted": ("extend", "reply", "suspend_clock"), "replied": ("serve",),
    "served": ("request", "request", "close_case", "rate"),
    "review_requested": ("decide_review",), "review_decided": ("serve",),
    "rereview_requested": ("decide_rereview", "suspend_clock"), "closed": ("revisit",),
    "final": ("revisit",),
}  # fmt: skip
# Side steps that fit an open case at most stages.
OVERLAYS = ("extend", "suspend_clock", "resume_clock", "supervise", "report_supervision",
            "escalate", "package", "rate", "add_note", "decline", "redirect")
# Valid arguments of every command but revisit: what an ended case must still refuse.
VALID: dict[str, dict[str, Any]] = {
    "assign": {"unit": "county/town1", "person": None, "mode": "assign"},
    "redirect": {"to": "人民法院", "reason": "属诉讼事项"}, "decline": {"reason": "不属受理范围"},
    "accept": {}, "add_note": {"text": "走访", "kind": "other"},
    "extend": {"days": 10, "reason": "案情复杂", "approved_by": "leader1"},
    "suspend_clock": {"reason": "听证"}, "resume_clock": {"reason": "听证结束"},
    "reply": {"opinion": "support", "text": "支持"}, "serve": {},
    "rate": {"satisfaction": "satisfied"}, "request_review": {"reason": "不服"},
    "decide_review": {"opinion": "explain", "text": "维持"}, "request_rereview": {"reason": "不服"},
    "decide_rereview": {"opinion": "explain", "text": "终结"},
    "escalate": {"to_unit": "county", "reason": "重大"},
    "supervise": {"level": "red", "reason": "久拖不决"}, "report_supervision": {"text": "已办"},
    "package": {"leader": "leader1"}, "close_case": {"reason": "办结"},
}  # fmt: skip


def next_steps(petition: Petition) -> tuple[str, ...]:
    """The commands likely to fit the case now: its usual next steps, resuming, reporting."""
    request = "request_review" if petition.tier == 0 else "request_rereview"
    steps = tuple(request if c == "request" else c for c in NEXT.get(petition.status, ()))
    if petition.extension is not None:
        steps = tuple(c for c in steps if c != "extend")
    if any(d.status == "suspended" for d in petition.deadlines):
        steps = ("resume_clock", *(c for c in steps if c != "suspend_clock"))
    if any(d.clock == "supervision_feedback" and d.is_running for d in petition.deadlines):
        steps = ("report_supervision", *steps)
    return steps


class PetitionMachine(RuleBasedStateMachine):
    """Random commands on a few cases, with the case invariants checked after every step."""

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.service = PetitionService({"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                       clock=self.clock)
        self.last: dict[UUID, Petition] = {}  # the petition returned by the last command
        self.became_final: set[UUID] = set()
        self._seen: dict[UUID, tuple[tuple[int, int], Petition, list[HistoryEntry]]] = {}

    def teardown(self) -> None:
        self.service.close()

    # ---- carrying out commands -----------------------------------------------------------

    def _register(self, same_matter_as: UUID | None = None) -> UUID:
        receipt = self.service.register(**registration(received_at=self.clock.now),
                                        same_matter_as=same_matter_as)
        self.last[receipt.petition.id] = receipt.petition
        return receipt.petition.id

    def _recorded(self, pid: UUID) -> tuple[int, int]:
        """How many events of the case are stored, and the version of the last one."""
        stored = self.service.recorder.select_events(pid)
        return len(stored), stored[-1].originator_version

    def run(self, pid: UUID, command: str, kwargs: dict[str, Any],
            at_offset: timedelta | None = None, actor: str = "handler1") -> PetitionError | None:
        """Carry out a command; a refusal must be a PetitionError that records nothing."""
        before = self.last[pid]  # the same as stored: see replay_equals_last_returned_state
        recorded = self._recorded(pid)
        if at_offset is not None:
            kwargs = {**kwargs, "at": self.clock.now - at_offset}
        try:
            outcome = getattr(self.service, command)(pid, actor=actor, **kwargs)
        except PetitionError as refusal:
            assert self._recorded(pid) == recorded == (recorded[0], before.version), command
            if before.status == "final" and command != "revisit":
                assert isinstance(refusal, CaseIsFinal), (command, refusal)
            if before.status in ENDED:
                assert isinstance(refusal, ActionNotAllowed) or command == "revisit", (
                    command, before.status, refusal)
            return refusal
        assert before.status not in ENDED or (
            command == "revisit" and before.status in ("closed", "final")
        ), f"{command} was accepted on a {before.status} case"
        self.last[pid] = outcome.petition
        if outcome.petition.status == "final":
            self.became_final.add(pid)
        if outcome.petition.status in ENDED and before.status not in ENDED:
            for other, valid in VALID.items():  # just ended: refuses even valid commands
                self._refused(pid, other, valid, outcome.petition.status)
        return None

    def _refused(self, pid: UUID, command: str, kwargs: dict[str, Any], status: str) -> None:
        refusal = self.run(pid, command, kwargs)
        expected = CaseIsFinal if status == "final" else ActionNotAllowed
        assert isinstance(refusal, expected), (command, status, refusal)

    # ---- rules ---------------------------------------------------------------------------

    @initialize(target=cases, data=st.data(), steps=st.integers(0, 14))
    def first_cases(self, data: st.DataObject, steps: int) -> Any:
        """Two cases: one just registered, one some way along its lifecycle."""
        first, second = self._register(), self._register()
        self.advance(second, data, steps, gap=1)
        return multiple(first, second)

    @precondition(lambda self: len(self.last) < 4)
    @rule(target=cases, related=st.none() | cases)
    def register(self, related: UUID | None) -> UUID:
        """A new case, now and then on the same matter as an existing one."""
        return self._register(same_matter_as=related)

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def tick(self, days: int, hours: int) -> None:
        """Time passes: up to 40 days."""
        self.clock.advance(days=days, hours=hours)

    @rule(pid=cases, data=st.data(), at_offset=AT_OFFSET,
          actor=st.sampled_from(["handler1", "leader1", "handler1", "leader1", " "]))
    def act(self, pid: UUID, data: st.DataObject, at_offset: timedelta | None,
            actor: str) -> None:
        """Any command, or one likely to fit the case now, with random arguments."""
        likely = next_steps(self.last[pid]) + OVERLAYS
        command = data.draw(st.sampled_from(sorted(ARGS)) | st.sampled_from(likely))
        self.run(pid, command, data.draw(ARGS[command]), at_offset, actor)

    @rule(pid=cases, data=st.data(), steps=st.integers(1, 8), gap=st.integers(0, 12))
    def advance(self, pid: UUID, data: st.DataObject, steps: int, gap: int) -> None:
        """The usual next steps of the lifecycle, a few hours to days apart."""
        for _ in range(steps):
            choices = next_steps(self.last[pid])
            if not choices:
                return
            command = data.draw(st.sampled_from(choices))
            self.clock.advance(days=gap)
            self.run(pid, command, data.draw(ARGS[command]))

    @rule(pid=cases, count=st.integers(3, 12))
    def add_notes(self, pid: UUID, count: int) -> None:
        """Many notes, so that long histories get snapshots (every 50 events)."""
        if self.run(pid, "add_note", {"text": "走访", "kind": "investigation"}) is None:
            for _ in range(count):
                note = self.service.add_note(pid, actor="handler1", text="走访", kind="other")
                self.last[pid] = note.petition

    @rule(pid=cases)
    def record_missed_twice(self, pid: UUID) -> None:
        """The scheduler's check, run twice: the second run records nothing."""
        first = self.service.record_missed_deadlines(pid)
        self.last[pid] = first.petition
        second = self.service.record_missed_deadlines(pid)
        assert second.notification_id is None
        assert second.petition.version == first.petition.version
        self.last[pid] = second.petition

    @rule(data=st.data())
    def poke_ended(self, data: st.DataObject) -> None:
        """An ended case refuses every command but a revisit (final: with CaseIsFinal)."""
        ended = [pid for pid, petition in self.last.items() if petition.status in ENDED]
        if not ended:
            return
        pid = data.draw(st.sampled_from(ended))
        status = self.last[pid].status
        commands = data.draw(st.lists(st.sampled_from(sorted(VALID)), min_size=1, max_size=5))
        for command in commands:
            self._refused(pid, command, data.draw(ARGS[command]), status)
        if status in ("closed", "final"):
            self.run(pid, "revisit", data.draw(ARGS["revisit"]))

    # ---- invariants ----------------------------------------------------------------------

    def _each(self) -> list[tuple[UUID, Petition, list[HistoryEntry]]]:
        """Each case as replayed from storage, with its history; read again when it changed."""
        for pid in self.last:
            recorded = self._recorded(pid)
            if pid not in self._seen or self._seen[pid][0] != recorded:
                self._seen[pid] = (recorded, self.service.get(pid), self.service.history(pid))
        return [(pid, petition, history) for pid, (_, petition, history) in self._seen.items()]

    @invariant()
    def replay_equals_last_returned_state(self) -> None:
        """The case replayed from storage is the one the last command returned, in a known status."""
        for pid, stored, _ in self._each():
            memory = self.last[pid]
            assert stored.status in STATUSES
            assert (stored.status, stored.version) == (memory.status, memory.version)
            assert stored.deadlines == memory.deadlines
            assert stored.extension == memory.extension
            assert stored.last_at == memory.last_at
            assert pid not in self.became_final or stored.status == "final"  # final stays final

    @invariant()
    def one_extension_of_at_most_30_days(self) -> None:
        """At most one extension, of 1 to 30 days, moving the handling due date by exactly that."""
        calendar = self.service.policy.calendar
        for _, petition, history in self._each():
            extended = [e for e in history if e.type == "Extended"]
            assert len(extended) <= 1
            handling = petition.current("handling")
            if not extended:
                assert petition.extension is None
                assert handling is None or handling.extension_days == 0
                continue
            days = extended[0].data["days"]
            assert 1 <= days <= MAX_EXTENSION_DAYS
            assert handling is not None and handling.extension_days == days
            length = handling.days + handling.suspended_days
            unextended = calendar.due_date(handling.starts, length, handling.counting)
            assert handling.due == calendar.due_date(handling.starts, length + days,
                                                     handling.counting)
            assert handling.due >= unextended

    @invariant()
    def deadlines_are_consistent(self) -> None:
        """Each deadline starts no later than it is due and its due date follows from its rule."""
        calendar = self.service.policy.calendar
        for _, petition, _ in self._each():
            for d in petition.deadlines:
                assert d.starts <= d.due, d
                length = d.days + d.extension_days + d.suspended_days
                assert d.due == calendar.due_date(d.starts, length, d.counting), d
            stages = [petition.current(clock) for clock in STAGE_ORDER]
            starts = [stage.starts for stage in stages if stage is not None]
            assert starts == sorted(starts), petition.deadlines

    @invariant()
    def one_running_deadline_per_clock(self) -> None:
        """At most one deadline of each clock runs at a time, supervision feedback excepted."""
        for _, petition, _ in self._each():
            running = Counter(d.clock for d in petition.deadlines
                              if d.is_running and d.clock != "supervision_feedback")
            assert all(n == 1 for n in running.values()), petition.deadlines

    @invariant()
    def each_missed_deadline_recorded_once(self) -> None:
        """No deadline is recorded missed twice."""
        for _, _, history in self._each():
            missed = [e.data["index"] for e in history if e.type == "DeadlineMissed"]
            assert len(missed) == len(set(missed)), missed


# No explain phase: on Python 3.11 it traces every line, and a failure then takes minutes to shrink.
PetitionMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    phases=[phase for phase in Phase if phase is not Phase.explain],
)
TestPetitionInvariants = PetitionMachine.TestCase
