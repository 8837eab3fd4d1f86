"""Collaborators, cross-department access through approval (lapsing on time), bulk actions over mixed ids,
chosen-department scopes, and the tamper-evident audit log."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from conftest import assert_error
from kith.core import clock


def test_collaborators_read_and_write(api, db):
    from kith.customers.models import Customer

    c = api.customer(user="rep_north", name="协作客户")
    k = api.contact(c["id"], user="rep_north", name="协作联系人")
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    # only someone who may change the record adds team members
    assert_error(api.put(f"/customers/{c['id']}/collaborators/{api.world.users['rep_east']}", {"access": "read"}, user="rep_east"), 404)
    r = api.put(f"/customers/{c['id']}/collaborators/{api.world.users['rep_east']}", {"access": "read"}, user="rep_north")
    assert r.status_code == 200 and r.json()["items"][0]["access"] == "read"
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200
    assert api.get(f"/contacts/{k['id']}", user="rep_east").status_code == 200  # children follow
    assert_error(api.patch(f"/customers/{c['id']}", {"name": "改名", "version": 1}, user="rep_east"), 403)
    db.expire_all()
    assert db.get(Customer, c["id"]).name == "协作客户"
    api.put(f"/customers/{c['id']}/collaborators/{api.world.users['rep_east']}", {"access": "write"}, user="rep_north")
    assert api.patch(f"/customers/{c['id']}", {"name": "协作客户二", "version": 1}, user="rep_east").status_code == 200
    assert api.delete(f"/customers/{c['id']}/collaborators/{api.world.users['rep_east']}", user="rep_north").status_code == 204
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404


def test_access_request_approved_then_lapses(api):
    c = api.customer(user="rep_north", name="跨部门客户")
    api.contact(c["id"], user="rep_north", name="跨部门联系人")
    r = api.post("/access-requests", {"customer_id": c["id"], "reason": "客户在华东新设工厂，需要协同跟进", "duration_days": 3}, user="rep_east")
    assert r.status_code == 201, r.text
    req = r.json()
    # default approver: the manager of the owner's department
    assert req["steps"][0]["approvers"] == [{"id": api.world.users["manager_north"], "display_name": "王经理"}]
    assert req["subject_name"] is None  # the applicant still may not see it
    assert_error(api.post(f"/approvals/{req['id']}/approve", {}, user="manager_east"), 404)
    inbox = api.get("/approvals", params={"box": "inbox"}, user="manager_north").json()["items"]
    assert [i["id"] for i in inbox] == [req["id"]] and inbox[0]["subject_name"] == "跨部门客户"
    assert api.get("/approvals", params={"box": "mine"}, user="rep_east").json()["items"][0]["status"] == "pending"
    assert_error(api.post(f"/approvals/{req['id']}/approve", {}, user="rep_east"), 403)  # not your own
    ok = api.post(f"/approvals/{req['id']}/approve", {"comment": "同意，三天"}, user="manager_north")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200
    # the applicant may now see the customer: the notice names it and gives the expiry in their time zone
    note = api.get("/notifications", user="rep_east", headers={"Accept-Language": "zh-CN"}).json()["items"][0]
    grant_ends = (clock.now() + timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert "跨部门客户" in note["text"] and f"{grant_ends} CST" in note["text"] and "UTC" not in note["text"]
    assert api.get("/contacts", params={"customer_id": c["id"]}, user="rep_east").json()["total"] == 1
    assert api.get(f"/customers/{c['id']}/timeline", user="rep_east").status_code == 200
    assert_error(api.patch(f"/customers/{c['id']}", {"name": "x", "version": 1}, user="rep_east"), 403)  # read grant
    clock.advance(timedelta(days=3, minutes=1))
    api.forget("rep_east")
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    assert api.get("/customers", user="rep_east").json()["total"] == 0
    audit = api.get("/audit-log", params={"action": "access_granted"}).json()["items"]
    assert audit and audit[0]["entity_id"] == c["id"]


def test_reject_needs_comment_and_withdraw(api):
    c = api.customer(user="rep_north")
    req = api.post("/access-requests", {"customer_id": c["id"], "reason": "需要看看"}, user="rep_east").json()
    assert_error(api.post(f"/approvals/{req['id']}/reject", {}, user="manager_north"), 422, field="comment")
    r = api.post(f"/approvals/{req['id']}/reject", {"comment": "理由不足"}, user="manager_north")
    assert r.json()["status"] == "rejected"
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    req2 = api.post("/access-requests", {"customer_id": c["id"], "reason": "补充理由：客户转介绍"}, user="rep_east").json()
    assert_error(api.post("/access-requests", {"customer_id": c["id"], "reason": "重复申请"}, user="rep_east"), 409)
    assert_error(api.post(f"/approvals/{req2['id']}/withdraw", {}, user="manager_north"), 403)
    assert api.post(f"/approvals/{req2['id']}/withdraw", {}, user="rep_east").json()["status"] == "withdrawn"
    assert_error(api.post(f"/approvals/{req2['id']}/approve", {}, user="manager_north"), 409)


def test_multi_step_flow_by_role_and_named_user(api, db):
    from kith.approvals.models import ApprovalFlow

    flow = db.scalar(select(ApprovalFlow).where(ApprovalFlow.code == "customer_access"))
    flow.steps = [{"approver": "applicant_manager"}, {"approver": f"user:{api.world.users['admin']}"}]
    db.commit()
    c = api.customer(user="rep_north")
    req = api.post("/access-requests", {"customer_id": c["id"], "reason": "两级审批"}, user="rep_east").json()
    assert [s["approvers"][0]["id"] for s in req["steps"]] == [api.world.users["manager_east"], api.world.users["admin"]]
    assert api.post(f"/approvals/{req['id']}/approve", {}, user="manager_east").json()["current_step"] == 1
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    assert_error(api.post(f"/approvals/{req['id']}/approve", {}, user="manager_east"), 403)
    assert api.post(f"/approvals/{req['id']}/approve", {}, user="admin").json()["status"] == "approved"
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 200


def test_bulk_over_mixed_ids_never_touches_invisible(api, db):
    from kith.customers.models import Customer

    mine = [api.customer(user="rep_north", name=f"批量{i}")["id"] for i in range(2)]
    theirs = api.customer(user="rep_east", name="别人的")["id"]
    r = api.post("/customers/bulk", {"ids": [*mine, theirs, 999999], "action": "tag", "tags": ["批量标签"]}, user="rep_north")
    assert r.status_code == 200, r.text
    assert r.json() == {"changed": mine, "skipped": [theirs, 999999]}
    assert api.get("/customers", params={"tag": "批量标签"}).json()["total"] == 2
    r = api.post("/customers/bulk", {"ids": [*mine, theirs], "action": "delete"}, user="rep_north")
    assert r.json()["skipped"] == [theirs]
    db.expire_all()
    assert db.get(Customer, theirs).deleted_at is None
    assert_error(api.post("/customers/bulk", {"ids": mine, "action": "transfer", "owner_id": api.world.users["rep_east"]}, user="rep_north"), 403)


def test_bulk_transfer_moves_children(api, db):
    from kith.contacts.models import Contact

    c = api.customer(user="rep_north", name="交接客户")
    k = api.contact(c["id"], user="rep_north")
    o = api.opportunity(c["id"], user="rep_north")
    r = api.post("/customers/bulk", {"ids": [c["id"]], "action": "transfer", "owner_id": api.world.users["rep_north2"]}, user="manager_north")
    assert r.json()["changed"] == [c["id"]]
    db.expire_all()
    assert db.get(Contact, k["id"]).owner_id == api.world.users["rep_north2"]
    assert api.get(f"/opportunities/{o['id']}", user="rep_north2").status_code == 200
    assert api.get(f"/customers/{c['id']}", user="rep_north").status_code == 404
    tl = api.get(f"/customers/{c['id']}/timeline", params={"type": "customer.transferred"}).json()["items"]
    assert tl[0]["data"]["changes"]["owner"] == ["李销售", "钱销售"]
    assert api.get("/audit-log", params={"action": "transfer", "entity_type": "customer"}).json()["items"]


def test_chosen_departments_scope(api, db, world):
    from kith.auth.models import Role, User

    role = Role(code="regional", name="区域督导", permissions={"customer": ["read"]},
                data_scopes={"customer": {"departments": [world.depts["east"]]}})
    db.add(role)
    db.flush()
    u = User(username="regional", display_name="督导", password_hash="x", department_id=world.depts["hq"])
    u.roles = [role]
    db.add(u)
    db.commit()
    api.world.users["regional"] = u.id
    api.customer(user="rep_north", name="北方")
    e = api.customer(user="rep_east", name="东方")
    assert [x["id"] for x in api.get("/customers", user="regional").json()["items"]] == [e["id"]]


def test_audit_records_changes_logins_denials(api, client):
    c = api.customer(name="审计客户", level="B")
    api.patch(f"/customers/{c['id']}", {"level": "A", "version": 1})
    entries = api.get("/audit-log", params={"entity_type": "customer", "entity_id": c["id"]}, user="auditor").json()["items"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["update", "create"]
    assert entries[0]["changes"]["level"] == ["B", "A"]
    assert entries[0]["actor_name"] == "管理员" and entries[0]["request_id"]
    client.post("/api/v1/auth/login", json={"username": "rep_north", "password": "wrong"})
    client.post("/api/v1/auth/login", json={"username": "rep_north", "password": "test-pass-2026"})
    logins = api.get("/audit-log", params={"entity_type": "user", "entity_id": api.world.users["rep_north"]}).json()["items"]
    assert [e["action"] for e in logins[:2]] == ["login", "login_failed"]
    api.patch(f"/customers/{c['id']}", {"name": "x", "version": 2}, user="finance")
    denied = api.get("/audit-log", params={"action": "denied"}).json()["items"]
    assert denied and denied[0]["actor_id"] == api.world.users["finance"]


def test_tampering_breaks_the_chain_at_that_row(api, engine, settings, monkeypatch):
    from typer.testing import CliRunner

    from kith import cli
    from kith.config import reset_settings
    from kith.db.session import dispose_engines

    for i in range(3):
        api.customer(name=f"链条{i}")
    monkeypatch.setenv("KITH_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("KITH_SECRET_KEY", settings.secret_key)
    reset_settings()
    runner = CliRunner()
    try:
        ok = runner.invoke(cli.app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "intact" in ok.output
        with engine.begin() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]
            victim = ids[len(ids) // 2]
            conn.execute(text("UPDATE audit_log SET actor_name = 'mallory' WHERE id = :id"), {"id": victim})
        dispose_engines()
        bad = runner.invoke(cli.app, ["audit", "verify"])
        assert bad.exit_code == 1
        assert f"entry {victim}" in bad.output
    finally:
        reset_settings()
        dispose_engines()


def test_approval_notifications_in_app(api):
    c = api.customer(user="rep_north", name="通知客户")
    req = api.post("/access-requests", {"customer_id": c["id"], "reason": "协同跟进", "duration_days": 5}, user="rep_east").json()
    assert api.get("/notifications/unread-count", user="manager_north").json() == {"unread": 1}
    note = api.get("/notifications", user="manager_north", headers={"Accept-Language": "zh-CN"}).json()["items"][0]
    assert "周销售" in note["text"] and "通知客户" in note["text"] and note["link"] == f"/approvals/{req['id']}"
    en = api.get("/notifications", user="manager_north", headers={"Accept-Language": "en"}).json()["items"][0]
    assert en["text"].startswith("周销售 asks for access")
    assert api.post(f"/notifications/{note['id']}/read", user="manager_north").json()["read"] is True
    assert api.get("/notifications/unread-count", user="manager_north").json() == {"unread": 0}
    assert api.post(f"/notifications/{note['id']}/read", user="rep_east").status_code == 404  # not yours
    api.post(f"/approvals/{req['id']}/reject", {"comment": "暂不开放"}, user="manager_north")
    mine = api.get("/notifications", params={"unread": "true"}, user="rep_east").json()["items"]
    assert len(mine) == 1 and "暂不开放" in mine[0]["text"]
    assert "通知客户" not in mine[0]["text"]  # the applicant still may not see the customer's name
    assert api.post("/notifications/read-all", user="rep_east").json() == {"marked": 1}
