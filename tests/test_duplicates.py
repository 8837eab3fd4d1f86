"""Duplicate check on create: 409 naming the match and its owner; ?force=true for those allowed."""

from __future__ import annotations

from conftest import assert_error


def test_same_normalised_name_is_409_with_owner(api):
    api.customer(user="rep_north", name="北京华信科技有限公司")
    err = assert_error(api.post("/customers", {"name": "北京华信科技 有限公司"}, user="rep_north"), 409, "duplicate_customer")
    assert err["details"]["owner"]["display_name"] == "李销售"
    assert err["details"]["customer"]["name"] == "北京华信科技有限公司"
    assert "李销售" in err["message"]
    # legal-suffix and full-width variants are the same customer
    assert_error(api.post("/customers", {"name": "北京华信科技股份有限公司"}, user="rep_north"), 409)
    assert_error(api.post("/customers", {"name": "北京华信科技"}, user="rep_north"), 409)
    assert_error(api.post("/customers", {"name": "北京华信科技（北京）有限公司"}, user="rep_north"), 409)
    api.customer(name="Acme Trading Co., Ltd.")
    assert_error(api.post("/customers", {"name": "ＡＣＭＥ  trading"}), 409)


def test_phone_and_email_duplicates(api):
    api.customer(name="甲公司", phone="13812345678", email="Sales@Example.com")
    err = assert_error(api.post("/customers", {"name": "乙公司", "phone": "138 1234 5678"}), 409)
    assert err["details"]["field"] == "phone"
    err = assert_error(api.post("/customers", {"name": "丙公司", "email": "Sales@example.COM"}), 409)
    assert err["details"]["field"] == "email"


def test_invisible_match_names_only_the_owner(api):
    api.customer(user="rep_east", name="华东独家客户有限公司")
    err = assert_error(api.post("/customers", {"name": "华东独家客户"}, user="rep_north"), 409, "duplicate_customer")
    assert err["details"]["owner"]["display_name"] == "周销售"
    assert "customer" not in err["details"]  # the record itself stays hidden …
    assert isinstance(err["details"]["customer_id"], int)  # … but its number lets one request access
    assert "华东独家客户有限公司" not in str(err)


def test_force_only_for_users_allowed(api, db):
    from sqlalchemy import func, select

    from kith.customers.models import Customer

    api.customer(user="rep_north", name="强制客户有限公司")
    assert_error(api.post("/customers?force=true", {"name": "强制客户"}, user="rep_north"), 409)
    r = api.post("/customers?force=true", {"name": "强制客户"}, user="manager_north")
    assert r.status_code == 201
    assert db.scalar(select(func.count()).select_from(Customer)) == 2


def test_deleted_customer_does_not_block(api):
    c = api.customer(name="已删除客户")
    api.delete(f"/customers/{c['id']}")
    assert api.post("/customers", {"name": "已删除客户"}).status_code == 201
