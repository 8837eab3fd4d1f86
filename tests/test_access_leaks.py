"""Leaks found by a security review of the pool, reports, handovers and tasks (2026-12-03): each test asserts the
access contract (hidden fields absent, no filter on them, masks not searchable, scope follows the pool, rights per
module). A merge naming the merged-away record is by design (ADR 0021)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kith.core import clock


@pytest.fixture()
def pool(world, db):
    from kith.pool.models import PoolRule
    from kith.pool.service import ensure_default_rules

    ensure_default_rules(db)
    db.commit()
    return db.scalar(select(PoolRule.id))


def _hide(db, role_code: str, module: str, field: str) -> None:
    from kith.auth.models import Role

    role = db.scalar(select(Role).where(Role.code == role_code))
    rights = {k: dict(v) for k, v in (role.field_rights or {}).items()}
    rights.setdefault(module, {})[field] = "hidden"
    role.field_rights = rights
    db.commit()


# ---- reports ---------------------------------------------------------------------------------------

def _hidden_industry_customer(api, db) -> dict:
    c = api.customer(user="rep_north", industry="军工机密行业")
    _hide(db, "sales_manager", "customer", "industry")
    assert "industry" not in api.get(f"/customers/{c['id']}", user="manager_north").json()  # the gate hides it
    return c


def test_review_report_breakdown_hides_hidden_customer_field(api, db):
    """A customer field hidden for the caller (industry for sales managers here) must not appear in a report."""
    _hidden_industry_customer(api, db)
    r = api.get("/reports/new_customers", user="manager_north")
    assert r.status_code == 200, r.text
    assert "军工机密行业" not in r.text, "hidden industry value appears in the report breakdown"


def test_review_report_drilldown_hides_hidden_customer_field(api, db):
    _hidden_industry_customer(api, db)
    r = api.get("/reports/new_customers/records", user="manager_north")
    assert r.status_code == 200, r.text
    assert r.json()["items"]
    assert all("industry" not in item for item in r.json()["items"]), "hidden field in drill-down records"


def test_review_report_drilldown_filter_on_hidden_field_is_403(api, db):
    _hidden_industry_customer(api, db)
    r = api.get("/reports/new_customers/records", params={"bucket": "industry:军工机密行业"}, user="manager_north")
    assert r.status_code == 403, f"drill-down filter on a hidden field is an oracle: {r.status_code} total={r.json().get('total')}"


# ---- handovers -------------------------------------------------------------------------------------

def test_review_handover_needs_contract_transfer_right(api, world, db):
    """Sales managers have no contract.transfer right (policy.py), yet a handover re-owns contracts."""
    from kith.contracts.models import Contract

    c = api.customer(user="rep_north")
    k = api.contract(c["id"], owner_id=world.users["rep_north"])
    r = api.post("/handovers", {"from_user_id": world.users["rep_north"], "to_user_id": world.users["rep_east"],
                                "include": ["contracts"]}, user="manager_north")
    db.expire_all()
    moved = db.get(Contract, k["id"]).owner_id == world.users["rep_east"]
    assert r.status_code == 403 and not moved, f"contract re-owned without contract.transfer ({r.status_code})"


# ---- pool ------------------------------------------------------------------------------------------

def test_review_pool_search_does_not_reveal_masked_name(api, pool):
    """With the name configured as masked, ?q= must not match the unmasked name (a substring oracle)."""
    rule = api.get(f"/pool-rules/{pool}").json()
    r = api.patch(f"/pool-rules/{pool}", {"visible_fields": ["name", "level", "phone"],
                                          "masked_fields": ["name", "phone", "email"]})
    assert r.status_code == 200, r.text
    c = api.customer(user="rep_north", name="北京星辰量子科技有限公司")
    assert api.post(f"/customers/{c['id']}/release", {"reason": "无需求"}, user="manager_north").status_code == 200
    listed = api.get("/pool", user="rep_east").json()
    item = next(i for i in listed["items"] if i["id"] == c["id"])
    assert item["name"] != c["name"]  # masked as configured
    hit = api.get("/pool", params={"q": "星辰量子"}, user="rep_east").json()
    assert c["id"] not in {i["id"] for i in hit["items"]}, "q matches the masked name: the name can be guessed"
    _ = rule


def test_review_pooled_customer_contacts_not_readable_by_previous_owner(api, pool):
    """A pooled customer answers 404 to its previous owner; its contacts (mobile) must not stay readable."""
    c = api.customer(user="rep_north")
    p = api.contact(c["id"], user="rep_north", name="张总", mobile="13912345678")
    assert api.post(f"/customers/{c['id']}/release", {"reason": "无需求"}, user="manager_north").status_code == 200
    assert api.get(f"/customers/{c['id']}", user="rep_north").status_code == 404
    r = api.get(f"/contacts/{p['id']}", user="rep_north")
    assert r.status_code == 404, f"contact of a pooled customer still readable ({r.status_code}): {r.text[:200]}"


# ---- tasks -----------------------------------------------------------------------------------------

def test_review_task_does_not_name_unreadable_customer(api, world):
    """A task assigned to rep_east about a north customer: rep_east cannot read the customer (404), so the task
    must not carry its name."""
    c = api.customer(user="rep_north", name="华北保密客户有限公司")
    r = api.post("/tasks", {"title": "回访", "customer_id": c["id"], "owner_id": world.users["rep_east"]}, user="manager_north")
    assert r.status_code == 201, r.text
    assert api.get(f"/customers/{c['id']}", user="rep_east").status_code == 404
    listed = api.get("/tasks", user="rep_east")
    assert listed.status_code == 200
    assert "华北保密客户有限公司" not in listed.text, "task list names a customer the assignee cannot read"


# ---- search over hidden fields ---------------------------------------------------------------------
# A record's search index holds its phones, e-mail, WeChat and next action besides its name: with one of those hidden
# from the caller, a match on it answers "this fragment is in its phone" (an oracle, value by value). Such a caller's
# search matches names only (name, pinyin, initials; ADR 0026).

def _listed(api, resource: str, q: str, user: str) -> set[int]:
    r = api.get(f"/{resource}", params={"q": q, "limit": 200}, user=user)
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["items"]}


def _searched(api, type_: str, q: str, user: str) -> set[int]:
    r = api.get("/search", params={"q": q, "types": type_, "limit": 50}, user=user)
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()["items"] if h["type"] == type_}


def _found(api, resource: str, type_: str, q: str, user: str) -> tuple[bool, bool]:
    """(found by the list's q, found by the global search) — of the one record of its type in the test."""
    return bool(_listed(api, resource, q, user)), bool(_searched(api, type_, q, user))


@pytest.fixture()
def phone_customer(api, db) -> dict:
    c = api.customer(user="rep_north", name="北京星辰量子科技有限公司", phone="010-62345678", email="ceo.private@mailbox.cn")
    _hide(db, "sales_manager", "customer", "phone")
    assert "phone" not in api.get(f"/customers/{c['id']}", user="manager_north").json()  # the gate hides it
    return c


@pytest.mark.parametrize("q", ["6234", "345", "62345678", "1062345678", "45", "ceo.private", "mailbox", "ce"])
def test_review_search_does_not_match_hidden_customer_phone_or_email(api, phone_customer, q):
    """With customer.phone hidden, no fragment of the phone (2, 3, 4 digits, whole) nor of the other searchable values
    (e-mail) finds the customer: by the list's q or by the global search."""
    assert _found(api, "customers", "customer", q, "manager_north") == (False, False), f"{q!r} matches a hidden field"
    assert _found(api, "customers", "customer", q, "rep_north") == (True, True), f"{q!r}: the owner (phone visible) finds it"


@pytest.mark.parametrize("q", ["星辰量子", "星辰", "北京星辰量子科技有限公司", "xingchen", "beijingxingchen", "bjxclz", "XC", "xc"])
def test_review_search_with_hidden_customer_phone_still_finds_by_name(api, phone_customer, q):
    assert _found(api, "customers", "customer", q, "manager_north") == (True, True), f"{q!r}: name search must still work"


def test_review_search_by_visible_phone_unchanged(api, phone_customer, db):
    """Callers who see the phone (the owner's role, an administrator) still find the customer by it, and so does a
    role whose phone is read-only or whose hidden customer fields are not searchable ones."""
    from kith.auth.models import Role

    for user in ("rep_north", "admin"):
        for q in ("6234", "62", "62345678", "mailbox"):
            assert _found(api, "customers", "customer", q, user) == (True, True), (user, q)
    role = db.scalar(select(Role).where(Role.code == "sales_manager"))
    role.field_rights = {**role.field_rights, "customer": {"phone": "read", "industry": "hidden"}}
    db.commit()
    assert _found(api, "customers", "customer", "6234", "manager_north") == (True, True), "a read-only phone is visible"


@pytest.mark.parametrize("hidden", ["mobile", "wechat"])
def test_review_search_does_not_match_hidden_contact_fields(api, db, hidden):
    """A contact's mobile, phone, e-mail and WeChat are searchable; with one of them hidden the contact is found by
    its name only."""
    c = api.customer(user="rep_north", name="上海明远贸易有限公司")
    k = api.contact(c["id"], user="rep_north", name="欧阳娜娜", mobile="139-8765-4321", wechat="wx_secret88",
                    email="nana.private@mailbox.cn")
    _hide(db, "sales_manager", "contact", hidden)
    assert hidden not in api.get(f"/contacts/{k['id']}", user="manager_north").json()
    for q in ("8765", "987", "13987654321", "43", "secret88", "wxsec", "nanaprivate", "mailbox"):
        assert _found(api, "contacts", "contact", q, "manager_north") == (False, False), f"{q!r} matches with {hidden} hidden"
        assert _found(api, "contacts", "contact", q, "rep_north") == (True, True), f"{q!r}: the owner finds it"
    for q in ("欧阳娜娜", "欧阳", "ouyang", "ouyangnana", "oynn", "yn"):
        assert _found(api, "contacts", "contact", q, "manager_north") == (True, True), f"{q!r}: name search must still work"


def test_review_search_does_not_match_hidden_next_action(api, db):
    c = api.customer(user="rep_north", name="杭州远景能源有限公司")
    o = api.opportunity(c["id"], user="rep_north", name="远景储能二期", next_action="约见采购总监谈回扣")
    _hide(db, "sales_manager", "opportunity", "next_action")
    assert "next_action" not in api.get(f"/opportunities/{o['id']}", user="manager_north").json()
    for q in ("回扣", "采购总监", "总"):
        assert _found(api, "opportunities", "opportunity", q, "manager_north") == (False, False), f"{q!r} matches the hidden next action"
        assert _found(api, "opportunities", "opportunity", q, "rep_north") == (True, True), q
    for q in ("远景储能", "储能", "yuanjing", "yjcn"):
        assert _found(api, "opportunities", "opportunity", q, "manager_north") == (True, True), q
