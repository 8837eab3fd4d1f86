"""Duplicate finder, merge with undo, and the matching engine's quality on a generated Chinese set."""

from __future__ import annotations

import random

from conftest import assert_error


def _types(api, cid, user="admin"):
    return [e["type"] for e in api.get(f"/customers/{cid}/timeline", params={"limit": 200}, user=user).json()["items"]]


def test_finder_lists_pairs_within_scope_with_score_and_matched_fields(api):
    a = api.customer(user="rep_north", name="北京星辰科技有限公司", phone="13812345678")
    r = api.post("/customers", {"name": "星辰科技（北京）有限责任公司", "phone": "13912345678"}, user="rep_north")
    b = r.json() if r.status_code == 201 else None
    assert b is None or r.status_code == 201
    c = api.customer(user="rep_north", name="完全不同的贸易公司")
    theirs = api.customer(user="rep_east", name="上海星辰科技有限公司")
    got = api.get("/duplicates", params={"kind": "customer"}, user="rep_north")
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    ids = [{p["a"]["id"], p["b"]["id"]} for p in items]
    if b is not None:
        assert {a["id"], b["id"]} in ids
        pair = items[ids.index({a["id"], b["id"]})]
        assert pair["score"] >= 0.75 and "name" in pair["matched"]
    # the other department's look-alike is never shown to rep_north, and unrelated names are not pairs
    assert all(theirs["id"] not in s and c["id"] not in s for s in ids)
    # the admin sees the cross-department pair too
    admin_ids = [{p["a"]["id"], p["b"]["id"]} for p in api.get("/duplicates", user="admin").json()["items"]]
    assert {a["id"], theirs["id"]} in admin_ids
    assert_error(api.get("/duplicates", params={"kind": "nonsense"}, user="rep_north"), 422)


def test_finder_never_matches_or_shows_hidden_fields(api, db):
    from kith.auth.models import Role

    from sqlalchemy import update

    from kith.customers.models import Customer

    a = api.customer(user="rep_north", name="甲乙丙贸易", phone="13811112222")
    b = api.customer(user="rep_north", name="甲乙丙商贸")
    db.execute(update(Customer).where(Customer.id == b["id"]).values(phone="+8613811112222"))  # as an old import left it
    db.commit()
    pairs = api.get("/duplicates", user="rep_north").json()["items"]
    assert [{p["a"]["id"], p["b"]["id"]} for p in pairs] == [{a["id"], b["id"]}]
    assert pairs[0]["matched"] == {"phones": 1.0} or "phones" in pairs[0]["matched"]
    role = db.query(Role).filter_by(code="sales_rep").one()
    role.field_rights = {**role.field_rights, "customer": {"phone": "hidden"}}
    db.commit()
    r = api.get("/duplicates", user="rep_north")
    assert r.status_code == 200 and r.json()["items"] == []  # the pair only existed through the hidden phone
    assert "13811112222" not in r.text


