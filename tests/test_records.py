"""Contacts, opportunities and the pipeline, contracts and payments, products, quotes, follow-ups, the timeline."""

from __future__ import annotations

from sqlalchemy import select

from conftest import assert_error


def test_contact_requires_visible_customer(api):
    assert_error(api.post("/contacts", {"name": "无客户"}), 422, field="customer_id")
    theirs = api.customer(user="rep_east")
    assert_error(api.post("/contacts", {"customer_id": theirs["id"], "name": "越权"}, user="rep_north"), 422, field="customer_id")
    c = api.customer(user="rep_north")
    k = api.contact(c["id"], user="rep_north", name="张伟", mobile="13812345678", title="采购经理")
    assert k["mobile"] == "+8613812345678" and k["mobile_display"] == "138-1234-5678"
    assert k["owner_id"] == api.world.users["rep_north"]
    listed = api.get("/contacts", params={"customer_id": c["id"]}, user="rep_north").json()
    assert [x["id"] for x in listed["items"]] == [k["id"]]
    assert api.get("/contacts", params={"customer_id": c["id"]}, user="rep_east").json()["total"] == 0


def test_mainland_mobile_needs_11_digits(api):
    c = api.customer()
    for bad in ("1381234567", "138123456789", "12345678901", "abc"):
        err = assert_error(api.post("/contacts", {"customer_id": c["id"], "name": "x", "mobile": bad}), 422, field="mobile")
        assert err["fields"][0]["code"] == "invalid_mobile"
    ok = api.contact(c["id"], mobile="+44 7911 123456")
    assert ok["mobile"] == "+447911123456"
    err = assert_error(api.post("/contacts", {"customer_id": c["id"], "name": "x", "email": "zhang@@x"}), 422, field="email")
    assert err["fields"][0]["code"] == "invalid_email"


def test_open_opportunity_needs_next_action(api):
    c = api.customer()
    err = assert_error(api.post("/opportunities", {"customer_id": c["id"], "name": "无行动"}), 422, "validation_error")
    assert {f["field"] for f in err["fields"]} == {"next_action", "next_action_due"}
    assert_error(api.post("/opportunities", {"name": "x", "next_action": "a", "next_action_due": "2026-12-01T00:00:00Z"}), 422,
                 field="customer_id")
    o = api.opportunity(c["id"])
    assert o["status"] == "open" and o["stage"]["probability"] == 10
    assert_error(api.patch(f"/opportunities/{o['id']}", {"next_action": None, "version": 1}), 422, field="next_action")


def _stages(api):
    pipes = api.get("/pipelines").json()["items"]
    default = [p for p in pipes if p["is_default"]][0]
    return default["stages"]


def test_stage_move_asks_for_next_action_and_keeps_history(api):
    c = api.customer()
    o = api.opportunity(c["id"])
    stages = _stages(api)
    second, won, lost = stages[1], [s for s in stages if s["kind"] == "won"][0], [s for s in stages if s["kind"] == "lost"][0]
    assert_error(api.post(f"/opportunities/{o['id']}/stage", {"stage_id": second["id"]}), 422, field="next_action")
    r = api.post(f"/opportunities/{o['id']}/stage", {"stage_id": second["id"], "next_action": "发送方案",
                                                     "next_action_due": "2026-12-05T10:00:00+08:00"})
    assert r.status_code == 200, r.text
    assert r.json()["stage_id"] == second["id"] and r.json()["next_action"] == "发送方案"
    assert_error(api.post(f"/opportunities/{o['id']}/stage", {"stage_id": lost["id"]}), 422, field="lost_reason")
    r = api.post(f"/opportunities/{o['id']}/stage", {"stage_id": won["id"]})
    assert r.json()["status"] == "won" and r.json()["closed_at"]
    history = api.get(f"/opportunities/{o['id']}/stage-history").json()["items"]
    assert [h["to_stage_id"] for h in history] == [stages[0]["id"], second["id"], won["id"]]
    timeline = api.get(f"/customers/{c['id']}/timeline", params={"type": "opportunity.stage_changed"}).json()["items"]
    assert timeline[0]["data"]["changes"]["stage"] == [second["name"], won["name"]]
    # a stage from another pipeline is refused
    other = api.post("/pipelines", {"name": "渠道流程", "stages": [{"name": "接触", "probability": 20}, {"name": "成交", "probability": 100, "kind": "won"}]})
    assert other.status_code == 201, other.text
    err = assert_error(api.post(f"/opportunities/{o['id']}/stage", {"stage_id": other.json()["stages"][0]["id"], "next_action": "a",
                                                                    "next_action_due": "2026-12-05T10:00:00+08:00"}), 422)
    assert err["fields"][0]["code"] == "stage_not_in_pipeline"


