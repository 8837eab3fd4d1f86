"""Export: current filters, the caller's field rights, no live formulas, the export right, audited."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from conftest import assert_error


def _xlsx_rows(content: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(content))
    ws = wb.active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_xlsx_with_filters_and_no_formulas(api):
    api.customer(name="=HYPERLINK(\"http://evil\",\"x\")", level="A", description="+1+2")
    api.customer(name="普通客户", level="A")
    api.customer(name="别的级别", level="B")
    r = api.get("/customers/export", params={"format": "xlsx", "level": "A"})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    rows = _xlsx_rows(r.content)
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    names = {row[header.index("name")] for row in body}
    assert names == {"'=HYPERLINK(\"http://evil\",\"x\")", "普通客户"}
    wb = load_workbook(io.BytesIO(r.content))
    for row in wb.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value  # no live formula from user data
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_export_csv_is_utf8_with_bom(api):
    api.customer(name="导出客户", phone="13812345678")
    r = api.get("/customers/export", params={"format": "csv"})
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("name")] == "导出客户"
    assert rows[1][rows[0].index("phone")] == "'+8613812345678"  # a leading + is neutralised too


def test_export_needs_the_right_respects_scope_and_hides_fields(api):
    c = api.customer(user="rep_north", name="销售的客户")
    api.customer(user="rep_east", name="别人的客户")
    api.contract(c["id"], amount="654321", owner_id=api.world.users["rep_north"])
    assert_error(api.get("/customers/export", user="rep_north"), 403)  # reps have no export right
    mgr = api.get("/contracts/export", params={"format": "csv"}, user="manager_north")
    assert mgr.status_code == 200 and "654321" in mgr.text
    rows = _xlsx_rows(api.get("/customers/export", user="manager_north").content)
    assert [r[rows[0].index("name")] for r in rows[1:]] == ["销售的客户"]
    fin = api.get("/contracts/export", params={"format": "csv"}, user="finance")
    assert fin.status_code == 200 and "654321" in fin.text
    entries = api.get("/audit-log", params={"action": "export"}).json()["items"]
    assert {e["actor_id"] for e in entries} >= {api.world.users["manager_north"], api.world.users["finance"]}


def test_hidden_field_never_exported(api, db):
    from sqlalchemy import select

    from kith.auth.models import Role

    rep = db.scalar(select(Role).where(Role.code == "sales_rep"))
    rep.permissions = {**rep.permissions, "contract": ["read", "create", "export"]}
    db.commit()
    c = api.customer(user="rep_north")
    api.contract(c["id"], amount="424242", owner_id=api.world.users["rep_north"])
    r = api.get("/contracts/export", params={"format": "xlsx"}, user="rep_north")
    assert r.status_code == 200
    rows = _xlsx_rows(r.content)
    assert "amount" not in rows[0] and len(rows) == 2
    assert "424242" not in str(rows)
