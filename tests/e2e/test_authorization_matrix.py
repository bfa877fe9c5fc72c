"""Who may call what: every route × every role × inside/outside jurisdiction, over real HTTP.

The rule, as api/deps.py and api/render.py apply it to a case's routes:
- no token, or a bad one → 401, before anything else;
- a role the route does not allow → 403 (`require`), decided before the case is loaded, so the
  answer is the same for a case in or out of the caller's subtree and for an unknown id;
- an allowed role on a case outside the caller's subtree → 404 (`check_visible`), the very answer
  an unknown id gets, so existence does not leak;
- an allowed role inside → 2xx when the case is in a state that fits the action.
Cases here are received and arise in town1.v1: inside for the county and town1 seats, outside for
town2. A refused call records nothing: the case's version and the store's last event stay put.
Outside the case routes: units and users are created by admins only, below their own unit (403
otherwise); only admins list users, and only those of their subtree; reception registers, and a
receiving unit outside the caller's subtree is refused by jurisdiction (403).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from tests.e2e.conftest import ROLES, SEATS, Running, petition_body
from tests.support import ID_NUMBER

INSIDE = ("county", "town1")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
CASE = "/api/v1/petitions/{petition_id}"
LIFE = ("assign", "accept", "reply", "serve", "request-review", "decide-review", "serve",
        "request-rereview", "decide-rereview")
READERS = ("reception", "handler", "leader", "auditor")
# (method, path under the case) → (roles allowed, body, the actions that bring a case to a fitting state)
CASE_ROUTES: dict[tuple[str, str], tuple[tuple[str, ...], dict[str, Any] | None, tuple[str, ...]]] = {
    ("GET", ""): (READERS, None, ()),
    ("GET", "/history"): (READERS, None, ()),
    ("POST", "/assign"): (("reception",), {"unit": "town1", "person": "handler_town1", "mode": "assign"}, ()),
    ("POST", "/redirect"): (("reception",), {"to": "法院", "reason": "属诉讼事项"}, ()),
    ("POST", "/decline"): (("reception", "handler"), {"reason": "不属受理范围"}, ()),
    ("POST", "/accept"): (("handler",), {}, LIFE[:1]),
    ("POST", "/notes"): (("reception", "handler", "leader"), {"text": "走访", "kind": "investigation"}, ()),
    ("POST", "/extend"): (("handler", "leader"),
                          {"days": 10, "reason": "情况复杂", "approved_by": "leader_county"}, LIFE[:2]),
    ("POST", "/suspend-clock"): (("handler",), {"reason": "听证"}, ()),
    ("POST", "/resume-clock"): (("handler",), {"reason": "听证结束"}, ("suspend-clock",)),
    ("POST", "/reply"): (("handler",), {"opinion": "explain", "text": "答复意见"}, LIFE[:2]),
    ("POST", "/serve"): (("reception", "handler"), {}, LIFE[:3]),
    ("POST", "/rate"): (("reception", "handler"), {"satisfaction": "satisfied"}, LIFE[:4]),
    ("POST", "/request-review"): (("reception", "handler"), {"reason": "不服"}, LIFE[:4]),
    ("POST", "/decide-review"): (("handler", "leader"), {"opinion": "explain", "text": "复查"}, LIFE[:5]),
    ("POST", "/request-rereview"): (("reception", "handler"), {"reason": "仍不服"}, LIFE[:7]),
    ("POST", "/decide-rereview"): (("handler", "leader"), {"opinion": "explain", "text": "复核"}, LIFE[:8]),
    ("POST", "/escalate"): (("reception", "handler", "leader"), {"to_unit": "county", "reason": "重大"}, ()),
    ("POST", "/supervise"): (("leader",), {"level": "yellow", "reason": "督办"}, ()),
    ("POST", "/report-supervision"): (("handler",), {"text": "已办理"}, ("supervise",)),
    ("POST", "/package"): (("leader",), {"leader": "leader_town1"}, ()),
    ("POST", "/revisit"): (("reception", "handler"), {"outcome": "满意", "text": "回访"}, LIFE),
    ("POST", "/close"): (("handler",), {"reason": "已满意"}, (*LIFE[:4], "rate")),
}
STEP_USERS = {"assign": "reception_county", "supervise": "leader_county"}
PUBLIC = {("GET", "/healthz"), ("POST", "/api/v1/auth/token"), ("GET", "/api/v1/progress"),
          ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}


def call(api: Running, method: str, path: str, user: str | None, body: Any = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    """One request as a seeded user, or without a token when user is None."""
    sent = api.headers(user) if user else dict(headers or {})
    return api.client.request(method, path, json=body, headers=sent)


def new_case(api: Running, setup: tuple[str, ...] = ()) -> str:
    """A case in town1.v1, driven through `setup` by county staff."""
    pid: str = api.register(receiving_unit="town1.v1", location_unit="town1.v1")["id"]
    for step in setup:
        body = CASE_ROUTES[("POST", f"/{step}")][1] or {}
        answer = api.act(pid, step, STEP_USERS.get(step, "handler_county"), **body)
        assert answer.status_code == 200, (step, answer.text)
    return pid


def recorded(api: Running, pid: str | None = None) -> tuple[int, int]:
    """The store's last event, and the case's version when a case is named."""
    last = int(api.client.get("/healthz").json()["last_event"])
    if pid is None:
        return last, 0
    return last, int(call(api, "GET", f"/api/v1/petitions/{pid}", "handler_county").json()["version"])


def flatten(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, looking into included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from flatten(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes"):
            yield from flatten(route.routes, prefix + getattr(route, "path", ""))
        else:
            yield from ((m, prefix + route.path) for m in (route.methods or set()) - {"HEAD"})


def test_the_matrix_covers_every_route_the_application_has(api: Running) -> None:
    """The routes the matrix walks are exactly the routes the app serves and documents."""
    served = set(flatten(create_app(api.container).routes))
    documented = {(m.upper(), p) for p, ops in api.client.get("/openapi.json").json()["paths"].items()
                  for m in ops}
    covered = {(m, CASE + suffix) for m, suffix in CASE_ROUTES} | set(OTHER_ROUTES)
    assert covered | PUBLIC == served
    assert covered | (PUBLIC - {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/redoc"),
                                ("GET", "/docs/oauth2-redirect")}) == documented


@pytest.mark.parametrize("route", sorted(CASE_ROUTES), ids=lambda r: f"{r[0]} {r[1] or '/'}")
def test_a_case_route_answers_only_allowed_roles_inside_their_jurisdiction(
        api: Running, route: tuple[str, str]) -> None:
    """Forbidden calls get 401/403/404 as an unknown id would and record nothing; allowed ones succeed."""
    method, suffix = route
    roles, body, setup = CASE_ROUTES[route]
    pid = new_case(api, setup)
    path, unknown = (CASE + suffix).format(petition_id=pid), (CASE + suffix).format(petition_id=UNKNOWN)
    before = recorded(api, pid)
    assert call(api, method, path, None, body).status_code == 401
    assert call(api, method, path, None, body, {"Authorization": "Bearer forged"}).status_code == 401
    for role in ROLES:
        for seat in SEATS:
            if role in roles and seat in INSIDE:
                continue
            answer = call(api, method, path, f"{role}_{seat}", body)
            assert answer.status_code == (403 if role not in roles else 404), (role, seat, answer.text)
            assert answer.json() == call(api, method, unknown, f"{role}_{seat}", body).json()
    assert recorded(api, pid) == before
    for role in roles:
        for seat in INSIDE:
            target = new_case(api, setup) if method == "POST" else pid
            _, version = recorded(api, target)
            answer = call(api, method, (CASE + suffix).format(petition_id=target), f"{role}_{seat}", body)
            assert answer.status_code == 200, (role, seat, answer.text)
            assert recorded(api, target)[1] == version + (method == "POST")


def check_register(api: Running) -> None:
    path, body = "/api/v1/petitions", petition_body(receiving_unit="town1.v1")
    assert call(api, "POST", path, None, body).status_code == 401
    before = recorded(api)
    for role in ROLES:
        for seat in SEATS:
            if role == "reception" and seat in INSIDE:
                continue
            answer = call(api, "POST", path, f"{role}_{seat}", body)
            # Registering for a unit outside one's subtree is refused by jurisdiction.
            expected = (403, "forbidden")
            assert (answer.status_code, answer.json()["code"]) == expected, (role, seat)
    assert recorded(api) == before
    for seat in INSIDE:
        assert call(api, "POST", path, f"reception_{seat}", body).status_code == 201


def units(api: Running) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = call(api, "GET", "/api/v1/units", "admin_county").json()
    return found


def users(api: Running) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = call(api, "GET", "/api/v1/users", "admin_county").json()
    return found


def check_create(path: str, listing: Callable[[Running], list[dict[str, Any]]],
                 body: Callable[[str], dict[str, Any]]) -> Callable[[Running], None]:
    """An admin creates below their own unit only; every other role is refused."""
    def check(api: Running) -> None:
        assert call(api, "POST", path, None, body("anon")).status_code == 401
        before = listing(api)
        for role in ROLES:
            for seat in SEATS:
                if role == "admin" and seat in INSIDE:
                    continue
                answer = call(api, "POST", path, f"{role}_{seat}", body(f"no-{role}-{seat}"))
                assert answer.status_code == 403, (role, seat, answer.text)
        assert listing(api) == before
        for seat in INSIDE:
            assert call(api, "POST", path, f"admin_{seat}", body(f"by-{seat}")).status_code == 201
        assert len(listing(api)) == len(before) + len(INSIDE)
    return check


def check_everyone_reads(path: str) -> Callable[[Running], None]:
    def check(api: Running) -> None:
        assert call(api, "GET", path, None).status_code == 401
        for role in ROLES:
            for seat in SEATS:
                answer = call(api, "GET", path, f"{role}_{seat}")
                assert answer.status_code == 200, (role, seat)
                if path.endswith("/me"):
                    assert answer.json()["username"] == f"{role}_{seat}"
    return check


def check_list_users(api: Running) -> None:
    assert call(api, "GET", "/api/v1/users", None).status_code == 401
    for role in ROLES:
        for seat in SEATS:
            answer = call(api, "GET", "/api/v1/users", f"{role}_{seat}")
            assert answer.status_code == (200 if role == "admin" else 403), (role, seat)
    seen = {u["username"] for u in call(api, "GET", "/api/v1/users", "admin_town2").json()}
    assert "handler_town2" in seen and not seen & {"handler_town1", "handler_county"}


def check_list_cases(api: Running) -> None:
    """Case readers list only cases of their subtree; admins may not list cases."""
    pid = new_case(api)
    assert call(api, "GET", "/api/v1/petitions", None).status_code == 401
    for role in ROLES:
        for seat in SEATS:
            answer = call(api, "GET", "/api/v1/petitions?limit=200", f"{role}_{seat}")
            if role == "admin":
                assert answer.status_code == 403, (role, seat)
                continue
            assert answer.status_code == 200, (role, seat, answer.text)
            listed = {item["id"] for item in answer.json()["items"]}
            assert (pid in listed) is (seat in INSIDE), (role, seat)
    outside = call(api, "GET", "/api/v1/petitions?unit=town1", "handler_town2")
    assert outside.status_code == 403


def check_responsibility(api: Running) -> None:
    """Leaders and auditors read responsibility for their own subtree; nobody else does."""
    path = "/api/v1/responsibility"
    assert call(api, "GET", path, None).status_code == 401
    read_only_by(api, path, "leader", "auditor")
    assert call(api, "GET", path + "?unit=town1", "leader_town2").status_code == 403
    assert call(api, "GET", path + "?unit=town1", "auditor_county").status_code == 200


def read_only_by(api: Running, path: str, *roles: str) -> None:
    """Every role at every seat reads `path`: 200 for `roles`, 403 for the rest."""
    for role in ROLES:
        for seat in SEATS:
            answer = call(api, "GET", path, f"{role}_{seat}")
            assert answer.status_code == (200 if role in roles else 403), (role, seat, answer.text)


def check_statistics(api: Running) -> None:
    """Leaders, auditors and admins read the summaries of their own subtree; nobody else does."""
    path = "/api/v1/statistics?period=2026"
    assert call(api, "GET", path, None).status_code == 401
    read_only_by(api, path, "leader", "auditor", "admin")
    assert call(api, "GET", path + "&unit=town1", "leader_town2").status_code == 403
    assert call(api, "GET", path + "&unit=town1", "admin_county").status_code == 200


def check_board(api: Running) -> None:
    """Case readers read the board of their subtree; admins do not; another subtree is refused."""
    pid = new_case(api)
    answer = api.act(pid, "escalate", "handler_county", to_unit="county", reason="重大")
    assert answer.status_code == 200
    assert call(api, "GET", "/api/v1/warnings", None).status_code == 401
    read_only_by(api, "/api/v1/warnings", *(r for r in ROLES if r != "admin"))
    assert call(api, "GET", "/api/v1/warnings?unit=town1", "leader_town2").status_code == 403


def check_rules_read(api: Running) -> None:
    """Leaders, auditors and admins read the warning rule settings; reception and handlers do not."""
    path = "/api/v1/warning-rules"
    assert call(api, "GET", path, None).status_code == 401
    read_only_by(api, path, "leader", "auditor", "admin")


def check_rules_write(api: Running) -> None:
    """Only an admin of the top unit changes the rules; every other caller is refused, changing nothing."""
    path = "/api/v1/warning-rules"
    current = call(api, "GET", path, "admin_county").json()
    changed = {**current, "revisit_remind_days": current["revisit_remind_days"] + 1}
    assert call(api, "PUT", path, None, changed).status_code == 401
    for role in ROLES:
        for seat in SEATS:
            if (role, seat) == ("admin", "county"):
                continue
            answer = call(api, "PUT", path, f"{role}_{seat}", changed)
            assert answer.status_code == 403, (role, seat, answer.text)
    assert call(api, "GET", path, "admin_county").json() == current
    assert call(api, "PUT", path, "admin_county", changed).status_code == 200
    assert call(api, "GET", path, "leader_town2").json() == changed
    assert call(api, "PUT", path, "admin_county", current).status_code == 200


OTHER_ROUTES: dict[tuple[str, str], Callable[[Running], None]] = {
    ("GET", "/api/v1/warnings"): check_board,
    ("GET", "/api/v1/warning-rules"): check_rules_read,
    ("PUT", "/api/v1/warning-rules"): check_rules_write,
    ("GET", "/api/v1/responsibility"): check_responsibility,
    ("GET", "/api/v1/statistics"): check_statistics,
    ("GET", "/api/v1/petitions"): check_list_cases,
    ("POST", "/api/v1/petitions"): check_register,
    ("POST", "/api/v1/units"): check_create(
        "/api/v1/units", units,
        lambda code: {"code": f"m-{code}", "name": "新村", "level": "village", "parent": "town1"}),
    ("GET", "/api/v1/units"): check_everyone_reads("/api/v1/units"),
    ("POST", "/api/v1/users"): check_create(
        "/api/v1/users", users,
        lambda name: {"username": f"m-{name}", "password": "password-123", "role": "handler",
                      "unit": "town1"}),
    ("GET", "/api/v1/users"): check_list_users,
    ("GET", "/api/v1/users/me"): check_everyone_reads("/api/v1/users/me"),
}


@pytest.mark.parametrize("route", sorted(OTHER_ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_directory_or_registration_route_answers_only_allowed_roles_in_their_subtree(
        api: Running, route: tuple[str, str]) -> None:
    """Each role gets 401, 403 (422 for a foreign receiving unit) or 2xx as the route's rule says."""
    OTHER_ROUTES[route](api)


