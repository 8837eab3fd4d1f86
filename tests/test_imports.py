"""The import wizard: messy files made here (xlsx, csv in GBK and UTF-8 with BOM), automatic mapping,
preview with corrections and duplicates, background run, report, rollback, crash + resume, rights."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import inspect, select, text

from conftest import assert_error, assert_followup_days_exact

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_xlsx(rows: list[list], sheets: dict[str, list[list]] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "客户"
    for r in rows:
        ws.append(r)
    for name, extra in (sheets or {}).items():
        other = wb.create_sheet(name)
        for r in extra:
            other.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_csv(rows: list[list], encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def upload(api, data: bytes, name: str, kind: str = "customer", user: str = "admin", **form):
    ctype = XLSX if name.endswith("xlsx") else "text/csv"
    return api.client.post("/api/v1/imports", files={"file": (name, data, ctype)}, data={"kind": kind, **form},
                           headers=api.headers(user))


def preview_all(api, batch_id: int, user: str = "admin") -> dict[int, dict]:
    rows: dict[int, dict] = {}
    cursor = 0
    while True:
        r = api.get(f"/imports/{batch_id}/preview", user=user, params={"cursor": cursor, "limit": 2})
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            rows[item["row"]] = item
        if not r.json()["next_cursor"]:
            return rows
        cursor = int(r.json()["next_cursor"])


def report(api, batch_id: int, user: str = "admin"):
    r = api.get(f"/imports/{batch_id}/report.xlsx", user=user)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(XLSX)
    return load_workbook(io.BytesIO(r.content))


MESSY_HEADER = ["客户名称*", "联系电话", "电子邮箱", "所在省份", "城市", "行业", "备注"]


def messy_customers() -> bytes:
    return make_xlsx([
        ["2026 年客户导入表（请勿修改表头）"],
        [],
        MESSY_HEADER,
        ["  北京星辰科技有限公司 ", "010 6234 5678", " Sales@XingChen.COM ", "北京市", "北京市", "软件", "老客户"],   # 4: folded, phone, e-mail
        ["上海蓝海贸易有限公司", "13812345678", "bad-email@", "上海", "上海", "贸易", None],                      # 5: bad e-mail
        ["北京星辰科技有限公司", "01062345678", None, "北京", None, None, None],                                  # 6: in-file duplicate of 4
        ["杭州云帆网络有限公司", "0571-88886666", None, "浙江省", "杭州市", "互联网", None],                     # 7: existing duplicate
        [None, "13912345678", None, None, None, None, "没有名字"],                                                # 8: name missing
        ["ＡＢＣ商贸有限公司", "１３９１２３４５６７８", None, "广东省", "深圳市", None, None],                      # 9: full-width
        ["@HYPERLINK(\"http://evil\")有限公司", None, None, None, None, None, "+cmd|' /C calc'!A0"],              # 10: formula text
        [None, None, None, None, None, None, None],                                                               # empty: dropped
        ["南京小米粒餐饮管理有限公司", "1381234567", None, "江苏", "南京", "餐饮", None],                          # 12: bad phone (10 digits)
    ])


def test_messy_xlsx_header_mapping_preview_run_report(api, db):
    existing = api.customer(name="杭州云帆网络有限公司", phone="0571-88886666")
    r = upload(api, messy_customers(), "客户.xlsx")
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["sheets"] == ["客户"] and b["header_row"] == 3 and b["total_rows"] == 8
    fields = {m["header"]: m["field"] for m in b["mapping"]}
    assert fields == {"客户名称*": "name", "联系电话": "phone", "电子邮箱": "email", "所在省份": "province", "城市": "city",
                      "行业": "industry", "备注": "description"}
    rows = preview_all(api, b["id"])
    assert sorted(rows) == [4, 5, 6, 7, 8, 9, 10, 12]
    first = rows[4]
    assert first["status"] == "pending" and first["action"] == "create"
    assert first["values"]["name"] == {"raw": "  北京星辰科技有限公司 ", "value": "北京星辰科技有限公司", "changed": True}
    assert first["values"]["phone"] == {"raw": "010 6234 5678", "value": "010 6234 5678", "changed": False}
    assert first["values"]["email"]["value"] == "sales@xingchen.com" and first["values"]["email"]["changed"]
    assert first["values"]["province"]["value"] == "北京" and first["values"]["province"]["changed"]
    bad_email = rows[5]
    assert bad_email["status"] == "rejected" and [e["field"] for e in bad_email["errors"]] == ["email"]
    assert bad_email["errors"][0]["code"] == "invalid_email" and bad_email["errors"][0]["message"]
    dup = rows[6]
    assert dup["action"] == "skip" and dup["candidates"][0]["source"] == "file" and dup["candidates"][0]["row"] == 4
    assert dup["candidates"][0]["score"] >= 0.9 and "name" in dup["candidates"][0]["matched"]
    ex = rows[7]
    assert ex["action"] == "skip" and ex["candidates"][0] == {**ex["candidates"][0], "source": "existing", "id": existing["id"],
                                                               "name": "杭州云帆网络有限公司"}
    assert "phones" in ex["candidates"][0]["matched"]
    assert rows[8]["status"] == "rejected" and rows[8]["errors"][0] == {**rows[8]["errors"][0], "field": "name", "code": "required"}
    assert rows[9]["values"]["name"]["value"] == "ABC商贸有限公司" and rows[9]["values"]["phone"]["value"] == "139-1234-5678"
    assert [e["field"] for e in rows[12]["errors"]] == ["phone"]
    assert rows[10]["status"] == "pending", rows[10]["errors"]

    # merge the existing duplicate instead of skipping it
    r = api.put(f"/imports/{b['id']}/decisions", {"rows": {"7": f"merge:{existing['id']}"}})
    assert r.status_code == 200, r.text
    r = api.post(f"/imports/{b['id']}/run", headers={"Idempotency-Key": "run-1"})
    assert r.status_code == 202, r.text
    done = api.get(f"/imports/{b['id']}").json()
    assert done["status"] == "done" and done["progress"] == 1 and done["backup"] is (db.get_bind().dialect.name == "sqlite")
    counts = done["counts"]
    assert counts == {"created": 3, "updated": 0, "merged": 1, "skipped": 1, "rejected": 3, "total": 8}
    assert sum(v for k, v in counts.items() if k != "total") == counts["total"] == b["total_rows"]
    again = api.post(f"/imports/{b['id']}/run", headers={"Idempotency-Key": "run-1"})
    assert again.status_code == 202 and again.headers.get("Idempotent-Replay") == "true"

    # records: cleaned values, owner = importer, searchable, timeline event, merge filled the gaps only
    made = api.get("/customers", params={"q": "星辰"}).json()["items"]
    assert [c["name"] for c in made] == ["北京星辰科技有限公司"]
    assert made[0]["phone"] == "+861062345678" and made[0]["email"] == "sales@xingchen.com" and made[0]["province"] == "北京"
    assert made[0]["owner_id"] == api.world.users["admin"]
    assert api.get("/customers", params={"q": "ABC"}).json()["items"][0]["phone"] == "+8613912345678"
    merged = api.get(f"/customers/{existing['id']}").json()
    assert merged["industry"] == "互联网" and merged["province"] == "浙江" and merged["version"] == 2
    timeline = api.get(f"/customers/{made[0]['id']}/timeline").json()["items"]
    assert [e["type"] for e in timeline] == ["customer.created"]

    wb = report(api, b["id"])
    ws = wb.worksheets[0]
    lines = list(ws.iter_rows(values_only=True))
    assert [x[0] for x in lines[1:]] == [4, 5, 6, 7, 8, 9, 10, 12]
    status = {x[0]: x[1] for x in lines[1:]}
    assert status[4] == "新建" and status[5] == "拒绝" and status[6] == "跳过" and status[7] == "合并"
    reasons = {x[0]: x[2] for x in lines[1:]}
    assert "第 4 行" in reasons[6] and "email" in reasons[5] and f"#{existing['id']}" in reasons[7]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            assert not (isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@"))), cell.value
    assert any(isinstance(c, str) and c.startswith("'@HYPERLINK") for line in lines for c in line)
    assert any(isinstance(c, str) and c.startswith("'+cmd") for line in lines for c in line)
    summary = {r[0]: r[1] for r in wb.worksheets[1].iter_rows(values_only=True)}
    assert summary["源文件行数"] == 8 and summary["新建"] == 3


def test_csv_gbk_contacts_and_utf8_bom_english_headers(api):
    c = api.customer(name="深圳前海微众科技有限公司")
    gbk = make_csv([["客户名称", "联系人姓名", "手机号码", "邮箱", "职务", "是否主联系人"],
                    ["深圳前海微众科技有限公司", "张伟", "138 1234 5678", "zhangwei@webank.com", "采购经理", "是"],
                    ["深圳前海微众科技", "李娜", "1381234567", None, "财务", "否"],
                    ["不存在的公司", "王强", "13912345678", None, None, None]], "gbk")
    r = upload(api, gbk, "联系人.csv", kind="contact")
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["encoding"] == "gb18030"
    assert {m["header"]: m["field"] for m in b["mapping"]} == {"客户名称": "customer_name", "联系人姓名": "name", "手机号码": "mobile",
                                                             "邮箱": "email", "职务": "title", "是否主联系人": "is_primary"}
    rows = preview_all(api, b["id"])
    assert rows[2]["status"] == "pending" and rows[2]["values"]["mobile"]["value"] == "138-1234-5678"
    assert [e["field"] for e in rows[3]["errors"]] == ["mobile"]
    assert rows[3]["errors"][0]["code"] == "invalid_mobile"
    assert [e["field"] for e in rows[4]["errors"]] == ["customer_name"]
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert api.get(f"/imports/{b['id']}").json()["counts"] == {"created": 1, "updated": 0, "merged": 0, "skipped": 0, "rejected": 2,
                                                                "total": 3}
    contacts = api.get("/contacts", params={"customer_id": c["id"]}).json()["items"]
    assert [(x["name"], x["mobile"], x["is_primary"], x["customer_id"]) for x in contacts] == [("张伟", "+8613812345678", True, c["id"])]

    bom = make_csv([["Company Name", "Tel", "E-mail", "City", "Industry"],
                    ["Acme Trading Ltd.", "+44 20 7946 0958", "info@ACME.co.uk", "上海市", "Trade"],
                    ["Globex Corporation", "021-5555 1234", "sales@globex.cn", "Shanghai??", None]], "utf-8-sig")
    r = upload(api, bom, "customers.csv")
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["encoding"] == "utf-8-sig" and b["headers"][0] == "Company Name"
    assert {m["header"]: m["field"] for m in b["mapping"]} == {"Company Name": "name", "Tel": "phone", "E-mail": "email",
                                                             "City": "city", "Industry": "industry"}
    rows = preview_all(api, b["id"])
    assert rows[2]["values"]["email"]["value"] == "info@acme.co.uk" and rows[2]["values"]["city"]["value"] == "上海"
    assert rows[3]["status"] == "pending"  # an unknown city stays as typed
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert api.get(f"/imports/{b['id']}").json()["counts"]["created"] == 2
    assert api.get("/customers", params={"q": "acme"}).json()["items"][0]["phone"] == "+442079460958"


def test_mapping_correction_template_and_sheet_choice(api):
    data = make_xlsx([["x"]], sheets={"客户清单": [["公司", "座机", "客户经理"], ["成都天府软件有限公司", "028-85556666", "rep_north"]]})
    b = upload(api, data, "多表.xlsx", sheet="客户清单").json()
    assert b["sheets"] == ["客户", "客户清单"] and b["sheet"] == "客户清单"
    assert [m["field"] for m in b["mapping"]] == ["name", "phone", "owner"]
    bad = api.put(f"/imports/{b['id']}/mapping", {"mapping": {"1": "nonsense"}})
    assert_error(bad, 422, field="mapping.1")
    assert_error(api.put(f"/imports/{b['id']}/mapping", {"mapping": {"1": "name"}}), 422, "validation_error", field="mapping.1")
    r = api.put(f"/imports/{b['id']}/mapping", {"mapping": {"2": None}, "save_as": "我的模板"})
    assert r.status_code == 200 and [m["field"] for m in r.json()["mapping"]] == ["name", "phone", None]
    tpls = api.get("/import-templates", params={"kind": "customer"}).json()["items"]
    assert [(t["name"], t["mapping"]) for t in tpls] == [("我的模板", {"公司": "name", "座机": "phone", "客户经理": None})]
    again = upload(api, data, "多表.xlsx", sheet="客户清单", template_id=str(tpls[0]["id"])).json()
    assert [m["field"] for m in again["mapping"]] == ["name", "phone", None]
    # a mapped owner: the manager may assign the rep, a record owned by them results
    b2 = upload(api, data, "多表.xlsx", sheet="客户清单", user="manager_north").json()
    assert api.post(f"/imports/{b2['id']}/run", user="manager_north").status_code == 202
    made = api.get("/customers", params={"q": "天府"}, user="rep_north").json()["items"]
    assert made and made[0]["owner_id"] == api.world.users["rep_north"]


def test_rights_rep_cannot_import_and_hidden_fields_never_reported(api, db):
    from kith.auth.models import Role, User

    data = make_xlsx([["客户名称", "电话", "邮箱"], ["保密电话有限公司", "13700001111", "a@b.cn"]])
    assert_error(upload(api, data, "a.xlsx", user="rep_north"), 403, "forbidden")
    assert_error(upload(api, data, "a.xlsx", kind="opportunity", user="service"), 403)
    assert_error(upload(api, b"MZ\x90\x00binary", "evil.exe"), 422, field="file")
    assert_error(upload(api, b"PK\x03\x04junk", "x.xlsx"), 422, field="file")

    role = Role(code="importer", name="导入员", name_en="Importer",
                permissions={"customer": ["read", "create", "import"]}, data_scopes={"customer": "own"},
                field_rights={"customer": {"phone": "hidden"}})
    db.add(role)
    user = db.get(User, api.world.users["rep_north2"])
    user.roles = [role]
    db.commit()
    api.forget("rep_north2")
    b = upload(api, data, "a.xlsx", user="rep_north2").json()
    assert [m["field"] for m in b["mapping"]] == ["name", None, "email"]
    assert "phone" not in [f["field"] for f in b["fields"]]
    assert_error(api.put(f"/imports/{b['id']}/mapping", {"mapping": {"1": "phone"}}, user="rep_north2"), 403, field="phone")
    assert api.post(f"/imports/{b['id']}/run", user="rep_north2").status_code == 202
    wb = report(api, b["id"], user="rep_north2")
    cells = [str(c) for ws in wb.worksheets for line in ws.iter_rows(values_only=True) for c in line if c is not None]
    assert "保密电话有限公司" in cells and not any("13700001111" in c or "137-0000" in c for c in cells)
    # another rep cannot see the batch; the admin can
    assert api.get(f"/imports/{b['id']}", user="rep_north").status_code == 404
    assert api.get(f"/imports/{b['id']}/report.xlsx", user="rep_north").status_code == 404
    assert api.get(f"/imports/{b['id']}", user="admin").status_code == 200


def _snapshot(engine) -> dict[str, list]:
    skip = {"audit_log", "import_batches", "import_rows", "import_templates", "idempotency_keys", "job_leases"}
    out = {}
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if name in skip or "_fts_" in name or name.startswith("sqlite_") or name.startswith("huey"):
                continue
            out[name] = sorted(map(repr, conn.execute(text(f'SELECT * FROM "{name}"')).all()))
        if engine.dialect.name == "sqlite":
            out["customers_fts"] = sorted(map(repr, conn.execute(text("SELECT rowid, grams FROM customers_fts")).all()))
    return out


def _search_names_exact(engine) -> bool:
    """Every customer's `search_names` is its name's search values (what the ORM listener writes; ADR 0026)."""
    from kith.core.normalize import search_values

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, search_names FROM customers")).all()
    return bool(rows) and all(names == " ".join(search_values([name])) for name, names in rows)


def _rollup_matches_customers(engine) -> bool:
    from kith.reports.rollup import filled_expr

    with engine.connect() as conn:
        live = conn.execute(text("SELECT owner_id, department_path, count(*) FROM customers WHERE deleted_at IS NULL "
                                 "GROUP BY owner_id, department_path")).all()
        counted = conn.execute(text("SELECT owner_id, department_path, sum(n) FROM report_customer_counts "
                                    "GROUP BY owner_id, department_path HAVING sum(n) > 0")).all()
        _ = filled_expr
    return sorted(map(tuple, live)) == sorted(map(tuple, counted))


def test_rollback_restores_every_table_and_is_blocked_by_later_edits(api, engine):
    existing = api.customer(name="重庆山城火锅有限公司", phone="023-66668888")
    other = api.customer(name="西安古城文化传媒有限公司")
    data = make_xlsx([["ID", "客户名称", "电话", "行业", "客户来源"],
                      [None, "重庆山城火锅", "023-66668888", "餐饮", "展会"],
                      [other["id"], "西安古城文化传媒有限公司", None, "传媒", "转介绍"],
                      [None, "武汉光谷芯片有限公司", "027-87654321", "半导体", None],
                      [None, "长沙岳麓书院文创有限公司", None, None, None]])
    before = _snapshot(engine)
    b = upload(api, data, "r.xlsx").json()
    assert [m["field"] for m in b["mapping"]] == ["id", "name", "phone", "industry", "source"]
    assert api.put(f"/imports/{b['id']}/decisions", {"rules": {"existing": "merge", "min_score": 0.8}}).status_code == 200
    rows = preview_all(api, b["id"])
    assert rows[2]["action"] == f"merge:{existing['id']}" and rows[3]["action"] == f"update:{other['id']}"
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert api.get(f"/imports/{b['id']}").json()["counts"] == {"created": 2, "updated": 1, "merged": 1, "skipped": 0, "rejected": 0,
                                                                "total": 4}
    assert api.get(f"/customers/{other['id']}").json()["industry"] == "传媒"
    assert _snapshot(engine) != before
    assert _rollup_matches_customers(engine)  # reports count the imported customers (Core writes refresh the roll-up)
    assert _search_names_exact(engine)  # created, updated and merged records (Core writes) keep search_names too
    r = api.post(f"/imports/{b['id']}/rollback")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rolled_back" and r.json()["rollback"] == {"deleted": 2, "restored": 2}
    after = _snapshot(engine)
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table
    assert api.get("/customers", params={"q": "光谷"}).json()["items"] == []
    assert_error(api.post(f"/imports/{b['id']}/rollback"), 409)

    # a second import; a record it created is edited afterwards → rollback refused, naming it
    b = upload(api, data, "r.xlsx").json()
    api.put(f"/imports/{b['id']}/decisions", {"rules": {"existing": "merge", "min_score": 0.8}})
    api.post(f"/imports/{b['id']}/run")
    made = api.get("/customers", params={"q": "光谷"}).json()["items"][0]
    assert api.patch(f"/customers/{made['id']}", {"level": "A", "version": made["version"]}).status_code == 200
    api.contact(api.get("/customers", params={"q": "岳麓"}).json()["items"][0]["id"])
    err = assert_error(api.post(f"/imports/{b['id']}/rollback"), 409, "import_rollback_blocked")
    blocking = err["details"]["blocking"]
    assert [(x["row"], x["id"], x["why"]) for x in blocking][0] == (4, made["id"], "changed")
    assert [x["why"] for x in blocking] == ["changed", "referenced"]
    assert api.get(f"/customers/{made['id']}").status_code == 200


def test_import_update_and_rollback_keep_search_names(api, engine):
    """An import that renames a record (Core UPDATE) and its rollback (before-image) keep `search_names` with the name,
    so a caller who searches names only (ADR 0026) finds the record by the name it has."""
    c = api.customer(name="南京老城旧名贸易有限公司", phone="025-66661234")
    b = upload(api, make_xlsx([["ID", "客户名称"], [c["id"], "南京新城新名贸易有限公司"]]), "rename.xlsx").json()
    assert preview_all(api, b["id"])[2]["action"] == f"update:{c['id']}"
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert api.get(f"/imports/{b['id']}").json()["counts"]["updated"] == 1

    def names() -> str:
        with engine.connect() as conn:
            return conn.execute(text("SELECT search_names FROM customers WHERE id = :i"), {"i": c["id"]}).scalar_one()

    assert "xinchengxinming" in names() and "jiuming" not in names() and _search_names_exact(engine)
    # a before-image taken before migration 0022 has no search_names: the rollback computes it from the restored name
    from sqlalchemy.orm import Session

    from kith.imports.models import ImportRow

    with Session(engine) as s:
        row = s.scalar(select(ImportRow).where(ImportRow.batch_id == b["id"], ImportRow.status == "updated"))
        assert "search_names" in row.before
        row.before = {k: v for k, v in row.before.items() if k != "search_names"}
        s.commit()
    assert api.post(f"/imports/{b['id']}/rollback").status_code == 200
    assert "laochengjiuming" in names() and "xinming" not in names() and _search_names_exact(engine)


def test_crash_mid_import_then_resume_every_row_once(api, settings, engine, tmp_path):
    from kith.imports.models import ImportBatch, ImportRow

    n = 600
    rows = [["客户名称", "电话"]] + [[f"崩溃测试客户{i:04d}有限公司", f"0755-{20000000 + i}"] for i in range(n)]
    path = tmp_path / "big.xlsx"
    path.write_bytes(make_xlsx(rows))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITH_")}
    env.update(KITH_DATABASE_URL=settings.database_url, KITH_DATA_DIR=str(settings.data_dir), KITH_SECRET_KEY=settings.secret_key,
               KITH_ENVIRONMENT="test", KITH_IMPORT_CHUNK="50", KITH_IMPORT_THROTTLE="0.3", KITH_LOG_LEVEL="WARNING")
    kith = str(Path(sys.executable).with_name("kith"))
    proc = subprocess.Popen([kith, "import", str(path), "--kind", "customer", "--as", "admin"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    batch_id = None
    with engine.connect() as conn:
        while time.time() < deadline:
            row = conn.execute(select(ImportBatch.id, ImportBatch.processed_rows).order_by(ImportBatch.id.desc()).limit(1)).first()
            conn.rollback()
            if row and row.processed_rows >= 100:
                batch_id = row.id
                break
            time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert batch_id is not None, proc.stderr.read().decode()[-2000:]
    with engine.connect() as conn:
        done = conn.execute(select(ImportRow.status, ImportRow.record_id).where(ImportRow.batch_id == batch_id)).all()
        customers = conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
    created = [r for r in done if r.status == "created"]
    assert 100 <= len(created) < n and len(created) % 50 == 0  # whole chunks only
    assert customers == len(created)  # no record without its row outcome, no outcome without its record
    assert api.get(f"/imports/{batch_id}").json()["status"] == "running"
    r = api.post(f"/imports/{batch_id}/resume")
    assert r.status_code == 202, r.text
    final = api.get(f"/imports/{batch_id}").json()
    assert final["status"] == "done" and final["counts"] == {"created": n, "updated": 0, "merged": 0, "skipped": 0, "rejected": 0,
                                                             "total": n}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT name) FROM customers")).one() == (n, n)
        ids = conn.execute(select(ImportRow.record_id).where(ImportRow.batch_id == batch_id)).scalars().all()
    assert len(set(ids)) == n
    assert_error(api.post(f"/imports/{batch_id}/resume"), 409)


def test_other_kinds_opportunities_and_followups(api):
    c = api.customer(name="苏州工业园区精密制造有限公司")
    api.contact(c["id"], name="陈静")
    opps = make_xlsx([["客户名称", "商机名称", "金额", "预计成交日期", "下一步", "下一步截止"],
                      ["苏州工业园区精密制造有限公司", "二期产线改造", "1.2万", "2026/3/1", "发报价", "2026-02-01 10:00"],
                      ["苏州工业园区精密制造有限公司", "没有下一步", "abc", "2026-13-45", None, None]])
    b = upload(api, opps, "商机.xlsx", kind="opportunity").json()
    rows = preview_all(api, b["id"])
    assert rows[2]["values"]["amount"]["value"] == "12000.00" and rows[2]["values"]["expected_close_date"]["value"] == "2026-03-01"
    assert {e["field"] for e in rows[3]["errors"]} == {"amount", "expected_close_date", "next_action", "next_action_due"}
    api.post(f"/imports/{b['id']}/run")
    opp = api.get("/opportunities", params={"customer_id": c["id"]}).json()["items"]
    assert [(o["name"], o["amount"]) for o in opp] == [("二期产线改造", "12000.00")]
    assert opp[0]["next_action_due"].startswith("2026-02-01T02:00:00")

    fus = make_csv([["客户名称", "联系人", "跟进方式", "跟进内容", "跟进时间"],
                    ["苏州工业园区精密制造有限公司", "陈静", "拜访", "现场看了产线", "2025-12-01 15:30"],
                    ["苏州工业园区精密制造有限公司", None, "飞鸽传书", "?", None]], "utf-8-sig")
    b = upload(api, fus, "跟进.csv", kind="followup").json()
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    counts = api.get(f"/imports/{b['id']}").json()["counts"]
    assert counts["created"] == 1 and counts["rejected"] == 1
    fu = api.get("/followups", params={"customer_id": c["id"]}).json()["items"]
    assert [(f["type"], f["content"], f["contact_id"] is not None) for f in fu] == [("visit", "现场看了产线", True)]
    _ = datetime


def test_imported_followups_move_customer_followup_times_like_the_api_and_rollback_restores_them(api, engine):
    """Follow-ups imported move the customer's last / next follow-up times as follow-ups created through the API do
    (taken in time order, whatever the file order); rollback puts the earlier times back, except where they moved since."""
    tea = api.customer(name="杭州西湖龙井茶业有限公司")
    port = api.customer(name="宁波港口物流有限公司")
    twin = api.customer(name="宁波港口物流对照组有限公司")
    quiet = api.customer(name="合肥科学岛仪器有限公司")

    def followup(customer_id, type_, occurred, nxt=None):
        body = {"customer_id": customer_id, "type": type_, "content": "记录", "occurred_at": occurred,
                **({"next_followup_at": nxt} if nxt else {})}
        assert api.post("/followups", body).status_code == 201

    def times(c):
        got = api.get(f"/customers/{c['id']}").json()
        return got["last_followup_at"], got["next_followup_at"], got["version"]

    followup(tea["id"], "call", "2026-01-10T02:00:00Z", "2026-01-20T02:00:00Z")
    tea_before, port_before, quiet_before = times(tea), times(port), times(quiet)
    assert tea_before[0].startswith("2026-01-10T02:00") and tea_before[1].startswith("2026-01-20T02:00")
    assert port_before[:2] == (None, None)

    data = make_xlsx([["客户名称", "跟进方式", "跟进内容", "跟进时间", "下次跟进时间"],
                      ["杭州西湖龙井茶业有限公司", "拜访", "旧的拜访", "2025-12-01 10:00", "2025-12-05 10:00"],  # older than the last
                      ["宁波港口物流有限公司", "电话", "第一次电话", "2026-02-01 09:00", "2026-02-08 09:00"],
                      ["宁波港口物流有限公司", "拜访", "后来的拜访", "2026-02-03 14:00", None],  # newest, no next time
                      ["宁波港口物流有限公司", "电话", "更早的电话", "2026-01-15 09:00", "2026-01-16 09:00"]])
    b = upload(api, data, "跟进.xlsx", kind="followup").json()
    assert [m["field"] for m in b["mapping"]] == ["customer_name", "type", "content", "occurred_at", "next_followup_at"]
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert api.get(f"/imports/{b['id']}").json()["counts"]["created"] == 4

    # the same follow-ups through the API, in time order, on a twin customer: the same times
    followup(twin["id"], "call", "2026-01-15T01:00:00Z", "2026-01-16T01:00:00Z")
    followup(twin["id"], "call", "2026-02-01T01:00:00Z", "2026-02-08T01:00:00Z")
    followup(twin["id"], "visit", "2026-02-03T06:00:00Z")
    port_after, twin_after = times(port), times(twin)
    assert port_after[:2] == twin_after[:2]
    assert port_after[0].startswith("2026-02-03T06:00") and port_after[1].startswith("2026-02-08T01:00")
    assert port_after[2] == port_before[2] + 1  # one write, like any change of the customer
    assert times(tea) == tea_before  # an older follow-up does not move the times (nor the version)
    assert times(quiet) == quiet_before

    r = api.post(f"/imports/{b['id']}/rollback")
    assert r.status_code == 200, r.text
    assert times(port)[:2] == (None, None) and times(tea) == tea_before and times(quiet) == quiet_before
    assert_followup_days_exact(engine)  # the report's per-day counts followed the import's inserts and the rollback

    # import again; a follow-up added through the API afterwards moves the times again → rollback keeps those
    b = upload(api, data, "跟进.xlsx", kind="followup").json()
    assert api.post(f"/imports/{b['id']}/run").status_code == 202
    assert times(port)[0].startswith("2026-02-03T06:00")
    followup(port["id"], "visit", "2026-03-01T02:00:00Z", "2026-03-09T02:00:00Z")
    assert api.post(f"/imports/{b['id']}/rollback").status_code == 200
    last, nxt, _ = times(port)
    assert last.startswith("2026-03-01T02:00") and nxt.startswith("2026-03-09T02:00")
    assert_followup_days_exact(engine)


def test_parallel_analysis_finds_the_same_duplicates_as_the_sequential_one(api, monkeypatch):
    """Large files are cleaned and matched in forked workers (against existing customers, and each row against the
    rows before it): the proposals are the ones the sequential analysis makes."""
    from kith.imports import service

    api.customer(name="深圳南山云帆科技有限公司", phone="0755-26001234")
    api.customer(name="广州天河明珠贸易有限公司", email="sales@mingzhu.cn")
    rows = [["客户名称", "电话", "邮箱", "城市"]]
    for i in range(40):
        rows.append([f"成都{'锦江' if i % 2 else '武侯'}第{i}号餐饮管理有限公司", f"028-8{i:07d}", None, "成都"])
    rows += [["深圳南山云帆科技", "0755 2600 1234", None, "深圳"],  # an existing customer typed otherwise
             ["广州天河明珠贸易", None, "Sales@MingZhu.cn", None],
             ["成都锦江第3号餐饮管理有限公司", "028-80000003", None, "成都"],  # repeats of earlier rows
             ["成都武侯第4号餐饮管理", None, None, "成都"],
             ["", "abc", "x@", None]]
    data = make_xlsx(rows)

    def proposals(parallel_from: int) -> dict:
        monkeypatch.setattr(service, "PARALLEL_FROM", parallel_from)
        b = upload(api, data, "p.xlsx").json()
        return {n: (r["action"], r["candidates"], [e["code"] for e in r["errors"]]) for n, r in preview_all(api, b["id"]).items()}

    sequential = proposals(10**9)
    parallel = proposals(10) if (os.cpu_count() or 1) > 1 else sequential
    assert parallel == sequential
    actions = [a for a, _, _ in sequential.values()]
    assert actions.count("skip") == 4 and actions.count("create") == 40
    assert {c["source"] for _, cands, _ in sequential.values() for c in cands} == {"existing", "file"}


def test_run_with_the_search_helper_writes_the_records_the_orm_would(api, db, monkeypatch):
    """Large runs get the created records' search values (pinyin, grams, name key) from a forked helper process that
    reads the pending rows ahead of the writes; on PostgreSQL the records and the analysed rows go in with COPY. The
    records are those the ORM writes: search text, grams (FTS rows on SQLite), name key, events, counts."""
    from kith.core.normalize import grams_of, normalize_company
    from kith.imports import service
    from kith.search.index import names_for, values_for

    monkeypatch.setattr(service, "PARALLEL_FROM", 10)
    taken: list[int] = []
    take = service._SearchAhead.take

    def spy(self, rows):
        out = take(self, rows)
        taken.append(len(out))
        return out

    monkeypatch.setattr(service._SearchAhead, "take", spy)
    monkeypatch.setattr(service, "CHUNK", 7)  # several chunks, so the helper runs ahead of the writes
    rows = [["客户名称", "电话", "邮箱", "城市"]]
    for i in range(45):
        rows.append([f"{'重庆' if i % 3 else 'Acme'}渝中第{i}号火锅餐饮有限公司", f"023-6{i:07d}", f"Boss{i}@HuoGuo.cn", "重庆"])
    rows += [["", "abc", "x@", None], ["重庆渝中第4号火锅餐饮有限公司", "023-60000004", None, "重庆"]]
    b = upload(api, make_xlsx(rows), "ahead.xlsx").json()
    r = api.post(f"/imports/{b['id']}/run", headers={"Idempotency-Key": "ahead-1"})
    assert r.status_code == 202, r.text
    done = api.get(f"/imports/{b['id']}").json()
    assert done["status"] == "done" and done["counts"]["created"] == 45 and done["counts"]["rejected"] == 1
    if (os.cpu_count() or 1) > 1:
        assert sum(taken) == 45 and len(taken) == 7
    from kith.customers.models import Customer

    made = db.scalars(select(Customer).where(Customer.name.like("%渝中第%号火锅%"))).all()
    assert len(made) == 45
    sqlite = db.get_bind().dialect.name == "sqlite"
    for c in made:
        values = values_for(c)
        assert c.search_text == " ".join(values) and c.name_key == normalize_company(c.name)
        assert c.search_names == " ".join(names_for(c))
        if sqlite:
            fts = db.execute(text("SELECT grams FROM customers_fts WHERE rowid = :id"), {"id": c.id}).scalar()
            assert fts == " ".join(grams_of(values))
        else:
            assert c.search_grams == grams_of(values) and c.custom == {} and c.version == 1
    assert api.get("/customers", params={"q": "chongqing"}).json()["items"]
    assert api.get("/customers", params={"q": "渝中第13号"}).json()["items"][0]["name"] == "重庆渝中第13号火锅餐饮有限公司"
    events = db.execute(text("SELECT count(*) FROM events WHERE type = 'customer.created' AND entity_id IN "
                             f"({','.join(str(c.id) for c in made)})")).scalar()
    assert events == 45