def test_stage_move_with_stale_version_is_412(api):
    c = api.customer()
    o = api.opportunity(c["id"])
    second = _stages(api)[1]
    body = {"stage_id": second["id"], "next_action": "a", "next_action_due": "2026-12-05T10:00:00+08:00"}
    assert api.post(f"/opportunities/{o['id']}/stage", body, headers={"If-Match": '"1"'}).status_code == 200
    assert_error(api.post(f"/opportunities/{o['id']}/stage", body, headers={"If-Match": '"1"'}), 412)


def test_contact_roles_on_opportunity(api):
    c = api.customer()
    li = api.contact(c["id"], name="李采购")
    wang = api.contact(c["id"], name="王技术")
    o = api.opportunity(c["id"])
    assert api.put(f"/opportunities/{o['id']}/contacts/{li['id']}", {"role": "buyer"}).status_code == 200
    r = api.put(f"/opportunities/{o['id']}/contacts/{wang['id']}", {"role": "technical", "note": "技术决策"})
    assert {(x["name"], x["role"]) for x in r.json()["items"]} == {("李采购", "buyer"), ("王技术", "technical")}
    assert_error(api.put(f"/opportunities/{o['id']}/contacts/{li['id']}", {"role": "boss"}), 422, field="role")
    other = api.contact(api.customer()["id"])
    assert_error(api.put(f"/opportunities/{o['id']}/contacts/{other['id']}", {"role": "buyer"}), 422, field="contact_id")
    assert api.delete(f"/opportunities/{o['id']}/contacts/{li['id']}").status_code == 204
    assert [x["name"] for x in api.get(f"/opportunities/{o['id']}/contacts").json()["items"]] == ["王技术"]


def test_quote_lines_priced_from_products(api):
    p = api.post("/products", {"name": "CRM 专业版", "price": "2000", "unit": "用户/年"}).json()
    c = api.customer()
    o = api.opportunity(c["id"])
    r = api.post(f"/opportunities/{o['id']}/quote-lines", {"product_id": p["id"], "quantity": "10", "discount_percent": "15"})
    assert r.status_code == 201, r.text
    line = r.json()["items"][0]
    assert (line["unit_price"], line["amount"], line["description"]) == ("2000.00", "17000.00", "CRM 专业版")
    assert r.json()["total"] == "17000.00"
    # technical support never sees quotes' prices or amounts
    support_view = api.get(f"/opportunities/{o['id']}/quote-lines", user="support")
    assert support_view.status_code == 404  # support has no opportunity access at all
    assert_error(api.post(f"/opportunities/{o['id']}/quote-lines", {"description": "x", "discount_percent": "150"}), 422)
    tl = api.get(f"/customers/{c['id']}/timeline", params={"type": "quote"}).json()["items"]
    assert tl and tl[0]["type"] == "quote.changed"