def test_public_routes_answer_without_a_token(api: Running) -> None:
    """Health, login, the progress query and the API documents need no login."""
    receipt = api.register()
    answers = [
        api.client.get("/healthz"),
        api.client.post("/api/v1/auth/token", data={"username": "auditor_town2", "password": "password-123"}),
        api.client.get("/api/v1/progress", params={"case_number": receipt["case_number"],
                                                   "code": receipt["access_code"]}),
        *(api.client.get(p) for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")),
    ]
    assert [a.status_code for a in answers] == [200] * 7


def test_supervision_is_refused_to_a_leader_of_the_responsible_unit_itself(api: Running) -> None:
    """A leader orders supervision only of a unit below their own: town1's leader cannot supervise town1."""
    pid = api.register(receiving_unit="town1", location_unit="town1.v1")["id"]
    body = {"level": "red", "reason": "督办"}
    assert api.act(pid, "supervise", "leader_town1", **body).status_code == 403
    assert api.act(pid, "supervise", "leader_county", **body).status_code == 200


def test_personal_data_is_shown_in_full_only_to_reception_and_handlers(api: Running) -> None:
    """Reception and handlers see the ID number; leaders and auditors see it masked; admins see no case."""
    pid = new_case(api)
    for role in ROLES:
        for seat in INSIDE:
            case = call(api, "GET", f"/api/v1/petitions/{pid}", f"{role}_{seat}")
            history = call(api, "GET", f"/api/v1/petitions/{pid}/history", f"{role}_{seat}")
            if role == "admin":
                assert case.status_code == history.status_code == 403
                continue
            shown = case.json()["petitioners"][0]
            if role in ("reception", "handler"):
                assert (shown["id_number"], shown["phone"]) == (ID_NUMBER, "13812345678")
            else:
                assert (shown["id_number"], shown["phone"]) == ("1101**********002X", "138****5678")
                assert shown["address"] == "一村三组****"
                assert ID_NUMBER not in history.text and "13812345678" not in history.text
            assert history.json()[0]["data"]["petitioners"] == [shown]

