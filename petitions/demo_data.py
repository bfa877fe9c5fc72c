"""The sample county of `petitions demo`: its unit tree, staff, petitioners and what they write."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.validation import make_id_number

COUNTY = ("qingshan", "青山县信访局")
# township code, name, villages as (code, name, number of groups, has a handler)
TOWNSHIPS: list[tuple[str, str, list[tuple[str, str, int, bool]]]] = [
    ("chengguan", "城关街道", [("dongmen", "东门社区", 3, True), ("ximen", "西门社区", 2, False),
                           ("hebin", "河滨社区", 1, False)]),
    ("dongqiao", "东桥镇", [("dongqiao", "东桥村", 2, True), ("liushuwan", "柳树湾村", 3, False),
                         ("wangjiazhuang", "王家庄村", 2, False), ("shimen", "石门村", 1, False)]),
    ("xihe", "西河镇", [("xihe", "西河村", 3, True), ("yangliu", "杨柳村", 2, False),
                     ("taoyuan", "桃园村", 2, False)]),
    ("nanshan", "南山乡", [("nanshan", "南山村", 2, True), ("chaling", "茶岭村", 1, False)]),
    ("beiling", "北岭镇", [("beiling", "北岭村", 2, True), ("shiqiao", "石桥村", 3, False),
                        ("fengshuping", "枫树坪村", 1, False)]),
]
GROUP_NUMERALS = "一二三四五"


@dataclass(frozen=True)
class Place:
    """A unit of the sample tree, with the units above it."""

    code: str
    name: str
    level: str
    parent: str | None
    township: str | None = None
    village: str | None = None


@dataclass
class County:
    """The sample tree and where its staff sit."""

    units: list[Place] = field(default_factory=list)
    staff: dict[str, tuple[str, str]] = field(default_factory=dict)  # username -> (role, unit)

    def place(self, code: str) -> Place:
        """The unit with this code."""
        return next(u for u in self.units if u.code == code)

    def at_level(self, level: str) -> list[Place]:
        """Every unit of one level."""
        return [u for u in self.units if u.level == level]

    def user(self, role: str, unit: str) -> str | None:
        """The user of this role in this unit, if there is one."""
        return next((n for n, (r, u) in self.staff.items() if r == role and u == unit), None)

    def full_name(self, code: str) -> str:
        """The unit's name with the names above it (below the county), e.g. 东桥镇柳树湾村三组."""
        place = self.place(code)
        names = [place.name]
        while place.parent is not None and place.level not in ("county", "township"):
            place = self.place(place.parent)
            names.append(place.name)
        return "".join(reversed(names))


def sample_county() -> County:
    """The fixed tree of 青山县 with users of every role."""
    county = County()
    code, name = COUNTY
    county.units.append(Place(code, name, "county", None))
    for role in ("admin", "auditor", "reception", "handler", "leader"):
        county.staff[role if role in ("admin", "auditor") else f"{role}.{code}"] = (role, code)
    for t_code, t_name, villages in TOWNSHIPS:
        county.units.append(Place(t_code, t_name, "township", code, township=t_code))
        for role in ("reception", "handler", "leader"):
            county.staff[f"{role}.{t_code}"] = (role, t_code)
        for v_short, v_name, groups, has_handler in villages:
            v_code = f"{t_code}.{v_short}"
            county.units.append(Place(v_code, v_name, "village", t_code, t_code, v_code))
            if has_handler:
                county.staff[f"handler.{v_code}"] = ("handler", v_code)
            kind = "居民小组" if v_name.endswith("社区") else "村民小组"
            for g in range(1, groups + 1):
                g_code = f"{v_code}.g{g}"
                county.units.append(Place(g_code, f"第{GROUP_NUMERALS[g - 1]}{kind}", "group",
                                          v_code, t_code, v_code))
                if g == 1:  # the first group of each village has a liaison (信访信息员)
                    county.staff[f"liaison.{g_code}"] = ("reception", g_code)
    return county


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国春梅德福玉珍海波红志文"
MOBILE_PREFIXES = ("135", "136", "138", "139", "150", "151", "158", "177", "186", "187", "199")
# GB/T 2260: a county of Hunan (43) for locals; some petitioners come from elsewhere.
LOCAL_AREA = "430529"
OTHER_AREAS = ("110105", "320102", "440304", "510107", "420111", "360102")


@dataclass(frozen=True)
class Person:
    """A petitioner (信访人) with the personal data reception records."""

    name: str
    id_number: str
    phone: str
    address: str
    home: str  # the group unit they live in

    def record(self) -> dict[str, str]:
        """As the registration form takes it."""
        return {"name": self.name, "id_number": self.id_number, "phone": self.phone,
                "address": self.address}