def test_contract_amount_hidden_for_reps_read_only_for_finance(api, db):
    from kith.contracts.models import Contract

    c = api.customer(user="rep_north")
    r = api.post("/contracts", {"customer_id": c["id"], "title": "销售建的合同"}, user="rep_north")
    assert r.status_code == 201, r.text  # reps may create contracts; the amount they cannot set is refused
    k = r.json()
    assert "amount" not in k and "received_total" not in k
    assert_error(api.post("/contracts", {"customer_id": c["id"], "title": "带金额", "amount": "5"}, user="rep_north"), 403, field="amount")
    admin_k = api.contract(c["id"], amount="120000")
    rep_list = api.get("/contracts", user="rep_north").json()["items"]
    assert rep_list and all("amount" not in x for x in rep_list)
    assert "120000" not in api.get(f"/contracts/{admin_k['id']}", user="rep_north").text
    assert_error(api.get("/contracts", params={"amount__gte": "100000"}, user="rep_north"), 403, "field_hidden_filter")
    assert_error(api.get("/contracts", params={"sort": "-amount"}, user="rep_north"), 403)
    fin = api.get(f"/contracts/{admin_k['id']}", user="finance")
    assert fin.json()["amount"] == "120000.00"
    err = assert_error(api.patch(f"/contracts/{admin_k['id']}", {"amount": "1", "version": 1}, user="finance"), 403)
    db.expire_all()
    assert str(db.get(Contract, admin_k["id"]).amount) == "120000.00"
    _ = err


def test_payments_plan_and_received(api):
    c = api.customer()
    k = api.contract(c["id"], amount="100000")
    plan = api.post(f"/contracts/{k['id']}/payment-plans", {"due_date": "2026-12-31", "amount": "60000"})
    assert plan.status_code == 201
    plan_id = plan.json()["plans"][0]["id"]
    r = api.post(f"/contracts/{k['id']}/payments", {"received_on": "2026-11-20", "amount": "30000", "plan_id": plan_id})
    assert r.status_code == 201
    assert r.json()["planned_total"] == "60000.00" and r.json()["received_total"] == "30000.00"
    assert r.json()["plans"][0]["received"] == "30000.00"
    assert api.get(f"/contracts/{k['id']}").json()["received_total"] == "30000.00"
    # finance reads payments, cannot record them
    assert api.get(f"/contracts/{k['id']}/payments", user="finance").json()["received_total"] == "30000.00"
    assert_error(api.post(f"/contracts/{k['id']}/payments", {"received_on": "2026-11-21", "amount": "1"}, user="finance"), 403)
    tl = api.get(f"/customers/{c['id']}/timeline", params={"type": "payment"}).json()["items"]
    assert tl[0]["data"]["amount"] == "30000.00"


def test_followup_on_timeline_and_customer_times(api):
    c = api.customer(user="rep_north")
    k = api.contact(c["id"], user="rep_north", name="张伟")
    r = api.post("/followups", {"customer_id": c["id"], "contact_id": k["id"], "type": "call", "content": "电话沟通报价",
                                "next_followup_at": "2026-12-02T10:00:00+08:00"}, user="rep_north")
    assert r.status_code == 201, r.text
    detail = api.get(f"/customers/{c['id']}", user="rep_north").json()
    assert detail["last_followup_at"] and detail["next_followup_at"] == "2026-12-02T02:00:00+00:00"
    tl = api.get(f"/customers/{c['id']}/timeline", user="rep_north").json()
    assert tl["items"][0]["type"] == "followup.call"
    assert tl["items"][0]["summary"] == "电话沟通报价"
    assert tl["items"][0]["actor"]["display_name"] == "李销售"
    assert [i["type"] for i in tl["items"]][-1] == "customer.created"
    only = api.get(f"/customers/{c['id']}/timeline", params={"type": "followup"}, user="rep_north").json()["items"]
    assert {i["type"] for i in only} == {"followup.call"}
    assert_error(api.post("/followups", {"customer_id": c["id"], "type": "smoke-signal", "content": "x"}), 422, field="type")
    assert_error(api.post("/followups", {"customer_id": c["id"], "type": "call", "content": ""}), 422, field="content")