def test_merge_relinks_everything_keeps_both_timelines_and_undo_restores_exactly(api, db):
    s = api.customer(user="rep_north", name="合并客户甲", industry="制造")
    o = api.customer(user="rep_north", name="合并客户乙", phone="13900001111", email="b@example.com", industry="零售",
                     tags=["重点"])
    sc = api.contact(s["id"], user="rep_north", name="张三")
    oc = api.contact(o["id"], user="rep_north", name="李四", mobile="13700001111")
    opp = api.opportunity(o["id"], user="rep_north")
    fu = api.post("/followups", {"customer_id": o["id"], "type": "call", "content": "电话沟通"}, user="rep_north")
    assert fu.status_code == 201, fu.text
    task = api.post("/tasks", {"title": "回访", "customer_id": o["id"]}, user="rep_north")
    assert task.status_code == 201, task.text
    before_other = _types(api, o["id"], "rep_north")

    # a version is required, and choices name known fields
    assert_error(api.post(f"/customers/{s['id']}/merge", {"other_id": o["id"]}, user="rep_north"), 428)
    assert_error(api.post(f"/customers/{s['id']}/merge", {"other_id": o["id"], "version": s["version"],
                                                         "fields": {"nonsense": "other"}}, user="rep_north"), 422,
                 field="fields.nonsense")
    assert_error(api.post(f"/customers/{s['id']}/merge", {"other_id": s["id"], "version": s["version"]}, user="rep_north"),
                 422, field="other_id")
    r = api.post(f"/customers/{s['id']}/merge", {"other_id": o["id"], "version": s["version"],
                                                 "fields": {"industry": "other"}}, user="rep_north")
    assert r.status_code == 200, r.text
    m = r.json()
    merged = m["survivor"]
    assert merged["id"] == s["id"] and merged["industry"] == "零售"
    assert merged["phone"] == "+8613900001111" and merged["email"] == "b@example.com"  # empty fields filled
    assert merged["name"] == "合并客户甲"
    assert api.get(f"/customers/{o['id']}", user="rep_north").json()["deleted_at"] is not None
    contacts = {c["id"] for c in api.get("/contacts", params={"customer_id": s["id"]}, user="rep_north").json()["items"]}
    assert contacts == {sc["id"], oc["id"]}
    assert api.get(f"/opportunities/{opp['id']}", user="rep_north").json()["customer_id"] == s["id"]
    assert api.get(f"/followups/{fu.json()['id']}", user="rep_north").json()["customer_id"] == s["id"]
    assert api.get(f"/tasks/{task.json()['id']}", user="rep_north").json()["customer_id"] == s["id"]
    assert "重点" in str(api.get(f"/customers/{s['id']}", user="rep_north").json()["tags"])
    types = _types(api, s["id"], "rep_north")
    assert types[0] == "customer.merged"
    assert all(t in types for t in before_other)  # the other's history now shows on the survivor
    assert types.count("customer.created") == 2

    # undo moves back exactly what moved and restores the other record
    u = api.post(f"/merges/{m['merge_id']}/undo", user="rep_north")
    assert u.status_code == 200, u.text
    back = api.get(f"/customers/{s['id']}", user="rep_north").json()
    assert back["industry"] == "制造" and back["phone"] is None and back["email"] is None
    assert api.get(f"/customers/{o['id']}", user="rep_north").json()["deleted_at"] is None
    assert {c["id"] for c in api.get("/contacts", params={"customer_id": o["id"]}, user="rep_north").json()["items"]} == {oc["id"]}
    assert api.get(f"/opportunities/{opp['id']}", user="rep_north").json()["customer_id"] == o["id"]
    assert api.get(f"/tasks/{task.json()['id']}", user="rep_north").json()["customer_id"] == o["id"]
    assert "customer.created" in _types(api, o["id"], "rep_north")
    assert "重点" in str(api.get(f"/customers/{o['id']}", user="rep_north").json()["tags"])
    assert "重点" not in str(api.get(f"/customers/{s['id']}", user="rep_north").json()["tags"])
    assert_error(api.post(f"/merges/{m['merge_id']}/undo", user="rep_north"), 409, "merge_already_undone")


def test_undo_is_refused_after_a_later_change_listing_the_record(api):
    s = api.customer(user="rep_north", name="撤销客户甲")
    o = api.customer(user="rep_north", name="撤销客户乙")
    oc = api.contact(o["id"], user="rep_north", name="王五")
    m = api.post(f"/customers/{s['id']}/merge", {"other_id": o["id"]}, user="rep_north",
                 headers={"If-Match": f'"{s["version"]}"'}).json()
    contact = api.get(f"/contacts/{oc['id']}", user="rep_north").json()
    assert contact["customer_id"] == s["id"]
    assert api.patch(f"/contacts/{oc['id']}", {"title": "经理", "version": contact["version"]}, user="rep_north").status_code == 200
    err = assert_error(api.post(f"/merges/{m['merge_id']}/undo", user="rep_north"), 409, "merge_undo_blocked")
    assert {"table": "contacts", "id": oc["id"]} in err["details"]["blocking"]
    assert api.get(f"/customers/{o['id']}", user="rep_north").json()["deleted_at"] is not None


def test_a_rep_cannot_merge_what_they_cannot_see(api):
    mine = api.customer(user="rep_north", name="我的客户")
    theirs = api.customer(user="rep_east", name="别人的客户")
    assert_error(api.post(f"/customers/{theirs['id']}/merge", {"other_id": mine["id"], "version": 1}, user="rep_north"), 404)
    assert_error(api.post(f"/customers/{mine['id']}/merge", {"other_id": theirs["id"], "version": 1}, user="rep_north"),
                 422, field="other_id")
    assert api.get(f"/customers/{theirs['id']}", user="rep_east").json()["deleted_at"] is None
    m = api.post(f"/customers/{mine['id']}/merge", {"other_id": api.customer(user="rep_north", name="另一个")["id"],
                                                    "version": 1}, user="rep_north").json()
    assert_error(api.post(f"/merges/{m['merge_id']}/undo", user="rep_east"), 404)


