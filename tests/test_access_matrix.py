"""The access matrix: every built-in role × every relation between a user and a record × every read path,
and every role × protected field × read path. Expected results are written out by hand below."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from kith.access.policy import BUILTIN_ROLES
from kith.core import clock

ROLES = [r["code"] for r in BUILTIN_ROLES]
RELATIONS = ["own", "same_dept", "sub_dept", "other_dept", "collab_read", "collab_write", "grant", "expired_grant"]
# which relations each data scope reaches (the truth table, not computed from the code under test)
VISIBLE = {
    "all": set(RELATIONS),
    "dept_tree": {"own", "same_dept", "sub_dept", "collab_read", "collab_write", "grant"},
    "own": {"own", "collab_read", "collab_write", "grant"},
}
SCOPE_OF_ROLE = {"admin": "all", "sales_manager": "dept_tree", "sales_rep": "own", "service": "all", "marketing": "all",
                 "finance": "all", "support": "all", "auditor": "all"}
# who may change a record (update permission and write access)
WRITABLE = {
    "sales_manager": {"own", "same_dept", "sub_dept", "collab_write"},
    "sales_rep": {"own", "collab_write"},
    "admin": set(RELATIONS),
}


def _make_viewer(db, world, role_code: str) -> int:
    from kith.auth.models import Role, User

    role = db.scalar(select(Role).where(Role.code == role_code))
    u = User(username=f"viewer_{role_code}", display_name=f"观察者{role_code}", password_hash="x", department_id=world.depts["north"])
    u.roles = [role]
    db.add(u)
    db.commit()
    return u.id


@pytest.fixture(params=ROLES)
def matrix(request, api, db, world):
    from kith.access.models import AccessGrant, RecordCollaborator

    role = request.param
    viewer = _make_viewer(db, world, role)
    api.world.users["viewer"] = viewer
    owners = {
        "own": viewer, "same_dept": world.users["rep_north2"], "sub_dept": world.users["rep_north_bj"],
        "other_dept": world.users["rep_east"], "collab_read": world.users["rep_east"], "collab_write": world.users["rep_east"],
        "grant": world.users["rep_east"], "expired_grant": world.users["rep_east"],
    }
    tag = uuid.uuid4().hex[:6]
    records = {}
    now = clock.now()
    for rel, owner in owners.items():
        name = f"矩阵{rel}{tag}"
        c = api.post("/customers", {"name": name, "owner_id": owner}).json()
        k = api.contact(c["id"], name=f"联系{rel}{tag}")
        f = api.post("/followups", {"customer_id": c["id"], "type": "note", "content": f"记录{rel}"}).json()
        records[rel] = {"customer": c, "contact": k, "followup": f, "name": name}
        if rel.startswith("collab"):
            db.add(RecordCollaborator(entity_type="customer", entity_id=c["id"], user_id=viewer, access=rel.split("_")[1]))
        if rel == "grant":
            db.add(AccessGrant(user_id=viewer, customer_id=c["id"], access="read", starts_at=now - timedelta(days=1), expires_at=now + timedelta(days=3)))
        if rel == "expired_grant":
            db.add(AccessGrant(user_id=viewer, customer_id=c["id"], access="read", starts_at=now - timedelta(days=10), expires_at=now - timedelta(days=1)))
    db.commit()
    return role, records, tag


def test_record_visibility_on_every_read_path(api, matrix):
    role, records, tag = matrix
    expected = VISIBLE[SCOPE_OF_ROLE[role]]
    listed = api.get("/customers", params={"limit": 200}, user="viewer").json()
    listed_ids = {c["id"] for c in listed["items"]}
    assert listed["total"] == len([r for r in RELATIONS if r in expected]) or SCOPE_OF_ROLE[role] == "all"
    def ids_of(path, **params):
        r = api.get(path, params={"limit": 200, **params}, user="viewer")
        if r.status_code == 403:  # the role may not read this module at all
            return set()
        return {x["id"] for x in r.json()["items"]}

    contacts_listed = ids_of("/contacts")
    followups_listed = ids_of("/followups")
    can_followups = api.get("/followups", user="viewer").status_code == 200
    can_contacts = api.get("/contacts", user="viewer").status_code == 200
    search_hits = {h["id"] for h in api.get("/search", params={"q": tag, "types": "customer"}, user="viewer").json()["items"]}
    q_total = api.get("/customers", params={"q": tag}, user="viewer").json()["total"]
    export = api.get("/customers/export", params={"format": "csv", "q": tag}, user="viewer")
    exported = export.text if export.status_code == 200 else None
    assert q_total == len(expected), (role, q_total)
    for rel in RELATIONS:
        rec = records[rel]
        cid, kid, fid = rec["customer"]["id"], rec["contact"]["id"], rec["followup"]["id"]
        visible = rel in expected
        where = f"{role}/{rel}"
        assert (cid in listed_ids) == visible, f"list {where}"
        assert (cid in search_hits) == visible, f"search {where}"
        if exported is not None:  # roles with the export right
            assert (rec["name"] in exported) == visible, f"export {where}"
        assert (api.get(f"/customers/{cid}", user="viewer").status_code == 200) == visible, f"detail {where}"
        assert (api.get(f"/customers/{cid}/timeline", user="viewer").status_code == 200) == visible, f"timeline {where}"
        assert (ids_of("/contacts", customer_id=cid) == {kid}) == (visible and can_contacts), f"child list {where}"
        assert (kid in contacts_listed) == (visible and can_contacts), f"contacts list {where}"
        assert (api.get(f"/contacts/{kid}", user="viewer").status_code == 200) == (visible and can_contacts), f"contact detail {where}"
        assert (fid in followups_listed) == (visible and can_followups), f"follow-ups list {where}"
    # merge history (GET /merges, /merges/{id}): a merge is visible exactly when its surviving record is
    merges = {}
    for rel in RELATIONS:
        survivor = api.get(f"/customers/{records[rel]['customer']['id']}").json()
        other = api.post("/customers", {"name": f"并入{rel}{tag}", "owner_id": survivor["owner_id"]}).json()
        m = api.post(f"/customers/{survivor['id']}/merge", {"other_id": other["id"], "version": survivor["version"]})
        assert m.status_code == 200, m.text
        merges[rel] = m.json()["merge_id"]
    merges_listed = ids_of("/merges")
    for rel in RELATIONS:
        visible, where = rel in expected, f"{role}/{rel}"
        assert (merges[rel] in merges_listed) == visible, f"merge history {where}"
        assert (api.get(f"/merges/{merges[rel]}", user="viewer").status_code == 200) == visible, f"merge detail {where}"


def test_record_write_access(api, matrix, db):
    from kith.customers.models import Customer

    role, records, _tag = matrix
    visible = VISIBLE[SCOPE_OF_ROLE[role]]
    allowed = WRITABLE.get(role, set())
    for rel in RELATIONS:
        c = records[rel]["customer"]
        version = api.get(f"/customers/{c['id']}").json()["version"]
        r = api.patch(f"/customers/{c['id']}", {"description": "改过", "version": version}, user="viewer")
        expected = 200 if rel in allowed else (403 if rel in visible else 404)
        assert r.status_code == expected, f"{role}/{rel}: {r.status_code} {r.text}"
        db.expire_all()
        assert (db.get(Customer, c["id"]).description == "改过") == (expected == 200)


FIELD_MATRIX = {
    # role: contract amount on every read path -> "write" | "read" | "hidden" | "no_access"
    "admin": "write", "sales_manager": "write", "sales_rep": "hidden", "finance": "read", "auditor": "read",
    "support": "no_access", "service": "no_access", "marketing": "no_access",
}


@pytest.mark.parametrize("role", ROLES)
def test_contract_amount_on_every_read_path(api, db, world, role):
    viewer = _make_viewer(db, world, role)
    api.world.users["viewer"] = viewer
    c = api.post("/customers", {"name": f"金额客户{role}", "owner_id": viewer}).json()
    k = api.post("/contracts", {"customer_id": c["id"], "title": "金额合同", "amount": "876543.21", "owner_id": viewer}).json()
    api.patch(f"/contracts/{k['id']}", {"amount": "912345.67", "version": 1})
    api.post(f"/contracts/{k['id']}/payments", {"received_on": "2026-11-01", "amount": "55555.55"})
    right = FIELD_MATRIX[role]
    paths = [f"/contracts/{k['id']}", "/contracts", f"/contracts/{k['id']}/payments", f"/customers/{c['id']}/timeline"]
    for path in paths:
        r = api.get(path, user="viewer")
        if right == "no_access" and path.startswith("/contracts"):
            assert r.status_code in (403, 404) or r.json().get("total") == 0, f"{role} {path}: {r.status_code}"
            continue
        assert r.status_code == 200, f"{role} {path}: {r.text}"
        body = r.text
        shows = "912345.67" in body or "876543.21" in body
        if path.endswith("/payments"):
            shows = "55555.55" in body
        assert shows == (right in ("read", "write")), f"{role} {path}"
    if right in ("read", "write", "hidden"):
        r = api.patch(f"/contracts/{k['id']}", {"amount": "1.00", "version": 2}, user="viewer")
        assert (r.status_code == 200) == (right == "write"), f"{role} write: {r.status_code}"
    if right == "hidden":
        assert api.get("/contracts", params={"amount__gte": "1"}, user="viewer").status_code == 403
        assert api.get("/contracts", params={"sort": "amount"}, user="viewer").status_code == 403
    if role in ("auditor", "admin"):
        audit = api.get("/audit-log", params={"entity_type": "contract", "entity_id": k["id"]}, user="viewer").text
        assert "912345.67" in audit


def test_audit_view_masks_hidden_fields(api, db, world):
    """A role that may read the audit log but not contract amounts sees the entries with the amount masked."""
    from kith.auth.models import Role

    role = Role(code="junior_auditor", name="初级审计", permissions={"audit": ["read"], "contract": ["read"]},
                data_scopes={"contract": "all"}, field_rights={"contract": {"amount": "hidden"}})
    db.add(role)
    db.commit()
    viewer = _make_viewer(db, world, "junior_auditor")
    api.world.users["viewer"] = viewer
    c = api.customer()
    k = api.contract(c["id"], amount="777777.77")
    r = api.get("/audit-log", params={"entity_type": "contract", "entity_id": k["id"]}, user="viewer")
    assert r.status_code == 200 and r.json()["items"]
    assert "777777.77" not in r.text
    assert "amount" in r.json()["items"][0]["changes"]["_masked"]
    assert api.get("/audit-log", user="rep_north").status_code == 403


# Reports (issue 7): figures count exactly the records the viewer may read; amounts follow the amount right.
REPORT_ROLES = {"admin", "sales_manager", "sales_rep", "finance", "marketing", "auditor"}  # built-in roles with report.read
REPORT_AMOUNTS = {"admin": True, "sales_manager": True, "finance": True, "auditor": True, "sales_rep": False}


def test_reports_count_only_the_viewers_scope(api, matrix):
    role, records, _tag = matrix
    expected = VISIBLE[SCOPE_OF_ROLE[role]]
    r = api.get("/reports/new_customers", params={"period": "year"}, user="viewer")
    if role not in REPORT_ROLES:
        assert r.status_code == 403, role
        return
    assert r.status_code == 200, r.text
    assert r.json()["data"]["total"] == len(expected), role
    drilled = api.get("/reports/new_customers/records", params={"period": "year", "limit": 200}, user="viewer").json()
    assert {i["id"] for i in drilled["items"]} == {records[rel]["customer"]["id"] for rel in expected}, role
    assert api.get("/reports/followup_timeliness", user="viewer").json()["data"]["customers"] == len(expected), role


@pytest.mark.parametrize("role", ROLES)
def test_report_amounts_follow_the_amount_right(api, db, world, role):
    from zoneinfo import ZoneInfo

    viewer = _make_viewer(db, world, role)
    api.world.users["viewer"] = viewer
    c = api.post("/customers", {"name": f"报表金额{role}", "owner_id": viewer}).json()
    today = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    api.post("/contracts", {"customer_id": c["id"], "title": "报表合同", "amount": "876543.21", "sign_date": today, "owner_id": viewer})
    r = api.get("/reports/contracts_payments", params={"period": "year"}, user="viewer")
    if role not in REPORT_AMOUNTS:
        assert r.status_code == 403, role
        return
    assert r.status_code == 200 and r.json()["data"]["contracts"] == 1, r.text
    assert ("876543.21" in r.text) == REPORT_AMOUNTS[role], role
    assert ("amount" in r.text) == REPORT_AMOUNTS[role], role


# The public pool (公海): a customer released into the north pool by its owner's manager. Who sees it in the pool list
# (masked), who reaches its record directly (pooled customers have no owner: only "all" customer scopes), who may claim.
POOL_RELATIONS = ["north_pool", "east_pool", "company_pool"]
POOL_VISIBLE = {  # role (viewer in the north department) -> pools listed in /pool
    "admin": {"north_pool", "east_pool", "company_pool"}, "auditor": {"north_pool", "east_pool", "company_pool"},
    "sales_manager": {"north_pool", "company_pool"}, "sales_rep": {"north_pool", "company_pool"},
    "service": set(), "marketing": set(), "finance": set(), "support": set(),
}
POOL_CAN_CLAIM = {"admin", "sales_manager", "sales_rep"}


@pytest.mark.parametrize("role", ROLES)
def test_pool_visibility_per_role(api, db, world, role):
    from kith.pool.service import ensure_default_rules

    ensure_default_rules(db)
    db.commit()
    for name, dept in (("north", world.depts["north"]), ("east", world.depts["east"])):
        assert api.post("/pool-rules", {"name": f"{name} pool", "department_id": dept}).status_code == 201
    viewer = _make_viewer(db, world, role)
    api.world.users["viewer"] = viewer
    owners = {"north_pool": "rep_north2", "east_pool": "rep_east", "company_pool": "finance"}
    ids = {}
    for rel, owner in owners.items():
        c = api.post("/customers", {"name": f"公海{rel}{uuid.uuid4().hex[:4]}", "owner_id": world.users[owner],
                                    "phone": "13912345678" if rel == "north_pool" else None}).json()
        assert api.post(f"/customers/{c['id']}/release", {"reason": "矩阵"}).status_code == 200
        ids[rel] = c["id"]
    r = api.get("/pool", params={"limit": 200}, user="viewer")
    listed = {i["id"] for i in r.json()["items"]} if r.status_code == 200 else set()
    assert (r.status_code == 200) == bool(POOL_VISIBLE[role]), f"{role} pool list {r.status_code}"
    if r.status_code == 200 and role != "admin":
        assert "13912345678" not in r.text and "139****5678" in r.text, role
    detail_scope_all = SCOPE_OF_ROLE[role] == "all"
    for rel in POOL_RELATIONS:
        cid = ids[rel]
        assert (cid in listed) == (rel in POOL_VISIBLE[role]), f"{role}/{rel} pool list"
        assert (api.get(f"/customers/{cid}", user="viewer").status_code == 200) == detail_scope_all, f"{role}/{rel} detail"
    claim = api.post(f"/pool/{ids['north_pool']}/claim", user="viewer")
    assert (claim.status_code == 200) == (role in POOL_CAN_CLAIM), f"{role} claim {claim.status_code}"