def test_timeline_keyset_paging_newest_first(api):
    c = api.customer()
    for i in range(5):
        api.post("/followups", {"customer_id": c["id"], "type": "note", "content": f"记录{i}"})
    first = api.get(f"/customers/{c['id']}/timeline", params={"limit": 4}).json()
    rest = api.get(f"/customers/{c['id']}/timeline", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    summaries = [i["summary"] for i in first["items"] + rest["items"]]
    assert summaries[:5] == ["记录4", "记录3", "记录2", "记录1", "记录0"]
    assert len(summaries) == 6 and rest["next_cursor"] is None


def test_timeline_hides_amount_changes_from_reps(api):
    c = api.customer(user="rep_north")
    k = api.contract(c["id"], amount="100000")
    api.patch(f"/contracts/{k['id']}", {"amount": "120000", "version": 1})
    rep = api.get(f"/customers/{c['id']}/timeline", user="rep_north").text
    assert "120000" not in rep and "100000" not in rep
    admin = api.get(f"/customers/{c['id']}/timeline").json()["items"]
    assert admin[0]["data"]["changes"]["amount"] == ["100000.00", "120000.00"]


def test_tags_on_customers_and_filter(api):
    a = api.customer(tags=["重点客户", "华北"])
    api.customer(tags=["华北"])
    assert {t["name"] for t in a["tags"]} == {"重点客户", "华北"}
    assert [x["id"] for x in api.get("/customers", params={"tag": "重点客户"}).json()["items"]] == [a["id"]]
    assert api.get("/customers", params={"tag": "华北"}).json()["total"] == 2
    tags = api.get("/tags").json()["items"]
    assert {t["name"] for t in tags} == {"重点客户", "华北"}
    assert_error(api.post("/tags", {"name": "华北"}), 409, field="name")
    # support may not create tags implicitly
    assert_error(api.post("/customers", {"name": "x", "tags": ["新标签"]}, user="support"), 403)


def test_department_move_rewrites_paths(api, db):
    from kith.auth.models import Department
    from kith.customers.models import Customer

    c = api.customer(user="rep_north_bj")
    bj = api.world.depts["north_bj"]
    east = api.world.depts["east"]
    got = api.get(f"/departments/{bj}").json()
    r = api.patch(f"/departments/{bj}", {"parent_id": east, "version": got["version"]})
    assert r.status_code == 200, r.text
    db.expire_all()
    new_path = db.get(Department, bj).path
    assert new_path.startswith(db.get(Department, east).path)
    assert db.get(Customer, c["id"]).department_path == new_path
    names = {x["name"] for x in api.get("/customers", user="manager_east").json()["items"]}
    assert c["name"] in names
    assert c["name"] not in {x["name"] for x in api.get("/customers", user="manager_north").json()["items"]}
    assert_error(api.patch(f"/departments/{east}", {"parent_id": bj, "version": api.get(f"/departments/{east}").json()["version"]}), 422)
    _ = select


def test_contact_and_opportunity_timelines(api):
    c = api.customer(user="rep_north")
    k = api.contact(c["id"], user="rep_north", name="时间线联系人")
    o = api.opportunity(c["id"], user="rep_north", name="时间线商机")
    api.post("/followups", {"customer_id": c["id"], "contact_id": k["id"], "type": "call", "content": "和联系人通话"}, user="rep_north")
    api.post("/followups", {"customer_id": c["id"], "opportunity_id": o["id"], "type": "meeting", "content": "商机评审会"}, user="rep_north")
    api.post(f"/opportunities/{o['id']}/quote-lines", {"description": "实施", "unit_price": "100"}, user="rep_north")
    kt = [e["type"] for e in api.get(f"/contacts/{k['id']}/timeline", user="rep_north").json()["items"]]
    assert kt == ["followup.call", "contact.created"]
    ot = [e["type"] for e in api.get(f"/opportunities/{o['id']}/timeline", user="rep_north").json()["items"]]
    assert ot == ["quote.changed", "followup.meeting", "opportunity.created"]
    assert api.get(f"/contacts/{k['id']}/timeline", user="rep_east").status_code == 404
    assert api.get(f"/opportunities/{o['id']}/timeline", params={"type": "followup"}, user="rep_north").json()["items"][0]["summary"] == "商机评审会"