def test_contacts_merge_too(api):
    c = api.customer(user="rep_north", name="联系人合并客户")
    a = api.contact(c["id"], user="rep_north", name="赵六", mobile="13600001111")
    b = api.contact(c["id"], user="rep_north", name="赵六", email="zl@example.com")
    pairs = api.get("/duplicates", params={"kind": "contact"}, user="rep_north").json()["items"]
    assert [{p["a"]["id"], p["b"]["id"]} for p in pairs] == [{a["id"], b["id"]}]
    r = api.post(f"/contacts/{a['id']}/merge", {"other_id": b["id"], "version": a["version"]}, user="rep_north")
    assert r.status_code == 200, r.text
    assert r.json()["survivor"]["email"] == "zl@example.com"
    assert api.post(f"/merges/{r.json()['merge_id']}/undo", user="rep_north").status_code == 200
    assert api.get(f"/contacts/{b['id']}", user="rep_north").json()["deleted_at"] is None


# ---------------------------------------------------------------------------------------- quality

def test_generated_chinese_set_f1_at_least_095():
    from bench.dedup import chinese_set, evaluate

    records, truth = chinese_set(n_entities=300, dup_rate=0.4, seed=7)
    for kind in ("customer", "contact"):
        p, r, f1 = evaluate(kind, records[kind], truth[kind])
        assert f1 >= 0.95, (kind, p, r, f1)


def test_matcher_contract_match_and_pairs():
    from kith.dedup.engine import Matcher

    m = Matcher("customer")
    m.add(1, {"name": "北京华为技术有限公司", "phone": "010-12345678"})
    m.add(2, {"name": "华为技术（深圳）有限公司"})
    m.add(3, {"name": "小米科技", "mobile": "13812345678"})
    assert [(c.a, c.b) for c in m.pairs()] == [(1, 2)]
    found = m.match({"name": "ＸＩＡＯＭＩ", "phone": "+86 138 1234 5678"})
    assert [c.b for c in found] == [3] and found[0].matched["phones"] == 1.0  # pinyin carries the name
    assert m.match({"name": "完全无关"}) == []
    random.seed(0)


def test_company_name_prefilter_keeps_every_name_that_can_still_match():
    """Gram-block candidates are cut to the names that can still reach the threshold (ADR 0020): long names one
    character apart, Latin names with a typo, a Latin name inside a Chinese one, and candidates that
    share a switchboard too common to block on all still match; short Chinese names only match themselves."""
    from kith.dedup.engine import Matcher

    m = Matcher("customer")
    m.add("long", {"name": "中国建筑第八工程局华东分公司南京第三项目部有限公司", "city": "南京"})
    m.add("latin", {"name": "Acme Widgets Trading Co., Ltd.", "city": "上海"})
    m.add("mixed", {"name": "Acme", "city": "上海"})
    m.add("short", {"name": "华信达科技有限公司", "city": "北京"})
    for i in range(500):  # a shared switchboard: its block is too large to use
        m.add(f"sw{i}", {"name": f"总机共用第{i}号单位", "phone": "020-88888888", "city": "广州"})
    m.add("board", {"name": "广州珠江啤酒集团销售有限公司", "phone": "020-88888888"})

    assert [c.b for c in m.match({"name": "中国建筑第八工程局华东分公司南京第三项目部有限公司", "city": "南京"})] == ["long"]
    assert [c.b for c in m.match({"name": "中国建筑第八工程局华东分公司南京第叁项目部有限公司", "city": "南京"})] == ["long"]
    assert [c.b for c in m.match({"name": "ACME Widgets Tradeing", "city": "上海"})] == ["latin"]
    assert [c.b for c in m.match({"name": "华信达科技", "city": "北京"})] == ["short"]
    assert m.match({"name": "华信远科技", "city": "北京"}) == []  # one character apart, nothing else: not the same
    found = m.match({"name": "广州珠江啤酒集团销售部", "phone": "020 8888 8888"})
    assert found and found[0].b == "board" and found[0].matched["phones"] == 1.0
