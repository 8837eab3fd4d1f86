"""Browser tests (issue 6): the import wizard (upload a messy csv, auto-mapping, cleaned values and a rejected row in the
preview, run, counts, rollback) and the duplicate finder (merge a pair side by side, undo it).

The wizard polls a background job; no `kith worker` runs next to the e2e server, so this module starts its own server
with KITH_JOBS_EAGER=true (the job runs right after the request commits, as in the API tests).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import DIST_INDEX, Server, _free_port, _kith_bin, login, shot


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    if not DIST_INDEX.exists():
        pytest.skip("web UI not built")
    tmp = Path(tempfile.mkdtemp(prefix="kith-e2e-import-"))
    port = _free_port()
    env = {**os.environ, "KITH_DATABASE_URL": f"sqlite:///{tmp / 'kith.db'}", "KITH_DEMO_MODE": "true",
           "KITH_JOBS_EAGER": "true", "KITH_DATA_DIR": str(tmp / "data"), "PYTHONUNBUFFERED": "1"}
    kith = _kith_bin()
    subprocess.run([kith, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([kith, "demo", "--customers", "30"], env=env, check=True, capture_output=True, timeout=300)
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([kith, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kith serve exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/api/v1/readyz", timeout=2) as res:
                    if res.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("kith serve did not become ready within 60 s")
            time.sleep(0.2)
        yield Server(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _confirm(page: Any) -> None:
    box = page.locator(".el-message-box")
    box.wait_for()
    box.locator(".el-button--primary").click()
    box.wait_for(state="hidden")


def _find(server: Server, name: str) -> list[dict[str, Any]]:
    status, body = server.api("GET", f"/api/v1/customers?q={name}&limit=20", user="admin")
    assert status == 200, body
    return [c for c in body["items"] if c["name"] == name]


def test_import_wizard_preview_run_rollback(page: Any, server: Server) -> None:
    tag = uuid.uuid4().hex[:6]
    status, dup = server.api("POST", "/api/v1/customers", user="admin",
                             body={"name": f"导入重复{tag}有限公司", "phone": "13877778888", "email": f"dup{tag}@example.com"})
    assert status == 201, dup
    good = f"导入测试科技{tag}有限公司"
    csv = (
        "客户名称,电话,邮箱,省份,城市,备注\n"
        f"{good},13812341234,info@gmial.com,北京市,北京,首行\n"
        ",13900001111,x@example.com,上海,上海,没有名称\n"
        f"{dup['name']},138 7777 8888,dup{tag}@example.com,,,重复\n"
    )
    data = b"\xef\xbb\xbf" + csv.encode("utf-8")

    login(page, "admin")
    page.goto("/customers")
    page.locator("[data-test=to-imports]").click()
    page.wait_for_url(re.compile(r"/imports"))
    page.locator("[data-test=step-upload]").wait_for()
    assert "50 MB" in page.locator("[data-test=step-upload]").inner_text()
    page.locator("[data-test=import-upload] input[type=file]").set_input_files(
        {"name": f"客户-{tag}.csv", "mimeType": "text/csv", "buffer": data})
    page.locator("[data-test=upload-next]").click()

    # step 2: the columns were mapped automatically
    page.locator("[data-test=step-mapping]").wait_for()
    rows = page.locator("[data-test=mapping-row]")
    assert rows.count() == 6
    assert rows.nth(0).locator("[data-test=mapping-header]").inner_text() == "客户名称"
    assert "客户名称" in rows.nth(0).locator("[data-test=mapping-select]").inner_text()
    assert "电话" in rows.nth(1).locator("[data-test=mapping-select]").inner_text()
    assert "100%" in rows.nth(0).locator("[data-test=mapping-confidence]").inner_text()
    shot(page, "import-mapping")
    page.locator("[data-test=mapping-next]").click()

    # step 3: the preview shows the cleaned mobile, the e-mail hint, the rejected row and the duplicate
    page.locator("[data-test=step-preview]").wait_for()
    first = page.locator("[data-test=preview-row][data-row='2']")
    first.wait_for()
    phone = first.locator("[data-field=phone] [data-test=cell-changed]")
    assert phone.locator("s").inner_text() == "13812341234"
    assert phone.locator("strong").inner_text() == "138-1234-1234"
    assert first.locator("[data-field=province] strong").inner_text() == "北京"
    assert "gmail.com" in first.locator("[data-test=cell-hint]").inner_text()
    rejected = page.locator("[data-test=preview-row][data-row='3']")
    assert rejected.get_attribute("data-status") == "rejected"
    assert "客户名称" in rejected.locator("[data-test=row-error]").first.inner_text()
    dupe = page.locator("[data-test=preview-row][data-row='4']")
    assert f"#{dup['id']}" in dupe.locator("[data-test=candidate]").first.inner_text()
    assert "%" in dupe.locator("[data-test=candidate]").first.inner_text()
    assert "3" in page.locator("[data-test=preview-counts]").inner_text()
    shot(page, "import-preview")

    # filter: only the rejected row
    page.locator("[data-test=preview-filter]").get_by_text("拒绝").click()
    page.wait_for_function("document.querySelectorAll('[data-test=preview-row]').length === 1")
    assert page.locator("[data-test=preview-row]").first.get_attribute("data-row") == "3"
    page.locator("[data-test=preview-filter]").get_by_text("全部").click()
    page.wait_for_function("document.querySelectorAll('[data-test=preview-row]').length === 3")

    # step 4: run, the counts add up
    page.locator("[data-test=run-import]").click()
    _confirm(page)
    result = page.locator("[data-test=run-result]")
    result.wait_for(timeout=30_000)
    counts = {k: int(result.locator(f"[data-count={k}] .stat-n").inner_text())
              for k in ("created", "updated", "merged", "skipped", "rejected", "total")}
    assert counts == {"created": 1, "updated": 0, "merged": 0, "skipped": 1, "rejected": 1, "total": 3}, counts
    assert len(_find(server, good)) == 1
    page.locator("[data-test=download-report]").wait_for()
    shot(page, "import-result")

    # roll back: the created customer is gone
    page.locator("[data-test=rollback]").click()
    _confirm(page)
    page.locator("[data-test=rolled-back]").wait_for()
    assert page.locator("[data-test=batch-status]").inner_text() == "已回滚"
    assert _find(server, good) == []

    # the batch is listed in the history
    page.get_by_role("tab", name="导入记录").click()
    history = page.locator("[data-test=import-history]")
    history.get_by_text(f"客户-{tag}.csv").wait_for()
    assert "已回滚" in history.inner_text()


def test_import_preview_phone(phone_page: Any, server: Server) -> None:
    csv = "客户名称,电话,省份\n手机预览测试公司,13812341234,北京市\n,13900001111,上海\n"
    login(phone_page, "admin")
    phone_page.goto("/imports")
    phone_page.locator("[data-test=import-upload] input[type=file]").set_input_files(
        {"name": "phone.csv", "mimeType": "text/csv", "buffer": csv.encode("gbk")})
    phone_page.locator("[data-test=upload-next]").click()
    phone_page.locator("[data-test=step-mapping]").wait_for()
    assert phone_page.locator("[data-test=mapping-row]").count() == 3
    phone_page.locator("[data-test=mapping-next]").click()
    phone_page.locator("[data-test=preview-row][data-row='2']").wait_for()
    # the preview scrolls sideways inside its box; the page itself does not
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert phone_page.locator("[data-test=preview-row][data-row='3']").get_attribute("data-status") == "rejected"
    shot(phone_page, "import-preview-phone")


def _dup_pair(server: Server, name: str) -> tuple[int, int]:
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    status, a = server.api("POST", "/api/v1/customers", user="admin", body={"name": name, "phone": phone, "city": "北京"})
    assert status == 201, a
    status, b = server.api("POST", "/api/v1/customers?force=true", user="admin",
                           body={"name": name, "phone": phone, "email": "dup@example.com"})
    assert status == 201, b
    return a["id"], b["id"]


def test_duplicate_finder_merge_and_undo(page: Any, server: Server) -> None:
    name = f"查重测试{uuid.uuid4().hex[:6]}有限公司"
    a_id, b_id = _dup_pair(server, name)
    login(page, "admin")
    page.goto("/duplicates")
    pair = page.locator(f"[data-test=dup-pair][data-pair='{a_id}-{b_id}']")
    pair.wait_for()
    assert "%" in pair.locator("[data-test=pair-score]").inner_text()
    assert "电话" in pair.inner_text()
    shot(page, "duplicates")

    pair.get_by_role("button", name="对比合并").click()
    table = page.locator("[data-test=compare-table]")
    table.wait_for()
    # the e-mail differs: keep the other record's value; the city stays the survivor's
    page.locator(f"[data-test=pick-email-b]").click()
    assert table.locator("tr[data-field=name] td.same").count() == 1
    page.locator("[data-test=do-merge]").click()
    _confirm(page)
    page.locator("[data-test=merge-done]").wait_for()
    assert pair.count() == 0
    status, merged = server.api("GET", f"/api/v1/customers/{a_id}", user="admin")
    assert status == 200 and merged["email"] == "dup@example.com" and merged["city"] == "北京", merged
    status, other = server.api("GET", f"/api/v1/customers/{b_id}", user="admin")
    assert status == 404 or other.get("deleted_at"), other
    page.locator("[data-test=merge-history]").wait_for()
    shot(page, "duplicates-merged")

    # undo: both records are back
    page.locator("[data-test=undo-last]").click()
    page.locator("[data-test=merge-done]").wait_for(state="hidden")
    status, other = server.api("GET", f"/api/v1/customers/{b_id}", user="admin")
    assert status == 200 and not other.get("deleted_at"), other
    status, restored = server.api("GET", f"/api/v1/customers/{a_id}", user="admin")
    assert restored["email"] in (None, ""), restored
    status, merges = server.api("GET", "/api/v1/merges?entity_type=customer", user="admin")
    merge = next(m for m in merges["items"] if m["survivor_id"] == a_id and m["other_id"] == b_id)
    assert merge["undone_at"], merge
    state = page.locator(f"[data-test=merge-history] [data-merge='{merge['id']}'] [data-test=merge-state]")
    state.wait_for()
    # "已由{name}撤销": the row says who undid it
    assert "撤销" in state.inner_text() and merge["undone_by_name"] in state.inner_text()
    page.locator(f"[data-test=dup-pair][data-pair='{a_id}-{b_id}']").wait_for()


def test_duplicates_phone(phone_page: Any, server: Server) -> None:
    name = f"手机查重{uuid.uuid4().hex[:6]}公司"
    a_id, b_id = _dup_pair(server, name)
    login(phone_page, "admin")
    phone_page.goto("/duplicates")
    phone_page.locator(f"[data-test=dup-pair][data-pair='{a_id}-{b_id}']").wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone_page, "duplicates-phone")
    phone_page.locator(f"[data-test=dup-pair][data-pair='{a_id}-{b_id}']").get_by_role("button", name="对比合并").click()
    phone_page.locator("[data-test=compare-table]").wait_for()
    shot(phone_page, "duplicates-compare-phone")
