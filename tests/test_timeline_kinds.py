"""The customer timeline (客户动态) holds every kind of thing that happens to a customer, and a sales rep's view of it
never carries a contract or payment amount (issue 5 acceptance)."""

from __future__ import annotations

import pytest
from sqlalchemy import select


@pytest.fixture()
def company_pool(world, db):
    from kith.pool.models import PoolRule
    from kith.pool.service import ensure_default_rules

    ensure_default_rules(db)
    db.commit()
    return db.scalar(select(PoolRule.id))


def test_timeline_shows_every_kind_of_event_and_hides_amounts_from_reps(api, company_pool):
    c = api.customer(user="rep_north", level="B")
    cid = c["id"]
    k = api.contact(cid, user="rep_north", name="时间线张总")
    # follow-ups and a note
    for kind, text in (("call", "电话沟通需求"), ("note", "客户预算在明年一季度")):
        r = api.post("/followups", {"customer_id": cid, "contact_id": k["id"], "type": kind, "content": text}, user="rep_north")
        assert r.status_code == 201, r.text
    # field changes that matter: status and level
    r = api.patch(f"/customers/{cid}", {"level": "A", "status": "active", "version": api.get(f"/customers/{cid}", user="rep_north").json()["version"]},
                  user="rep_north")
    assert r.status_code == 200, r.text
    # a deal: stage move, amount change, quote change
    o = api.opportunity(cid, user="rep_north", amount="50000")
    stages = [p for p in api.get("/pipelines").json()["items"] if p["is_default"]][0]["stages"]
    r = api.post(f"/opportunities/{o['id']}/stage", {"stage_id": stages[1]["id"], "next_action": "发送方案",
                                                      "next_action_due": "2026-12-05T10:00:00+08:00"}, user="rep_north")
    assert r.status_code == 200, r.text
    r = api.patch(f"/opportunities/{o['id']}", {"amount": "65000", "version": r.json()["version"]}, user="rep_north")
    assert r.status_code == 200, r.text
    assert api.post(f"/opportunities/{o['id']}/quote-lines", {"description": "实施服务", "unit_price": "100"}, user="rep_north").status_code == 201
    # a contract with a received payment (recorded by an administrator)
    contract = api.contract(cid, amount="987654")
    r = api.post(f"/contracts/{contract['id']}/payments", {"received_on": "2026-11-21", "amount": "123456"})
    assert r.status_code == 201, r.text
    # a task done
    t = api.post("/tasks", {"title": "寄送样品", "customer_id": cid}, user="rep_north").json()
    assert api.patch(f"/tasks/{t['id']}", {"done": True, "version": t["version"]}, user="rep_north").status_code == 200
    # an ownership transfer, then out to the pool and claimed back by someone else
    r = api.post("/customers/bulk", {"ids": [cid], "action": "transfer", "owner_id": api.world.users["rep_north2"]}, user="manager_north")
    assert r.status_code == 200, r.text
    assert api.post(f"/customers/{cid}/release", {"reason": "长期无进展"}, user="manager_north").status_code == 200
    r = api.post(f"/pool/{cid}/claim", user="rep_north")
    assert r.status_code == 200, r.text

    admin = api.get(f"/customers/{cid}/timeline", params={"limit": 100}).json()["items"]
    kinds = {e["type"] for e in admin}
    expected = {"customer.created", "contact.created", "followup.call", "followup.note", "customer.updated", "opportunity.created",
                "opportunity.stage_changed", "opportunity.updated", "quote.changed", "contract.created", "payment.received",
                "task.created", "task.done", "customer.transferred", "pool_released", "pool_claimed"}
    assert expected <= kinds, expected - kinds
    # newest first, and each entry says who, what and when
    times = [e["occurred_at"] for e in admin]
    assert times == sorted(times, reverse=True)
    assert admin[0]["type"] == "pool_claimed" and admin[0]["actor"]["display_name"] == "李销售"
    changed = next(e for e in admin if e["type"] == "customer.updated")
    assert changed["data"]["changes"]["level"] == ["B", "A"]
    # the administrator sees the amounts; the rep who now owns the customer sees every entry but no contract/payment amount
    assert "987654" in str(admin) and "123456" in str(admin)
    rep = api.get(f"/customers/{cid}/timeline", params={"limit": 100}, user="rep_north")
    assert rep.status_code == 200, rep.text
    assert expected <= {e["type"] for e in rep.json()["items"]}
    assert "987654" not in rep.text and "123456" not in rep.text
    # the type filter narrows to one kind
    only = api.get(f"/customers/{cid}/timeline", params={"type": "followup"}, user="rep_north").json()["items"]
    assert {e["type"] for e in only} == {"followup.call", "followup.note"}
