"""The public pool (公海): automatic return with a warning before, manual release with a reason, claim cap, cool-down,
masked fields until claimed, department pools, timeline and audit; handovers (离职交接)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import assert_error
from kith.core import clock


@pytest.fixture()
def pool(world, db):
    """Pool rules are emptied between tests: put the install default (company pool, no automatic return) back."""
    from kith.pool.models import PoolRule
    from kith.pool.service import ensure_default_rules

    ensure_default_rules(db)
    db.commit()
    return db.scalar(select(PoolRule.id))


def advance(api, **delta) -> None:
    clock.advance(timedelta(**delta))
    api._tokens.clear()  # access tokens expire meanwhile


def sweep(db) -> dict:
    from kith.pool.service import run_sweep

    out = run_sweep(db, clock.now())
    db.commit()
    return out


def notes(db, world, user: str, kind: str) -> list:
    from kith.notifications.models import Notification

    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.user_id == world.users[user], Notification.kind == kind)))


def pool_ids(api, user: str) -> set[int]:
    r = api.get("/pool", params={"limit": 200}, user=user)
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["items"]}


def event_types(api, cid: int) -> list[str]:
    return [e["type"] for e in api.get(f"/customers/{cid}/timeline").json()["items"]]


def test_pool_rules_defaults_and_access(api, pool):
    rules = api.get("/pool-rules").json()["items"]
    assert len(rules) == 1 and rules[0]["department_id"] is None and "phone" in rules[0]["masked_fields"]
    assert rules[0]["no_followup_days"] is None  # no automatic return until an administrator sets the days
    assert api.get("/pool-rules", user="manager_north").status_code == 200
    assert api.post("/pool-rules", {"name": "x"}, user="manager_north").status_code == 403
    assert api.get("/pool-rules", user="finance").status_code == 403
    assert_error(api.post("/pool-rules", {"name": "x", "visible_fields": ["name", "password_hash"]}), 422)
    assert_error(api.post("/pool-rules", {"name": "x", "claim_cap": -1}), 422, field="claim_cap")
    assert_error(api.post("/pool-rules", {"name": "x", "department_id": 999999}), 422, field="department_id")
    r = api.post("/pool-rules", {"name": "华北公海", "department_id": api.world.depts["north"], "no_followup_days": 15})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = api.patch(f"/pool-rules/{rid}", {"claim_cap": 10, "no_won_days": 90})
    assert r.status_code == 200 and r.json()["claim_cap"] == 10 and r.json()["no_won_days"] == 90
    assert_error(api.patch(f"/pool-rules/{rid}", {"cooldown_days": None}), 422, field="cooldown_days")
    audit = api.get("/audit-log", params={"entity_type": "pool_rule", "entity_id": rid}).json()["items"]
    assert {e["action"] for e in audit} >= {"create", "update"}
    assert api.delete(f"/pool-rules/{rid}").status_code == 204
    assert api.get(f"/pool-rules/{rid}").status_code == 404


def test_customer_returns_after_n_days_with_a_warning_before(api, pool, db, world):
    api.patch(f"/pool-rules/{pool}", {"no_followup_days": 30, "warn_days_before": 3})
    quiet = api.customer(user="rep_north", phone="13812345678")
    busy = api.customer(user="rep_north")
    advance(api, days=26)
    api.post("/followups", {"customer_id": busy["id"], "type": "call", "content": "定期回访"}, user="rep_north")
    assert sweep(db) == {"warned": 0, "returned": 0}
    advance(api, days=1, hours=12)  # 27.5 days: inside the 3-day warning window
    assert sweep(db)["warned"] == 1
    assert sweep(db)["warned"] == 0  # once
    warned = notes(db, world, "rep_north", "pool_warning")
    assert [n.entity_id for n in warned] == [quiet["id"]]
    assert "退回公海" in api.get("/notifications", user="rep_north").text
    assert api.get(f"/customers/{quiet['id']}", user="rep_north").status_code == 200

    advance(api, days=3)
    assert sweep(db) == {"warned": 0, "returned": 1}
    assert sweep(db)["returned"] == 0  # idempotent
    assert [n.entity_id for n in notes(db, world, "rep_north", "pool_returned_no_followup")] == [quiet["id"]]
    assert "no follow-up for 30 days" in api.get("/notifications", user="rep_north", headers={"Accept-Language": "en"}).text
    # the former owner no longer owns it: not in their lists, not reachable directly, not writable
    assert api.get(f"/customers/{quiet['id']}", user="rep_north").status_code == 404
    assert quiet["id"] not in {c["id"] for c in api.get("/customers", user="rep_north").json()["items"]}
    assert api.get(f"/customers/{busy['id']}", user="rep_north").status_code == 200
    # the company pool: every rep sees it, phone masked
    assert quiet["id"] in pool_ids(api, "rep_east") and quiet["id"] in pool_ids(api, "rep_north")
    item = next(i for i in api.get("/pool", user="rep_east").json()["items"] if i["id"] == quiet["id"])
    assert item["phone"] == "138****5678" and "13812345678" not in api.get("/pool", user="rep_east").text
    assert "pool_returned" in event_types(api, quiet["id"])
    audit = api.get("/audit-log", params={"entity_type": "customer", "entity_id": quiet["id"]}).json()["items"]
    assert any("pool_entered_at" in e["changes"] for e in audit)


def test_no_won_deal_rule_returns_customers_without_recent_wins(api, pool, db, world):
    api.patch(f"/pool-rules/{pool}", {"no_won_days": 60, "warn_days_before": 0})
    idle = api.customer(user="rep_east")
    winner = api.customer(user="rep_east")
    opp = api.opportunity(winner["id"], user="rep_east")
    advance(api, days=50)
    won = next(s for s in api.get("/pipelines").json()["items"][0]["stages"] if s["kind"] == "won")
    version = api.get(f"/opportunities/{opp['id']}", user="rep_east").json()["version"]
    r = api.patch(f"/opportunities/{opp['id']}", {"stage_id": won["id"], "version": version}, user="rep_east")
    assert r.status_code == 200, r.text
    advance(api, days=11)
    assert sweep(db)["returned"] == 1
    assert pool_ids(api, "admin") == {idle["id"]}
    assert [n.entity_id for n in notes(db, world, "rep_east", "pool_returned_no_won")] == [idle["id"]]


def test_release_claim_cap_cooldown_department_pool_and_masking(api, pool, db, world):
    north = world.depts["north"]
    r = api.post("/pool-rules", {"name": "华北公海", "department_id": north, "claim_cap": 2, "cooldown_days": 5,
                                 "visible_fields": ["name", "level", "phone", "email"], "masked_fields": ["phone", "email"]})
    assert r.status_code == 201
    c = api.customer(user="rep_north", phone="13812345678", email="boss@example.com", level="B")
    api.contact(c["id"], user="rep_north", name="张总")

    # reps may not release; a manager must give a reason
    assert api.post(f"/customers/{c['id']}/release", {"reason": "不想要了"}, user="rep_north").status_code == 403
    assert_error(api.post(f"/customers/{c['id']}/release", {}, user="manager_north"), 422, field="reason")
    assert_error(api.post(f"/customers/{c['id']}/release", {"reason": "  "}, user="manager_north"), 422, field="reason")
    assert api.post(f"/customers/{c['id']}/release", {"reason": "x"}, user="manager_east").status_code == 404
    r = api.post(f"/customers/{c['id']}/release", {"reason": "长期无需求"}, user="manager_north")
    assert r.status_code == 200, r.text
    assert api.post(f"/customers/{c['id']}/release", {"reason": "again"}).status_code == 409
    assert [n.entity_id for n in notes(db, world, "rep_north", "pool_released")] == [c["id"]]

    # the north pool: north and its sub-department see it (masked); east does not, nor can claim it
    listed = api.get("/pool", user="rep_north_bj").json()["items"]
    item = next(i for i in listed if i["id"] == c["id"])
    assert item["phone"] == "138****5678" and item["email"] == "b***@example.com" and item["level"] == "B"
    assert "industry" not in item and "13812345678" not in api.get("/pool", user="rep_north_bj").text
    assert c["id"] not in pool_ids(api, "rep_east")
    assert c["id"] in pool_ids(api, "manager_north") and c["id"] in pool_ids(api, "admin")
    assert api.post(f"/pool/{c['id']}/claim", user="rep_east").status_code == 404
    assert api.get(f"/customers/{c['id']}", user="rep_north").status_code == 404
    assert api.get(f"/customers/{c['id']}", user="manager_north").status_code == 404
    pooled = api.get(f"/customers/{c['id']}").json()  # the administrator still reads it, flagged as in the pool
    assert pooled["in_pool"] is True and pooled["pool_entered_at"]

    # the former owner waits for the cool-down, told until when
    err = assert_error(api.post(f"/pool/{c['id']}/claim", user="rep_north"), 409, code="pool_cooldown")
    assert "5" in err["message"] and err["details"]["cooldown_until"]
    # the cap counts customers a user owns
    api.customer(user="rep_north2")
    api.customer(user="rep_north2")
    err = assert_error(api.post(f"/pool/{c['id']}/claim", user="rep_north2", headers={"Accept-Language": "en"}), 409, code="pool_claim_cap")
    assert "cap is 2" in err["message"] and err["details"] == {"cap": 2, "owned": 2}
    assert api.post(f"/pool/{c['id']}/claim", user="finance").status_code == 403

    r = api.post(f"/pool/{c['id']}/claim", user="rep_north_bj")
    assert r.status_code == 200, r.text
    full = api.get(f"/customers/{c['id']}", user="rep_north_bj").json()
    assert full["phone"] == "+8613812345678" and full["owner_id"] == world.users["rep_north_bj"]
    assert full["in_pool"] is False and full["pool_entered_at"] is None
    contacts = api.get("/contacts", params={"customer_id": c["id"]}, user="rep_north_bj").json()["items"]
    assert [k["name"] for k in contacts] == ["张总"]  # contacts come along
    assert c["id"] not in pool_ids(api, "rep_north")
    assert api.post(f"/pool/{c['id']}/claim", user="rep_north2").status_code == 404

    types = event_types(api, c["id"])
    assert "pool_released" in types and "pool_claimed" in types
    audit = api.get("/audit-log", params={"entity_type": "customer", "entity_id": c["id"]}).json()["items"]
    assert "transfer" in {e["action"] for e in audit}
    assert any("pool_reason" in e["changes"] and "长期无需求" in str(e["changes"]["pool_reason"]) for e in audit)

    # after the cool-down the former owner may claim it again (once released again)
    assert api.post(f"/customers/{c['id']}/release", {"reason": "转回"}, user="manager_north").status_code == 200
    advance(api, days=6)
    r = api.post(f"/pool/{c['id']}/claim", user="rep_north")
    assert r.status_code == 200, r.text


def test_manager_assigns_from_the_pool(api, pool, db, world):
    c = api.customer(user="rep_north")
    assert api.post(f"/customers/{c['id']}/release", {"reason": "重新分配"}, user="manager_north").status_code == 200
    assert api.post(f"/pool/{c['id']}/assign", {"owner_id": world.users["rep_north2"]}, user="rep_north").status_code == 403
    assert_error(api.post(f"/pool/{c['id']}/assign", {"owner_id": 999999}, user="manager_north"), 422, field="owner_id")
    r = api.post(f"/pool/{c['id']}/assign", {"owner_id": world.users["rep_north2"]}, user="manager_north")
    assert r.status_code == 200, r.text
    assert api.get(f"/customers/{c['id']}", user="rep_north2").status_code == 200
    assert [n.entity_id for n in notes(db, world, "rep_north2", "pool_assigned")] == [c["id"]]
    assert "pool_assigned" in event_types(api, c["id"])


def test_handover_moves_everything_and_needs_the_transfer_right(api, pool, db, world):
    from kith.activities.models import Followup
    from kith.contacts.models import Contact
    from kith.contracts.models import Contract
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity
    from kith.tasks.models import Task

    leaver, heir = world.users["rep_north"], world.users["rep_north2"]
    a = api.customer(user="rep_north")
    b = api.customer(user="rep_north")
    api.contact(a["id"], user="rep_north")
    api.post("/followups", {"customer_id": a["id"], "type": "visit", "content": "拜访"}, user="rep_north")
    opp = api.opportunity(b["id"], user="rep_north")
    k = api.contract(a["id"], owner_id=leaver)
    task = api.post("/tasks", {"title": "续约沟通", "customer_id": a["id"]}, user="rep_north").json()
    done = api.post("/tasks", {"title": "已完成", "customer_id": a["id"]}, user="rep_north").json()
    api.patch(f"/tasks/{done['id']}", {"done": True, "version": done["version"]}, user="rep_north")
    other = api.customer(user="rep_east")

    body = {"from_user_id": leaver, "to_user_id": heir}
    assert api.post("/handovers", body, user="rep_north").status_code == 403
    assert_error(api.post("/handovers", {"from_user_id": leaver, "to_user_id": leaver}, user="manager_north"), 422, field="to_user_id")
    assert_error(api.post("/handovers", {**body, "include": ["customers", "pets"]}, user="manager_north"), 422)
    # outside the manager's scope nothing moves
    assert api.post("/handovers", {**body, "dry_run": True}, user="manager_east").json()["counts"] == {
        "customers": 0, "opportunities": 0, "tasks": 0}
    # a sales manager has no contract.transfer right: asking for contracts is refused, naming the field, nothing moves
    refused = assert_error(api.post("/handovers", {**body, "include": ["customers", "contracts"]}, user="manager_north"), 403,
                           field="include")
    assert "contracts" in refused["fields"][0]["message"], refused
    db.expire_all()
    assert db.get(Customer, a["id"]).owner_id == leaver

    preview = api.post("/handovers", {**body, "dry_run": True}, user="manager_north")
    assert preview.status_code == 200, preview.text
    # without an explicit list: the kinds the caller may transfer
    assert preview.json()["counts"] == {"customers": 2, "opportunities": 1, "tasks": 1}
    db.expire_all()
    assert db.get(Customer, a["id"]).owner_id == leaver  # a preview changes nothing

    r = api.post("/handovers", body, user="manager_north")
    assert r.status_code == 201, r.text
    assert r.json()["counts"] == {"customers": 2, "opportunities": 1, "tasks": 1}
    db.expire_all()
    assert db.get(Contract, k["id"]).owner_id == leaver
    # the administrator hands over what the manager could not
    r2 = api.post("/handovers", {**body, "include": ["contracts"]})
    assert r2.status_code == 201 and r2.json()["counts"] == {"contracts": 1}, r2.text
    record = api.get(r.headers["Location"].removeprefix("/api/v1"), user="manager_north").json()
    assert record["from_user_id"] == leaver and record["counts"]["customers"] == 2
    assert api.get(r.headers["Location"].removeprefix("/api/v1"), user="manager_east").status_code == 404
    db.expire_all()
    assert {db.get(Customer, i).owner_id for i in (a["id"], b["id"])} == {heir}
    assert db.get(Customer, other["id"]).owner_id == world.users["rep_east"]
    assert set(db.scalars(select(Contact.owner_id).where(Contact.customer_id == a["id"]))) == {heir}
    assert set(db.scalars(select(Followup.owner_id).where(Followup.customer_id == a["id"]))) == {heir}
    assert db.get(Opportunity, opp["id"]).owner_id == heir
    assert db.get(Contract, k["id"]).owner_id == heir
    assert db.get(Task, task["id"]).owner_id == heir
    assert db.get(Task, done["id"]).owner_id == leaver  # finished work stays with who did it
    assert api.get("/customers", user="rep_north").json()["total"] == 0
    assert api.get("/customers", user="rep_north2").json()["total"] == 2
    types = event_types(api, a["id"])
    assert "customer.transferred" in types and "contract.transferred" in types and "task.transferred" in types
    assert notes(db, world, "rep_north2", "handover_received")
    audit = api.get("/audit-log", params={"entity_type": "contract", "entity_id": k["id"]}).json()["items"]
    assert "transfer" in {e["action"] for e in audit}


def test_handover_of_selected_customers_only(api, pool, db, world):
    a = api.customer(user="rep_east")
    b = api.customer(user="rep_east")
    r = api.post("/handovers", {"from_user_id": world.users["rep_east"], "to_user_id": world.users["manager_east"],
                                "customer_ids": [a["id"]], "include": ["customers"]}, user="manager_east")
    assert r.status_code == 201 and r.json()["counts"] == {"customers": 1}
    assert api.get(f"/customers/{a['id']}", user="rep_east").status_code == 404
    assert api.get(f"/customers/{b['id']}", user="rep_east").status_code == 200
