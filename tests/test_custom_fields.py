"""Custom fields: administrators define them; values validated, filterable and sortable; cf_<name> in the API."""

from __future__ import annotations

import pytest

from conftest import assert_error


@pytest.fixture()
def fields(api):
    specs = [
        {"entity_type": "customer", "name": "budget", "label": "年度预算", "label_en": "Annual budget", "field_type": "number"},
        {"entity_type": "customer", "name": "erp", "label": "ERP 系统", "field_type": "select", "options": ["SAP", "用友", "金蝶"]},
        {"entity_type": "customer", "name": "channels", "label": "渠道", "field_type": "multiselect", "options": ["线上", "线下"]},
        {"entity_type": "customer", "name": "founded", "label": "成立日期", "field_type": "date"},
        {"entity_type": "customer", "name": "listed", "label": "已上市", "field_type": "boolean"},
        {"entity_type": "customer", "name": "advisor", "label": "顾问", "field_type": "user"},
        {"entity_type": "customer", "name": "motto", "label": "口号", "field_type": "text"},
    ]
    out = {}
    for spec in specs:
        r = api.post("/custom-fields", spec)
        assert r.status_code == 201, r.text
        out[spec["name"]] = r.json()
    return out


def test_values_validated_per_type(api, fields):
    good = api.customer(cf_budget=150000, cf_erp="SAP", cf_channels=["线上"], cf_founded="2010-05-01", cf_listed=True,
                        cf_advisor=api.world.users["rep_north"], cf_motto="客户第一")
    assert (good["cf_budget"], good["cf_erp"], good["cf_channels"], good["cf_founded"], good["cf_listed"]) == (150000, "SAP", ["线上"], "2010-05-01", True)
    bad = {"cf_budget": "很多", "cf_erp": "Oracle", "cf_channels": ["电视"], "cf_founded": "2010-13-01", "cf_listed": "yes",
           "cf_advisor": 999999, "cf_motto": 5}
    err = assert_error(api.post("/customers", {"name": "坏数据公司", **bad}), 422, "validation_error")
    assert {f["field"] for f in err["fields"]} == set(bad)
    codes = {f["field"]: f["code"] for f in err["fields"]}
    assert codes["cf_erp"] == "invalid_choice" and codes["cf_budget"] == "invalid_number" and codes["cf_founded"] == "invalid_date"
    assert_error(api.post("/customers", {"name": "未知字段公司", "cf_nothing": 1}), 422, field="cf_nothing")
    assert_error(api.post("/customers", {"name": "拼写错误公司", "levle": "A"}), 422, field="levle")


def test_required_custom_field(api, fields):
    r = api.patch(f"/custom-fields/{fields['erp']['id']}", {"required": True, "version": 1})
    assert r.status_code == 200
    assert_error(api.post("/customers", {"name": "缺必填公司"}), 422, field="cf_erp")
    c = api.customer(name="有必填公司", cf_erp="金蝶")
    assert_error(api.patch(f"/customers/{c['id']}", {"cf_erp": None, "version": 1}), 422, field="cf_erp")


def test_filter_and_sort_by_custom_fields(api, fields):
    a = api.customer(name="甲", cf_budget=300, cf_erp="SAP", cf_listed=True)
    b = api.customer(name="乙", cf_budget=100, cf_erp="用友")
    c = api.customer(name="丙", cf_budget=200, cf_erp="SAP")
    ids = lambda r: [x["id"] for x in r.json()["items"]]  # noqa: E731
    assert ids(api.get("/customers", params={"cf_erp": "SAP", "sort": "name"})) == sorted([a["id"], c["id"]], key=lambda i: {a["id"]: "甲", c["id"]: "丙"}[i])
    assert ids(api.get("/customers", params={"sort": "cf_budget"})) == [b["id"], c["id"], a["id"]]
    assert ids(api.get("/customers", params={"sort": "-cf_budget"})) == [a["id"], c["id"], b["id"]]
    assert ids(api.get("/customers", params={"cf_budget__gte": "150", "sort": "cf_budget"})) == [c["id"], a["id"]]
    assert ids(api.get("/customers", params={"cf_listed": "true"})) == [a["id"]]
    page1 = api.get("/customers", params={"sort": "cf_budget", "limit": 2}).json()
    page2 = api.get("/customers", params={"sort": "cf_budget", "limit": 2, "cursor": page1["next_cursor"]}).json()
    assert [x["id"] for x in page1["items"] + page2["items"]] == [b["id"], c["id"], a["id"]]
    assert_error(api.get("/customers", params={"cf_budget": "abc"}), 400, field="cf_budget")