def make_person(rng: random.Random, county: County, home: str) -> Person:
    """An invented resident of `home`, with a valid ID number and a mobile number."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    area = LOCAL_AREA if rng.random() < 0.9 else rng.choice(OTHER_AREAS)
    born = f"{rng.randint(1942, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    id_number = make_id_number(f"{area}{born}{rng.randint(0, 999):03d}")
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
    address = f"青山县{county.full_name(home)}{rng.randint(1, 120)}号"
    return Person(name, id_number, phone, address, home)


# category -> (summary, content); {place} is where the matter arose, {n} a number of people.
CATEGORIES: dict[str, list[tuple[str, str]]] = {
    "土地征收": [
        ("征地补偿款未足额发放",
         "反映{place}因县道拓宽被征收耕地，青苗补偿和安置补助费至今未足额发放，要求核实并兑现。"),
        ("承包地被占用要求恢复", "反映其在{place}的承包地被他人占用建房，多次协调无果，要求恢复原状。"),
        ("宅基地审批迟迟未办", "反映其宅基地申请已提交半年，{place}一直未予审批，要求尽快办理。"),
    ],
    "劳动社保": [
        ("农民工工资被拖欠", "{n}名农民工反映在{place}某建筑工地务工，工程完工后工资被拖欠，要求协调支付。"),
        ("养老保险待遇核定有误", "反映其养老保险缴费年限核定有误，退休待遇偏低，要求重新核定。"),
        ("工伤认定不服", "反映其在{place}一家企业务工时受伤，企业拒不申报工伤，要求依法认定。"),
    ],
    "城乡建设": [
        ("拆迁安置房逾期未交付", "反映{place}棚户区改造安置房承诺两年交付，现已逾期一年，要求明确交房时间。"),
        ("小区物业管理混乱", "反映{place}某小区物业不作为，电梯长期故障、公共收益去向不明，要求整改。"),
        ("违章建筑影响通行", "反映{place}有人私搭乱建，占用消防通道，要求依法拆除。"),
    ],
    "环境保护": [
        ("养殖场污染河道", "反映{place}附近养殖场粪污直排河道，气味刺鼻，要求查处。"),
        ("企业夜间噪音扰民", "反映{place}一家石料厂夜间生产，噪音粉尘扰民，要求限制作业时间。"),
    ],
    "涉法涉诉": [
        ("不服法院判决", "反映其与他人民间借贷纠纷一案判决不公，要求重新审理。"),
        ("判决执行不到位", "反映其胜诉的赔偿款至今未执行到位，要求督促执行。"),
    ],
    "农村农业": [
        ("惠农补贴未发放", "反映其耕地地力保护补贴连续两年未到账，要求{place}核查。"),
        ("村级财务不公开", "反映{place}村务、财务长期不公开，对集体土地租金去向有疑问，要求审计。"),
        ("灌溉水渠年久失修", "反映{place}灌溉水渠坍塌，影响春耕用水，要求尽快维修。"),
    ],
    "民政": [
        ("低保资格被取消", "反映其家庭困难，低保资格被无故取消，要求重新评定。"),
        ("残疾人补贴未落实", "反映其持有残疾证，但两项补贴未落实，要求{place}核实。"),
    ],
    "医疗卫生": [
        ("医疗纠纷赔偿", "反映其家属在乡镇卫生院就诊时延误治疗，要求调查并赔偿。"),
        ("新农合报销被拒", "反映其住院费用报销申请被拒，理由不清，要求说明并按规定报销。"),
    ],
    "教育": [
        ("子女入学困难", "反映其随迁子女在{place}就近入学被拒，要求协调学位。"),
        ("学校乱收费", "反映{place}某学校以资料费名义收取费用，要求查处并退还。"),
    ],
    "交通运输": [
        ("村道损毁无人修", "反映{place}通村公路路面损毁严重，雨天无法通行，要求维修。"),
        ("客运班线停运", "反映{place}至县城的客运班线停运，群众出行困难，要求恢复。"),
    ],
    "自然资源": [
        ("非法采砂", "反映{place}河段有人夜间非法采砂，破坏河堤，要求查处。"),
    ],
}
# Relative frequencies, roughly as county offices report them.
CATEGORY_WEIGHTS = {"土地征收": 14, "劳动社保": 14, "城乡建设": 16, "环境保护": 8, "涉法涉诉": 8,
                    "农村农业": 12, "民政": 8, "医疗卫生": 5, "教育": 5, "交通运输": 6, "自然资源": 4}
GROUP_CATEGORIES = ("劳动社保", "土地征收", "城乡建设", "环境保护")
REDIRECTS = {"涉法涉诉": ("青山县人民法院", "属于诉讼程序处理的事项，依法告知向人民法院提出"),
             "劳动社保": ("青山县劳动人事争议仲裁委员会", "属于劳动争议仲裁事项，告知申请仲裁")}
OTHER_REDIRECTS = (("青山县人大常委会", "属于各级人大职权范围内的事项，告知向人大提出"),
                   ("青山县人民检察院", "属于检察机关职权范围的事项，告知向检察院提出"))
DECLINE_REASONS = ("该事项已经通过诉讼程序依法处理，不予受理",
                   "不属于本单位职权范围，且已告知向有权处理的机关提出",
                   "同一事项已办结并送达，无新的事实和理由")
OPINION_TEXTS = {
    "support": "经调查核实，信访人反映情况属实，诉求合理，予以支持，责成相关单位限期落实。",
    "explain": "经调查，相关工作符合政策规定，已向信访人作出解释说明，并告知相关政策依据。",
    "not_support": "经调查核实，信访人诉求缺乏事实和政策依据，不予支持，并告知复查途径。",
}
NOTES = (("investigation", "走访信访人及所在村组，调取相关材料，核实反映情况。"),
         ("mediation", "组织双方当面协调，信访人表示愿意等待处理结果。"),
         ("investigation", "会同自然资源、人社等部门现场勘查，形成调查笔录。"),
         ("other", "电话告知信访人办理进度。"))
CHANNELS = ("visit", "phone", "online", "letter", "email")
CHANNEL_WEIGHTS = (30, 20, 30, 15, 5)


@dataclass(frozen=True)
class Intake:
    """A petition as reception will register it, and how long after receipt that happens."""

    register: dict[str, Any]
    location: Place
    delay: timedelta


class Residents:
    """The county's petitioners, drawn as cases need them; some come back with another matter."""

    def __init__(self, rng: random.Random, county: County) -> None:
        self.rng, self.county = rng, county
        self.known: dict[str, list[Person]] = {}

    def person(self, home_code: str) -> Person:
        """A petitioner living at `home_code` (a group, or a group of that village)."""
        place = self.county.place(home_code)
        if place.level == "village":
            place = self.rng.choice([u for u in self.county.at_level("group") if u.parent == place.code])
        known = self.known.setdefault(place.code, [])
        if known and self.rng.random() < 0.15:
            return self.rng.choice(known)
        person = make_person(self.rng, self.county, place.code)
        known.append(person)
        return person

    def receiver(self, channel: str, location: Place) -> tuple[str, str]:
        """The unit that receives the petition and who registers it there."""
        roll, county_code = self.rng.random(), COUNTY[0]
        liaison = self.county.user("reception", f"{location.village}.g1")
        if channel == "visit" and roll < 0.15 and liaison:
            return f"{location.village}.g1", liaison
        if (channel == "visit" and roll < 0.55) or (channel == "phone" and roll < 0.25):
            return str(location.township), f"reception.{location.township}"
        return county_code, f"reception.{county_code}"

    def petition(self, features: frozenset[str]) -> Intake:
        """What one petition is about, who raised it, where and how it came in."""
        rng, county = self.rng, self.county
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        group = "group" in features or (category in GROUP_CATEGORIES and rng.random() < 0.08)
        channel = (("visit" if rng.random() < 0.85 else "letter") if group
                   else rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0])
        location = rng.choice(county.at_level("group") if rng.random() < 0.7 else county.at_level("village"))
        headcount = (rng.choice((rng.randint(5, 15), rng.randint(5, 15), rng.randint(16, 49),
                                 rng.randint(50, 120))) if group else 1)
        people = [self.person(location.code) for _ in range(min(headcount, rng.randint(1, 5)))]
        summary, content = rng.choice(CATEGORIES[category])
        if group and "{n}" not in content:
            content = f"{headcount}名群众集体反映：" + content
        receiving, registrar = self.receiver(channel, location)
        register = {
            "actor": registrar, "channel": channel, "receiving_unit": receiving,
            "location_unit": location.code, "petitioners": [p.record() for p in people],
            "headcount": headcount, "category": category, "summary": summary,
            "content": content.format(place=county.full_name(location.code), n=headcount),
            "urgent": "urgent" in features or (headcount >= 30 and rng.random() < 0.5),
            "key_person": "key_person" in features,
        }
        delay = {"visit": timedelta(minutes=rng.randint(10, 40)),
                 "phone": timedelta(minutes=rng.randint(2, 15)),
                 "letter": timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 5))}.get(
            channel, timedelta(hours=rng.randint(1, 20)))
        return Intake(register, location, delay)
