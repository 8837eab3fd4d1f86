"""One-box search: 2-character Chinese names, pinyin, initials, phone fragments, e-mail; in scope only."""

from __future__ import annotations

import pytest


@pytest.fixture()
def people(api):
    acme = api.customer(name="北京华信科技有限公司", phone="010-62345678", email="info@huaxin.cn")
    zhang = api.contact(acme["id"], name="张伟", mobile="138-1234-5678", email="zhang.wei@huaxin.cn")
    li = api.contact(acme["id"], name="李娜", mobile="13955556666")
    other = api.customer(name="上海明远贸易有限公司", phone="021-55556666")
    return {"acme": acme, "zhang": zhang, "li": li, "other": other}


def _contact_names(api, q, user="admin"):
    r = api.get("/contacts", params={"q": q}, user=user)
    assert r.status_code == 200, r.text
    return {c["name"] for c in r.json()["items"]}


@pytest.mark.parametrize("q", ["张伟", "zhangwei", "zw", "ZW", "zhang wei", "1234", "138-1234", "zhang.wei@", "伟"])
def test_contact_found_by(api, people, q):
    assert "张伟" in _contact_names(api, q)


def test_no_false_positives(api, people):
    assert _contact_names(api, "张娜") == set()
    assert _contact_names(api, "zn") == set()
    assert _contact_names(api, "5555") == {"李娜"}
    assert _contact_names(api, "ln") == {"李娜"}


def test_customer_search_by_name_pinyin_initials_phone_email(api, people):
    def names(q):
        return {c["name"] for c in api.get("/customers", params={"q": q}).json()["items"]}
    assert names("华信") == {"北京华信科技有限公司"}
    assert names("huaxin") == {"北京华信科技有限公司"}
    assert names("bjhx") == {"北京华信科技有限公司"}
    assert names("6234") == {"北京华信科技有限公司"}
    assert names("info@huaxin") == {"北京华信科技有限公司"}
    assert names("明远") == {"上海明远贸易有限公司"}
    assert names("有限公司") == {"北京华信科技有限公司", "上海明远贸易有限公司"}


def test_full_width_and_case_folded(api, people):
    assert "张伟" in _contact_names(api, "ＺＷ")
    assert "张伟" in _contact_names(api, "１２３４")


def test_search_respects_scope(api):
    mine = api.customer(user="rep_north", name="北方张伟工作室")
    theirs = api.customer(user="rep_east", name="华东张伟工作室")
    found = {c["id"] for c in api.get("/customers", params={"q": "张伟"}, user="rep_north").json()["items"]}
    assert found == {mine["id"]}
    assert api.get("/customers", params={"q": "张伟"}, user="rep_north").json()["total"] == 1
    hits = api.get("/search", params={"q": "zw"}, user="rep_north").json()["items"]
    assert {(h["type"], h["id"]) for h in hits} == {("customer", mine["id"])}
    _ = theirs


def test_global_search_over_three_types(api, people):
    c = people["acme"]
    api.opportunity(c["id"], name="华信二期扩容项目")
    hits = api.get("/search", params={"q": "华信"}).json()["items"]
    types = {h["type"] for h in hits}
    assert types == {"customer", "opportunity"}
    hits = api.get("/search", params={"q": "zw"}).json()["items"]
    assert ("contact", people["zhang"]["id"]) in {(h["type"], h["id"]) for h in hits}
    zhang = [h for h in hits if h["type"] == "contact"][0]
    assert "北京华信科技有限公司" in zhang["subtitle"]


def test_search_index_follows_updates_and_deletes(api, people):
    z = people["zhang"]
    r = api.patch(f"/contacts/{z['id']}", {"name": "王芳", "version": z["version"]})
    assert r.status_code == 200
    assert _contact_names(api, "张伟") == set()
    assert _contact_names(api, "wf") == {"王芳"}
    api.delete(f"/contacts/{z['id']}")
    assert _contact_names(api, "wf") == set()


def test_search_uses_an_index(api, engine, people):
    """The search condition is answered by the gram index, not a scan of the table."""
    import re

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from kith.contacts.models import Contact
    from kith.search.index import match

    with Session(engine) as s:
        compiled = select(Contact.id).where(match(s, Contact, "张伟")).compile(engine)
        conn = s.connection()
        if engine.dialect.name == "sqlite":
            params = tuple(compiled.params[name] for name in compiled.positiontup)
            text = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params))
            assert "contacts_fts VIRTUAL TABLE INDEX" in text, text
            assert not re.search(r"SCAN contacts(?!_fts)", text), text
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            text = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params))
            assert "ix_contacts_search_grams" in text, text


def test_search_subtitles_respect_field_rights(api, db, people):
    from sqlalchemy import select

    from kith.auth.models import Role

    rep = db.scalar(select(Role).where(Role.code == "marketing"))
    rep.field_rights = {**rep.field_rights, "contact": {"mobile": "hidden"}, "customer": {"phone": "hidden"}}
    db.commit()
    hits = api.get("/search", params={"q": "张伟"}, user="marketing").json()["items"]
    assert hits and all("1234" not in (h["subtitle"] or "") for h in hits)
    hits = api.get("/search", params={"q": "华信"}, user="marketing").json()["items"]
    assert hits and all("6234" not in (h["subtitle"] or "") for h in hits)
    assert "138-1234-5678" in str(api.get("/search", params={"q": "张伟"}).json())
