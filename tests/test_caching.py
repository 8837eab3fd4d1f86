"""Per-process caches (compiled actors, verified tokens, custom-field definitions) never serve stale access.

Each test warms the cache with a request, changes something - through the API, or behind the app's back
with plain SQL the way another worker process or an operator would - and checks that the very next
request sees the change (ADR 0016)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from kith.core import clock


def _role(api, code: str) -> dict:
    roles = api.get("/roles", params={"limit": 200}).json()["items"]
    return next(r for r in roles if r["code"] == code)


def _patch_role(api, code: str, **changes) -> None:
    role = _role(api, code)
    r = api.patch(f"/roles/{role['id']}", {**changes, "version": role["version"]})
    assert r.status_code == 200, r.text


def test_field_right_change_is_seen_by_the_next_request(api):
    c = api.customer(user="rep_north", phone="13812345678")
    assert api.get(f"/customers/{c['id']}", user="rep_north").json()["phone"] == "+8613812345678"  # warm the cache
    rights = _role(api, "sales_rep")["field_rights"]
    _patch_role(api, "sales_rep", field_rights={**rights, "customer": {**rights.get("customer", {}), "phone": "hidden"}})
    detail = api.get(f"/customers/{c['id']}", user="rep_north").json()
    assert "phone" not in detail
    assert all("phone" not in item for item in api.get("/customers", user="rep_north").json()["items"])
    assert api.get("/customers", params={"phone": "+8613812345678"}, user="rep_north").status_code == 403
    _patch_role(api, "sales_rep", field_rights=rights)
    assert api.get(f"/customers/{c['id']}", user="rep_north").json()["phone"] == "+8613812345678"


def test_role_edited_by_another_process_is_seen(api, engine):
    from kith.auth.models import Role

    c = api.customer(user="rep_north", phone="13812345678")
    assert "phone" in api.get(f"/customers/{c['id']}", user="rep_north").json()
    role = _role(api, "sales_rep")
    rights = {**role["field_rights"], "customer": {"phone": "hidden"}}
    # plain SQL from outside the app: no ORM event, no version bump
    with engine.begin() as conn:
        conn.execute(update(Role).where(Role.code == "sales_rep").values(field_rights=rights))
    assert "phone" not in api.get(f"/customers/{c['id']}", user="rep_north").json()
    with engine.begin() as conn:
        conn.execute(update(Role).where(Role.code == "sales_rep").values(permissions={}))
    assert api.get("/customers", user="rep_north").status_code == 403
    assert api.get(f"/customers/{c['id']}", user="rep_north").status_code == 404


def test_revoked_grant_answers_404_on_the_next_request(api, engine):
    from kith.access.models import AccessGrant

    c = api.customer(user="rep_north", name="授权客户")
    req = api.post("/access-requests", {"customer_id": c["id"], "reason": "协同跟进华东工厂", "duration_days": 3}, user="rep_east").json()
    assert api.post(f"/approvals/{req['id']}/approve", {"comment": "同意"}, user="manager_north").status_code == 200
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200
    assert api.get("/customers", user="rep_east").json()["total"] == 1
    with engine.begin() as conn:
        conn.execute(update(AccessGrant).where(AccessGrant.customer_id == c["id"]).values(revoked_at=clock.now()))
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    assert api.get("/customers", user="rep_east").json()["total"] == 0


def test_grant_lapses_with_the_clock_while_cached(api):
    c = api.customer(user="rep_north")
    req = api.post("/access-requests", {"customer_id": c["id"], "reason": "协同跟进", "duration_days": 1}, user="rep_east").json()
    api.post(f"/approvals/{req['id']}/approve", {"comment": "同意"}, user="manager_north")
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200
    clock.advance(timedelta(days=1, minutes=1))
    api.forget("rep_east")  # the old token expired too
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404


def test_removed_collaborator_answers_404(api):
    c = api.customer(user="rep_north")
    uid = api.world.users["rep_east"]
    assert api.put(f"/customers/{c['id']}/collaborators/{uid}", {"access": "read"}, user="rep_north").status_code == 200
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200
    assert api.delete(f"/customers/{c['id']}/collaborators/{uid}", user="rep_north").status_code == 204
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404


def test_role_assignment_and_department_changes_are_seen(api):
    mine = api.customer(user="manager_north")
    theirs = api.customer(user="rep_north")
    uid = api.world.users["manager_north"]
    assert {x["id"] for x in api.get("/customers", user="manager_north").json()["items"]} == {mine["id"], theirs["id"]}
    user = api.get(f"/users/{uid}").json()
    r = api.patch(f"/users/{uid}", {"role_codes": ["sales_rep"], "version": user["version"]})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in api.get("/customers", user="manager_north").json()["items"]] == [mine["id"]]
    # back to manager, then move the user to the east: the scope follows the department
    r = api.patch(f"/users/{uid}", {"role_codes": ["sales_manager"], "department_id": api.world.depts["east"],
                                    "version": r.json()["version"]})
    assert r.status_code == 200, r.text
    east = api.customer(user="rep_east")
    assert {x["id"] for x in api.get("/customers", user="manager_north").json()["items"]} == {mine["id"], east["id"]}


def test_department_moved_by_path_rewrite_is_seen(api):
    # manager_east's scope is the east subtree; moving the north department under east (a bulk path
    # rewrite, no version bump on the users) must widen it on the next request
    north_customer = api.customer(user="rep_north")
    assert api.get(f"/customers/{north_customer['id']}", user="manager_east").status_code == 404
    dept = api.get(f"/departments/{api.world.depts['north']}").json()
    r = api.patch(f"/departments/{dept['id']}", {"parent_id": api.world.depts["east"], "version": dept["version"]})
    assert r.status_code == 200, r.text
    assert api.get(f"/customers/{north_customer['id']}", user="manager_east").status_code == 200


def test_deactivation_and_password_reset_revoke_at_once(api):
    uid = api.world.users["rep_north"]
    assert api.get("/customers", user="rep_north").status_code == 200
    assert api.post(f"/users/{uid}/password", {"password": "another-pass-2026"}).status_code == 204
    assert api.get("/customers", user="rep_north").status_code == 401  # token version moved
    api.forget("rep_north")
    assert api.get("/customers", user="rep_north").status_code == 200
    user = api.get(f"/users/{uid}").json()
    assert api.patch(f"/users/{uid}", {"is_active": False, "version": user["version"]}).status_code == 200
    assert api.get("/customers", user="rep_north").status_code == 401


def test_expired_token_is_refused_although_verified_before(api, settings):
    assert api.get("/customers", user="rep_north").status_code == 200
    clock.advance(timedelta(minutes=settings.access_token_minutes + 1))
    assert api.get("/customers", user="rep_north").status_code == 401


def test_users_with_the_same_roles_never_share_a_scope(api):
    a = api.customer(user="rep_north")
    b = api.customer(user="rep_north2")
    # same role, same department: only the user differs
    assert [x["id"] for x in api.get("/customers", user="rep_north").json()["items"]] == [a["id"]]
    assert [x["id"] for x in api.get("/customers", user="rep_north2").json()["items"]] == [b["id"]]
    assert api.get(f"/customers/{b['id']}", user="rep_north").status_code == 404
    r = api.get("/me", user="rep_north2")
    assert r.status_code == 200 and r.json()["username"] == "rep_north2", r.text


def test_custom_field_definitions_follow_changes(api, engine):
    from kith.customfields.models import CustomField

    c = api.customer()
    assert not [k for k in api.get(f"/customers/{c['id']}").json() if k.startswith("cf_")]
    r = api.post("/custom-fields", {"entity_type": "customer", "name": "budget", "label": "预算", "field_type": "number"})
    assert r.status_code == 201, r.text
    assert api.get(f"/customers/{c['id']}").json()["cf_budget"] is None
    assert api.patch(f"/customers/{c['id']}", {"cf_budget": 12, "version": 1}).status_code == 200
    assert api.get("/customers").json()["items"][0]["cf_budget"] == 12
    assert api.get("/customers", params={"cf_budget__gte": 10}).json()["total"] == 1
    # renamed behind the app's back: the next request knows the new name only
    with engine.begin() as conn:
        conn.execute(update(CustomField).where(CustomField.name == "budget").values(name="budget2"))
    item = api.get(f"/customers/{c['id']}").json()
    assert "cf_budget" not in item and "cf_budget2" in item
    with engine.begin() as conn:
        conn.execute(text("UPDATE custom_fields SET active = :f"), {"f": False})
    assert not [k for k in api.get(f"/customers/{c['id']}").json() if k.startswith("cf_")]


def test_custom_field_definitions_edited_behind_the_app_are_seen(api, engine):
    """Read-only requests take the definitions from a per-process cache (on PostgreSQL under a digest the request's
    first query reads, ADR 0027): an edit with plain SQL, without a version bump, is seen by the next request, and
    so is the edit that puts the old content back."""
    r = api.post("/custom-fields", {"entity_type": "customer", "name": "region_code", "label": "区域代码", "field_type": "text"})
    assert r.status_code == 201, r.text
    c = api.customer(name="定义缓存客户", cf_region_code="EAST-1")
    for _ in range(2):  # warm the caches
        assert api.get(f"/customers/{c['id']}").json()["cf_region_code"] == "EAST-1"
        assert api.get("/customers", params={"cf_region_code": "EAST-1"}).json()["total"] == 1
    with engine.begin() as conn:
        conn.execute(text("UPDATE custom_fields SET active = false WHERE name = 'region_code'"))
    assert "cf_region_code" not in api.get(f"/customers/{c['id']}").json()
    assert all("cf_region_code" not in item for item in api.get("/customers").json()["items"])
    assert api.get("/customers", params={"cf_region_code": "EAST-1"}).status_code == 400
    with engine.begin() as conn:
        conn.execute(text("UPDATE custom_fields SET active = true, label = '大区代码' WHERE name = 'region_code'"))
    assert api.get(f"/customers/{c['id']}").json()["cf_region_code"] == "EAST-1"
    assert api.get("/customers", params={"cf_region_code": "EAST-1"}).json()["total"] == 1
    labels = {f["name"]: f["label"] for f in api.get("/custom-fields", params={"entity_type": "customer"}).json()["items"]}
    assert labels["region_code"] == "大区代码"
