"""Reminder rules: defaults, the once-per-period scan, manager copies for high-value customers, snoozes with a reason,
every kind (no follow-up, overdue next action, task due, contract expiring, payment due) and the rule API's access."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kith.core import clock
from conftest import assert_error


@pytest.fixture()
def rules(world, db):
    """Reminder rules are emptied between tests: put the install defaults back."""
    from kith.reminders.models import ReminderRule
    from kith.reminders.service import ensure_default_rules

    ensure_default_rules(db)
    db.commit()
    return {r.kind: r.id for r in db.scalars(select(ReminderRule))}


def advance(api, **delta) -> None:
    """Move Kith's clock; access tokens expire meanwhile, so sign everyone in again."""
    clock.advance(timedelta(**delta))
    api._tokens.clear()


def scan(db) -> dict:
    from kith.reminders.service import run_scan

    out = run_scan(db, clock.now())
    db.commit()
    return out


def notes(db, world, user: str, kind: str) -> list:
    from kith.notifications.models import Notification

    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.user_id == world.users[user], Notification.kind == kind)
                           .order_by(Notification.id)))


def about(items, customer_id: int) -> list:
    return [n for n in items if n.entity_type == "customer" and n.entity_id == customer_id]


def test_default_rules_exist_and_only_administrators_edit_them(api, rules):
    listed = api.get("/reminder-rules").json()["items"]
    kinds = {r["kind"] for r in listed}
    assert kinds == {"no_followup", "next_action_overdue", "task_due", "contract_expiring", "payment_due"}
    seven = next(r for r in listed if r["kind"] == "no_followup")
    assert seven["params"]["days"] == 7 and seven["params"]["copy_manager"] is True and seven["params"]["levels"] == ["A"]
    assert api.get("/reminder-rules", user="manager_north").status_code == 200
    assert api.get("/reminder-rules", user="rep_north").status_code == 403
    assert api.post("/reminder-rules", {"name": "x", "kind": "task_due"}, user="manager_north").status_code == 403
    assert_error(api.post("/reminder-rules", {"name": "x", "kind": "birthday"}), 422, field="kind")
    assert_error(api.post("/reminder-rules", {"name": "x", "kind": "no_followup", "params": {"days": 0}}), 422)
    r = api.post("/reminder-rules", {"name": "华东 3 天未跟进", "kind": "no_followup", "params": {"days": 3},
                                     "department_id": api.world.depts["east"]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = api.patch(f"/reminder-rules/{rid}", {"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.delete(f"/reminder-rules/{rid}").status_code == 204
    assert api.get(f"/reminder-rules/{rid}").status_code == 404
    # rule changes are audited
    audit = api.get("/audit-log", params={"entity_type": "reminder_rule", "entity_id": rid}).json()["items"]
    assert {e["action"] for e in audit} >= {"create", "update"}


def test_seven_day_rule_notifies_owner_once_per_period_and_copies_manager_for_high_value(api, rules, db, world):
    plain = api.customer(user="rep_north", level="B")
    key = api.customer(user="rep_north", level="A")
    big_deal = api.customer(user="rep_north", level="C")
    api.opportunity(big_deal["id"], user="rep_north", amount="600000")
    small_deal = api.customer(user="rep_north", level="C")
    api.opportunity(small_deal["id"], user="rep_north", amount="1000")
    fresh = api.customer(user="rep_north", level="A")

    advance(api, days=6)
    api.post("/followups", {"customer_id": fresh["id"], "type": "call", "content": "回访"}, user="rep_north")
    assert scan(db)["by_rule"][rules["no_followup"]] == 0  # six days: nothing yet

    advance(api, days=2)
    scan(db)
    owner = notes(db, world, "rep_north", "reminder_no_followup")
    assert {n.entity_id for n in owner} == {plain["id"], key["id"], big_deal["id"], small_deal["id"]}
    copies = notes(db, world, "manager_north", "reminder_no_followup_copy")
    assert {n.entity_id for n in copies} == {key["id"], big_deal["id"]}  # level A, or an open deal above the threshold
    assert not notes(db, world, "manager_east", "reminder_no_followup_copy")

    # the same period never fires twice
    advance(api, hours=1)
    scan(db)
    assert len(notes(db, world, "rep_north", "reminder_no_followup")) == 4

    # a follow-up starts a new period: it fires again only after another 7 silent days
    api.post("/followups", {"customer_id": plain["id"], "type": "call", "content": "再联系"}, user="rep_north")
    advance(api, days=8)
    scan(db)
    again = notes(db, world, "rep_north", "reminder_no_followup")
    assert len(about(again, plain["id"])) == 2
    assert len(about(again, key["id"])) == 1
    assert len(about(again, fresh["id"])) == 1  # its 7 days passed meanwhile

    # the home page: my active reminders (resolved ones drop out), the manager sees the copies
    mine = api.get("/reminders", user="rep_north").json()["items"]
    assert {i["entity_id"] for i in mine if i["kind"] == "no_followup"} == {plain["id"], key["id"], big_deal["id"], small_deal["id"],
                                                                            fresh["id"]}
    assert all(i["copied"] is False for i in mine)
    boss = api.get("/reminders", user="manager_north", headers={"Accept-Language": "en"}).json()["items"]
    assert {i["entity_id"] for i in boss} == {key["id"], big_deal["id"], fresh["id"]}  # fresh is level A too
    assert all(i["copied"] and "no follow-up" in i["text"] for i in boss)
    assert api.get("/reminders", user="rep_east").json()["items"] == []


def test_snooze_needs_a_reason_and_silences_the_rule_for_that_record(api, rules, db, world):
    c = api.customer(user="rep_north")
    other = api.customer(user="rep_north")
    body = {"rule_id": rules["no_followup"], "entity_type": "customer", "entity_id": c["id"], "days": 10}
    assert_error(api.post("/reminders/snooze", body, user="rep_north"), 422, field="reason")
    assert_error(api.post("/reminders/snooze", {**body, "reason": "   "}, user="rep_north"), 422, field="reason")
    # not the owner nor their manager
    assert api.post("/reminders/snooze", {**body, "reason": "客户出差"}, user="rep_north2").status_code == 403
    assert api.post("/reminders/snooze", {**body, "reason": "客户出差"}, user="manager_east").status_code == 403
    r = api.post("/reminders/snooze", {**body, "reason": "客户出差两周"}, user="rep_north")
    assert r.status_code == 201, r.text
    assert r.json()["reason"] == "客户出差两周"

    advance(api, days=8)
    scan(db)
    fired = notes(db, world, "rep_north", "reminder_no_followup")
    assert {n.entity_id for n in fired} == {other["id"]}

    # the manager may snooze a fired reminder of their rep; it leaves the home page list
    mine = api.get("/reminders", user="rep_north").json()["items"]
    rid = next(i["id"] for i in mine if i["entity_id"] == other["id"])
    r = api.post("/reminders/snooze", {"reminder_id": rid, "days": 5, "reason": "已电话沟通，等待回复"}, user="manager_north")
    assert r.status_code == 201, r.text
    assert not [i for i in api.get("/reminders", user="rep_north").json()["items"] if i["entity_id"] == other["id"]]

    # when the snooze ends, a still-silent record fires (its period was never logged)
    advance(api, days=3)
    scan(db)
    assert len(about(notes(db, world, "rep_north", "reminder_no_followup"), c["id"])) == 1
    audit = api.get("/audit-log", params={"entity_type": "reminder_snooze"}).json()["items"]
    assert any("客户出差两周" in str(e["changes"]) for e in audit)


def test_next_action_and_planned_followup_overdue(api, rules, db, world):
    c = api.customer(user="rep_east", next_followup_at="2030-01-01T09:00:00+08:00")
    due = (clock.now() + timedelta(days=1)).isoformat()
    opp = api.opportunity(c["id"], user="rep_east", next_action="发报价", next_action_due=due)
    scan(db)
    assert not notes(db, world, "rep_east", "reminder_next_action")
    advance(api, days=1, minutes=5)
    scan(db)
    scan(db)
    fired = notes(db, world, "rep_east", "reminder_next_action")
    assert [(n.entity_type, n.entity_id) for n in fired] == [("opportunity", opp["id"])]
    assert "发报价" in api.get("/notifications", user="rep_east").text
    # moving the next action re-arms the rule
    version = api.get(f"/opportunities/{opp['id']}", user="rep_east").json()["version"]
    new_due = (clock.now() + timedelta(hours=2)).isoformat()
    r = api.patch(f"/opportunities/{opp['id']}", {"next_action_due": new_due, "version": version}, user="rep_east")
    assert r.status_code == 200, r.text
    advance(api, hours=3)
    scan(db)
    assert len(notes(db, world, "rep_east", "reminder_next_action")) == 2
    # a customer's planned follow-up time passing
    clock.freeze(datetime(2030, 1, 2, tzinfo=timezone.utc))
    api._tokens.clear()
    scan(db)
    assert [n.entity_id for n in notes(db, world, "rep_east", "reminder_followup_due")] == [c["id"]]


def test_task_reminder_fires_once_when_its_reminder_time_passes(api, rules, db, world):
    now = clock.now()
    t1 = api.post("/tasks", {"title": "准备投标文件", "due_at": (now + timedelta(hours=2)).isoformat(), "remind_minutes_before": 30},
                  user="rep_north").json()
    t2 = api.post("/tasks", {"title": "寄送样品", "due_at": (now + timedelta(hours=2)).isoformat()}, user="rep_north").json()
    api.post("/tasks", {"title": "已完成的事", "due_at": (now + timedelta(hours=1)).isoformat(), "remind_minutes_before": 120},
             user="rep_north")
    done = api.get("/tasks", user="rep_north").json()["items"]
    done_task = next(t for t in done if t["title"] == "已完成的事")
    api.patch(f"/tasks/{done_task['id']}", {"done": True, "version": done_task["version"]}, user="rep_north")

    advance(api, minutes=80)  # 40 minutes before due: not yet
    scan(db)
    assert not notes(db, world, "rep_north", "reminder_task_due")
    advance(api, minutes=15)  # 25 minutes before due: t1's reminder time has passed
    scan(db)
    scan(db)
    fired = notes(db, world, "rep_north", "reminder_task_due")
    assert [n.entity_id for n in fired] == [t1["id"]]
    advance(api, minutes=30)  # due: t2 (no own reminder time) fires with the rule's lead (0)
    scan(db)
    fired = notes(db, world, "rep_north", "reminder_task_due")
    assert [n.entity_id for n in fired] == [t1["id"], t2["id"]]
    assert "准备投标文件" in api.get("/notifications", user="rep_north").text


def test_contract_expiring_and_payment_due(api, rules, db, world):
    c = api.customer(user="manager_north")
    today = clock.now().date()
    soon = api.contract(c["id"], user="manager_north", status="active", start_date=str(today - timedelta(days=300)),
                        end_date=str(today + timedelta(days=20)), amount="300000")
    later = api.contract(c["id"], user="manager_north", status="active", end_date=str(today + timedelta(days=90)))
    draft = api.contract(c["id"], user="manager_north", status="draft", end_date=str(today + timedelta(days=5)))
    def add_plan(due: date, amount: str) -> dict:
        plans = api.post(f"/contracts/{later['id']}/payment-plans", {"due_date": str(due), "amount": amount}).json()["plans"]
        return next(p for p in plans if p["due_date"] == str(due))

    plan_due = add_plan(today + timedelta(days=2), "50000")
    plan_paid = add_plan(today + timedelta(days=1), "20000")
    api.post(f"/contracts/{later['id']}/payments", {"received_on": str(today), "amount": "20000", "plan_id": plan_paid["id"]})
    api.post(f"/contracts/{later['id']}/payment-plans", {"due_date": str(today + timedelta(days=40)), "amount": "10000"})
    scan(db)
    scan(db)
    expiring = notes(db, world, "manager_north", "reminder_contract_expiring")
    assert [n.entity_id for n in expiring] == [soon["id"]]
    assert draft["id"] not in [n.entity_id for n in expiring]
    due = notes(db, world, "manager_north", "reminder_payment_due")
    assert [n.entity_id for n in due] == [plan_due["id"]]
    # the message names the contract, not the amount
    text = api.get("/notifications", user="manager_north").text
    assert "50000" not in text and "300000" not in text and later["number"] in text
    # a renewed contract (new end date) may remind again when that date comes near
    version = api.get(f"/contracts/{soon['id']}").json()["version"]
    assert api.patch(f"/contracts/{soon['id']}", {"end_date": str(today + timedelta(days=25)), "version": version}).status_code == 200
    scan(db)
    assert len(notes(db, world, "manager_north", "reminder_contract_expiring")) == 2
    _ = date


def test_department_scoped_rule_and_inactive_rules(api, rules, db, world):
    r = api.post("/reminder-rules", {"name": "华东 2 天", "kind": "no_followup", "params": {"days": 2},
                                     "department_id": world.depts["east"]})
    assert r.status_code == 201
    for kind, rid in rules.items():
        api.patch(f"/reminder-rules/{rid}", {"active": False})
    east = api.customer(user="rep_east")
    north = api.customer(user="rep_north")
    advance(api, days=3)
    scan(db)
    assert [n.entity_id for n in notes(db, world, "rep_east", "reminder_no_followup")] == [east["id"]]
    assert not notes(db, world, "rep_north", "reminder_no_followup")
    _ = north


def test_a_reminder_leaves_the_list_when_its_record_leaves_the_users_scope(api, rules, db, world):
    """The reminder's text names the customer: after a transfer to another department the former owner no longer
    reads the customer, so the reminder is no longer listed for them; the new owner's scan fires their own."""
    c = api.customer(user="rep_north", level="B")
    advance(api, days=8)
    scan(db)
    assert [i["entity_id"] for i in api.get("/reminders", user="rep_north").json()["items"]] == [c["id"]]
    r = api.post("/customers/bulk", {"ids": [c["id"]], "action": "transfer", "owner_id": world.users["rep_east"]})
    assert r.status_code == 200 and r.json()["changed"] == [c["id"]], r.text
    assert api.get(f"/customers/{c['id']}", user="rep_north").status_code == 404
    listed = api.get("/reminders", user="rep_north").json()
    assert listed["items"] == [] and listed["total"] == 0