def test_field_definition_rules(api, fields):
    assert_error(api.post("/custom-fields", {"entity_type": "customer", "name": "erp", "label": "重复", "field_type": "text"}), 409)
    assert_error(api.post("/custom-fields", {"entity_type": "customer", "name": "Bad Name", "label": "x", "field_type": "text"}), 422, field="name")
    assert_error(api.post("/custom-fields", {"entity_type": "customer", "name": "pick", "label": "x", "field_type": "select"}), 422, field="options")
    assert_error(api.post("/custom-fields", {"entity_type": "customer", "name": "x1", "label": "x", "field_type": "text"}, user="rep_north"), 403)
    listed = api.get("/custom-fields", params={"entity_type": "customer"}).json()["items"]
    assert {f["key"] for f in listed} >= {"cf_budget", "cf_erp"}


def test_custom_fields_on_contacts_and_opportunities(api):
    r = api.post("/custom-fields", {"entity_type": "contact", "name": "hobby", "label": "爱好", "field_type": "text"})
    assert r.status_code == 201
    r = api.post("/custom-fields", {"entity_type": "opportunity", "name": "competitor", "label": "竞争对手", "field_type": "select",
                                    "options": ["A公司", "B公司"]})
    assert r.status_code == 201
    c = api.customer()
    k = api.contact(c["id"], cf_hobby="钓鱼")
    assert k["cf_hobby"] == "钓鱼"
    o = api.opportunity(c["id"], cf_competitor="A公司")
    assert o["cf_competitor"] == "A公司"
    assert api.get("/opportunities", params={"cf_competitor": "A公司"}).json()["total"] == 1


def test_field_rights_cover_custom_fields(api, db, fields):
    """Administrators hide a custom field from a role: absent everywhere, not filterable, not writable."""
    from sqlalchemy import select

    from kith.auth.models import Role

    rep = db.scalar(select(Role).where(Role.code == "sales_rep"))
    rep.field_rights = {**rep.field_rights, "customer": {"cf_budget": "hidden", "cf_erp": "read"}}
    db.commit()
    c = api.customer(user="rep_north", name="预算保密客户")
    api.patch(f"/customers/{c['id']}", {"cf_budget": 987654, "cf_erp": "SAP", "version": 1})
    got = api.get(f"/customers/{c['id']}", user="rep_north").json()
    assert "cf_budget" not in got and got["cf_erp"] == "SAP"
    assert "987654" not in api.get("/customers", user="rep_north").text
    assert "987654" not in api.get(f"/customers/{c['id']}/timeline", user="rep_north").text
    assert_error(api.get("/customers", params={"cf_budget__gte": "1"}, user="rep_north"), 403)
    assert_error(api.get("/customers", params={"sort": "cf_budget"}, user="rep_north"), 403)
    assert_error(api.patch(f"/customers/{c['id']}", {"cf_erp": "用友", "version": 2}, user="rep_north"), 403, field="cf_erp")
    assert_error(api.patch(f"/customers/{c['id']}", {"cf_budget": 1, "version": 2}, user="rep_north"), 403, field="cf_budget")
    assert api.get(f"/customers/{c['id']}").json()["cf_budget"] == 987654
