"""Plans of the demo's cases: who registers what, and which steps follow on which day."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from petitions import demo_data as data

STATUSES = ("registered", "forwarded", "assigned", "accepted", "replied", "served",
            "review_requested", "review_decided", "rereview_requested", "final", "closed",
            "redirected", "declined")
ENDED = frozenset({"final", "closed", "redirected", "declined"})
WEIGHTS = (4, 3, 5, 12, 3, 5, 3, 2, 2, 3, 44, 7, 7)
# Cases every demo store has first: 13 or more cases show every status, 18 every overlay.
SHOWCASE: list[tuple[str, frozenset[str]]] = [
    (status, frozenset(features.split())) for status, features in (
        ("registered", "urgent"), ("forwarded", ""), ("assigned", "overdue"),
        ("accepted", "extend package"), ("replied", "suspend_resume"), ("served", ""),
        ("review_requested", ""), ("review_decided", "late"), ("rereview_requested", "hearing"),
        ("final", "revisit hearing"), ("closed", "revisit"), ("redirected", ""), ("declined", ""),
        ("registered", "overdue"), ("accepted", "suspend"), ("accepted", "supervise overdue"),
        ("closed", "group urgent supervise"), ("closed", "review revisit"),
    )
]
YEAR = 360  # every case is received within the last year
LATE_STAGES = ("assign", "accept", "reply", "decide_review")


@dataclass
class Step:
    """One command on the case, `day` days after the day it was received."""

    day: int
    command: str
    actor: str
    args: dict[str, Any]
    after_window: bool = False  # not before the petitioner's request window has ended


@dataclass
class CasePlan:
    """Everything about one case before any of it is recorded."""

    status: str
    features: frozenset[str]
    received: datetime
    register: dict[str, Any]
    registered_after: timedelta
    steps: list[Step] = field(default_factory=list)
    repeat_of: CasePlan | None = None  # a final case whose matter this one raises again

    @property
    def last_day(self) -> int:
        """The day of the last planned step."""
        return self.steps[-1].day if self.steps else 0


class Planner:
    """Draws the county's cases from a seeded random generator; records nothing."""

    def __init__(self, rng: random.Random, county: data.County, now: datetime, tz: tzinfo) -> None:
        self.rng, self.county, self.now, self.tz = rng, county, now, tz
        self.residents = data.Residents(rng, county)
        self.day = 0
        self.clock: tuple[int, int] | None = None  # (day started, length) of the clock running
        self.late: str | None = None
        self.steps: list[Step] = []

    # ---- the whole set --------------------------------------------------------------------

    def plan(self, count: int) -> list[CasePlan]:
        """`count` cases, oldest first: the showcase, then statuses drawn by weight."""
        wanted = list(SHOWCASE[:count])
        wanted += [(s, self.features(s)) for s in
                   self.rng.choices(STATUSES, WEIGHTS, k=max(0, count - len(wanted)))]
        plans = [self.case(status, features) for status, features in wanted]
        self.add_repeats(plans, count // 100)
        return sorted(plans, key=lambda p: p.received)

    def features(self, status: str) -> frozenset[str]:
        """Overlays drawn for one case of this status."""
        r, at = self.rng.random, STATUSES.index(status)
        picked = {name for name, p, since in (
            ("urgent", 0.03, 0), ("key_person", 0.04, 0), ("group", 0.06, 0), ("late", 0.1, 1),
            ("overdue", 0.15, 0), ("supervise", 0.1, 3), ("package", 0.08, 3), ("escalate", 0.04, 2),
            ("extend", 0.15, 3), ("suspend_resume", 0.08, 4), ("suspend", 0.2, 3),
            ("hearing", 0.4, 8), ("review", 0.25, 10), ("revisit", 0.8, 9),
        ) if at >= since and status not in ("redirected", "declined") and r() < p}
        return frozenset(picked)

    def add_repeats(self, plans: list[CasePlan], count: int) -> None:
        """Replace some declined cases by new petitions on a matter already final (declined at once)."""
        finals = [i for i, p in enumerate(plans) if p.status == "final"
                  and p.received + timedelta(days=p.last_day + 20) < self.now]
        spare = [i for i, p in enumerate(plans) if p.status == "declined" and i >= len(SHOWCASE)]
        for final, spot in list(zip(finals, spare, strict=False))[:count]:
            base = plans[final]
            gap = (self.now - base.received).days - base.last_day - 2
            received = base.received + timedelta(days=base.last_day + self.rng.randint(3, max(3, gap)))
            register = dict(base.register, channel="visit", summary=base.register["summary"] + "（重复信访）",
                            urgent=False)
            plans[spot] = CasePlan("declined", frozenset({"repeat"}), received, register,
                                   timedelta(minutes=20), repeat_of=base)

    # ---- one case -------------------------------------------------------------------------

    def case(self, status: str, features: frozenset[str]) -> CasePlan:
        """One case's registration and steps, ending in `status`."""
        rng = self.rng
        intake = self.residents.petition(features)
        location = intake.location
        assert location.township is not None and location.village is not None
        self.day, self.clock, self.steps = intake.delay.days, (0, 15), []
        # A late case misses one stage's limit: triage, acceptance, handling or the review decision.
        self.late = rng.choice(LATE_STAGES) if "late" in features else None
        competent = location.township
        if self.county.user("handler", location.village) and rng.random() < 0.3:
            competent = location.village
        registrar = intake.register["actor"]
        triager = registrar if not registrar.startswith("liaison.") else f"reception.{location.township}"
        if intake.register["urgent"]:
            self.add(0, 0, "escalate", registrar, to_unit=data.COUNTY[0],
                     reason="重大紧急信访事项，第一时间报告县委、县政府")
        self.route(status, features, triager, competent, intake.register["category"])
        total = min(self.day + self.wait(status, features), YEAR)
        minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
        day = (self.now - timedelta(days=total)).astimezone(self.tz).date()
        received = datetime.combine(day, time(minutes // 60, minutes % 60), self.tz)
        received = min(received, self.now - intake.delay - timedelta(minutes=1))
        return CasePlan(status, features, received, intake.register, intake.delay, self.steps)

    def route(self, status: str, features: frozenset[str], triager: str, unit: str,
              category: str) -> None:
        """The steps from triage to `status`."""
        rng, late = self.rng, self.late == "assign"
        if status == "registered":
            return
        if status == "redirected":
            to, reason = data.REDIRECTS.get(category) or rng.choice(data.OTHER_REDIRECTS)
            self.add(0, 5, "redirect", triager, to=to, reason=reason)
            return
        if status == "declined" and rng.random() < 0.55:
            self.add(1, 10, "decline", triager, reason=rng.choice(data.DECLINE_REASONS))
            return
        handler = self.county.user("handler", unit)
        assert handler is not None
        forward = status == "forwarded" or (status != "assigned" and rng.random() < 0.3)
        self.add(*((16, 24) if late else (0, 10)), "assign", triager, unit=unit,
                 person=None if forward else handler, mode="forward" if forward else "assign")
        self.clock = (self.day, 15)
        if "escalate" in features:
            self.add(1, 5, "escalate", handler, to_unit=self.parent(unit),
                     reason="涉及多个部门，本级难以协调解决，报请上级协调")
        if status in ("forwarded", "assigned"):
            return
        if status == "declined":
            self.add(1, 12, "decline", handler, reason=rng.choice(data.DECLINE_REASONS))
            return
        self.handle(status, features, handler, unit)

    def handle(self, status: str, features: frozenset[str], handler: str, unit: str) -> None:
        """Acceptance, work on the case, the opinion and what the petitioner does with it."""
        rng, township = self.rng, unit.split(".")[0]
        self.add(*((16, 22) if self.late == "accept" else (1, 12)), "accept", handler)
        accepted, length = self.day, 60
        self.clock = (accepted, length)
        leader = f"leader.{township}"
        if "package" in features:
            self.add(0, 5, "package", leader if rng.random() < 0.6 else f"leader.{data.COUNTY[0]}",
                     leader=leader)
        if "supervise" in features:
            self.add(2, 15, "supervise", f"leader.{data.COUNTY[0]}", by_unit=data.COUNTY[0],
                     level=rng.choice(("normal", "yellow", "red")),
                     reason="群众反映强烈，县信访联席会议交办督办")
            if status != "accepted" or rng.random() < 0.5:
                self.add(3, 20, "report_supervision", handler,
                         text="已按督办要求开展调查，阶段性进展如下……")
        for _ in range(rng.randint(0, 2)):
            kind, text = rng.choice(data.NOTES)
            self.add(2, 12, "add_note", handler, kind=kind, text=text)
        if "suspend_resume" in features:
            self.add(1, 8, "suspend_clock", handler, reason="等待信访人补充证明材料")
            stood = rng.randint(5, 20)
            self.add(stood, stood, "resume_clock", handler, reason="信访人已补充材料")
            length += stood
        if "extend" in features:
            days = rng.choice((15, 20, 30))
            self.add(max(0, accepted + 45 - self.day), max(0, accepted + 55 - self.day), "extend",
                     handler, days=days, reason="案情复杂，需多部门会商", approved_by=leader)
            length += days
            self.clock = (accepted, length)
        if status == "accepted":
            if "suspend" in features:
                self.add(1, 10, "suspend_clock", handler, reason=rng.choice(("组织听证", "等待鉴定结论")))
                self.clock = None
            return
        reply_on = accepted + (length + rng.randint(3, 20) if self.late == "reply"
                               else rng.randint(10, length - 5))
        opinion = rng.choices(list(data.OPINION_TEXTS), (4, 5, 2))[0]
        self.add(max(1, reply_on - self.day), max(1, reply_on - self.day), "reply", handler,
                 opinion=opinion, text=data.OPINION_TEXTS[opinion])
        self.clock = None
        if status == "replied":
            return
        self.add(1, 7, "serve", handler)
        self.clock = (self.day, 30)
        self.petitioner(status, features, handler, unit)

    def petitioner(self, status: str, features: frozenset[str], handler: str, unit: str) -> None:
        """Rating, review, re-review, closure and revisits after the opinion is served."""
        rng, county_code = self.rng, data.COUNTY[0]
        reviewing = status in STATUSES[6:10] or "review" in features
        if not reviewing:
            if status == "served":
                return
            self.close(handler, "复查")
            return
        review_unit = self.parent(unit)
        self.add(0, 3, "rate", handler, satisfaction="dissatisfied")
        self.add(3, 25, "request_review", f"reception.{review_unit}", reason="对处理意见不服，申请复查",
                 unit=review_unit)
        self.clock = (self.day, 30)
        if status == "review_requested":
            return
        self.add(*((31, 40) if self.late == "decide_review" else (10, 28)), "decide_review",
                 f"leader.{review_unit}", opinion=rng.choice(("explain", "not_support")),
                 text="经复查，原处理意见认定事实清楚，适用政策正确，予以维持。")
        self.clock = None
        if status == "review_decided":
            return
        reviewer = self.county.user("handler", review_unit) or f"handler.{county_code}"
        self.add(1, 7, "serve", f"reception.{review_unit}")
        self.clock = (self.day, 30)
        if status == "closed":
            self.close(reviewer, "复核")
            return
        self.add(3, 25, "request_rereview", f"reception.{county_code}", reason="对复查意见不服，申请复核",
                 unit=county_code)
        self.clock = (self.day, 30)
        if "hearing" in features:
            self.add(2, 10, "suspend_clock", f"handler.{county_code}", clock="rereview_decision",
                     reason="组织听证（听证时间不计入复核期限）")
            if status == "rereview_requested":
                self.clock = None
                return
            self.add(5, 15, "resume_clock", f"handler.{county_code}", reason="听证结束")
        if status == "rereview_requested":
            return
        self.add(*((5, 14) if "hearing" in features else (10, 28)), "decide_rereview",
                 f"leader.{county_code}", opinion="not_support",
                 text="经复核，维持复查意见。本信访事项复核终结，同一事实和理由不再受理。")
        self.revisits(f"reception.{county_code}", "revisit" in features)

    def close(self, handler: str, appeal: str) -> None:
        """Close once the petitioner is satisfied or the request window has passed, then revisit."""
        rng = self.rng
        if rng.random() < 0.5:
            self.add(0, 5, "rate", handler, satisfaction=rng.choice(("satisfied", "basically_satisfied")))
            self.add(0, 10, "close_case", handler, reason="信访人对处理意见表示满意，办结")
        else:
            self.add(31, 38, "close_case", handler, reason=f"送达后三十日内信访人未请求{appeal}，办结")
            self.steps[-1].after_window = True
        self.revisits(handler, rng.random() < 0.9)

    def revisits(self, actor: str, wanted: bool) -> None:
        """None, one or two return visits after the case ended."""
        for _ in range(self.rng.choice((1, 1, 2)) if wanted else 0):
            outcome = self.rng.choice(("满意", "基本满意", "信访人表示息诉罢访", "不满意，仍有诉求"))
            self.add(2, 13, "revisit", actor, outcome=outcome, text=f"电话回访信访人，{outcome}。")

    # ---- helpers --------------------------------------------------------------------------

    def add(self, low: int, high: int, command: str, actor: str, **args: Any) -> None:
        """A step `low`..`high` days after the previous one."""
        self.day += self.rng.randint(low, high)
        self.steps.append(Step(self.day, command, actor, args))

    def wait(self, status: str, features: frozenset[str]) -> int:
        """Days from the last step to now: long for ended cases, within or past the clock for open ones."""
        rng = self.rng
        if status in ENDED:
            return rng.randint(12, max(12, YEAR - self.day))
        if self.clock is None:
            return rng.randint(0, 25 if "suspend" in features or "hearing" in features else 5)
        start, length = self.clock
        target = start + (length + rng.randint(3, 40) if "overdue" in features
                          else rng.randint(0, length * 4 // 5))
        return max(0, target - self.day)

    def parent(self, unit: str) -> str:
        """The unit above (the county for itself)."""
        return self.county.place(unit).parent or unit
