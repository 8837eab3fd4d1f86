"""Administrator settings screens: users, roles (permission matrix), departments, custom fields, tags, pipelines."""
from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from .conftest import axe, login, shot


def _unique(prefix: str) -> str:
    return f"{prefix}{int(time.time() * 1000) % 10_000_000}"


def test_admin_creates_user_and_sees_it(page: Any, server: Any) -> None:
    login(page, "admin")
    page.get_by_role("menuitem", name="系统设置").click()
    page.wait_for_url("**/settings/users")
    table = page.locator("[data-testid=users-table]")
    expect(table.locator(".el-table__row").first).to_be_visible()

    username = _unique("e2e_user_")
    page.locator("[data-testid=user-create]").click()
    page.locator("#user-username").fill(username)
    page.locator("#user-display-name").fill("测试用户")
    page.locator("#user-password").fill("Str0ng-pass-2026!")
    page.locator("[data-testid=user-save]").click()
    expect(page.locator("#user-username")).to_be_hidden()
    page.get_by_placeholder("搜索用户名或姓名").fill(username)
    expect(table).to_contain_text(username)
    status, body = server.api("GET", "/api/v1/users?limit=200", "admin")
    assert status == 200 and any(u["username"] == username for u in body["items"])
    assert axe(page, "settings users") == []


def test_admin_edits_role_permission_matrix(page: Any, server: Any) -> None:
    code = _unique("e2e_role_")
    status, role = server.api("POST", "/api/v1/roles", "admin", {"code": code, "name": "测试角色", "permissions": {"customer": ["read"]}})
    assert status in (200, 201), role
    login(page, "admin")
    page.goto(f"/settings/roles/{role['id']}")
    matrix = page.locator("[data-testid=permission-matrix]")
    expect(matrix).to_be_visible(timeout=20_000)  # the lazy settings chunk is slow on a busy machine
    page.locator("[data-testid=perm-customer-update]").click()
    page.locator("[data-testid=perm-contract-read]").click()
    page.locator("[data-testid=role-save]").click()
    expect(page.locator(".el-message--success")).to_be_visible()
    status, saved = server.api("GET", f"/api/v1/roles/{role['id']}", "admin")
    assert status == 200
    assert saved["permissions"] == {"customer": ["read", "update"], "contract": ["read"]}
    status, roles = server.api("GET", "/api/v1/roles?limit=200", "admin")
    rep = next(r for r in roles["items"] if r["code"] == "sales_rep")
    page.goto(f"/settings/roles/{rep['id']}")
    # The matrix renders before the role arrives: wait for the role (slow on a busy machine).
    expect(page.locator(".role-title")).to_contain_text("sales_rep", timeout=20_000)
    expect(page.locator("[data-testid=perm-customer-read] input")).to_be_checked()
    shot(page, "settings-roles-desktop")
    assert axe(page, "role editor") == []


def test_department_in_use_cannot_be_deleted(page: Any, server: Any) -> None:
    status, body = server.api("GET", "/api/v1/departments?limit=200", "admin")
    assert status == 200 and body["items"]
    login(page, "admin")
    page.goto("/settings/departments")
    expect(page.locator("[data-testid=settings-departments] .el-table__row").first).to_be_visible()
    page.locator("[data-testid=settings-departments] .el-table__row").first.get_by_role("button", name="删除").click()
    page.locator(".el-message-box").get_by_role("button", name="确定").click()
    expect(page.locator(".el-message--error")).to_be_visible()


def test_settings_hidden_for_sales_rep(page: Any) -> None:
    login(page, "rep_north")
    expect(page.get_by_role("menuitem", name="客户")).to_be_visible()
    expect(page.get_by_role("menuitem", name="系统设置")).to_have_count(0)
    page.goto("/settings/users")
    page.wait_for_url(lambda url: "/settings" not in url)


def test_admin_edits_user_custom_field_tag_and_pipeline(page: Any, server: Any) -> None:
    login(page, "admin")
    # Edit a user (PATCH with version) and set a password.
    page.goto("/settings/users")
    row = page.locator("[data-testid=users-table] .el-table__row", has_text="support")
    row.get_by_role("button", name="编辑").click()
    page.locator("#user-display-name").fill("吴海涛支持组")
    page.locator("[data-testid=user-save]").click()
    expect(page.locator("#user-display-name")).to_be_hidden()
    status, body = server.api("GET", "/api/v1/users?limit=200", "admin")
    assert any(u["display_name"] == "吴海涛支持组" for u in body["items"]), [u["display_name"] for u in body["items"]]
    expect(page.locator("[data-testid=users-table]")).to_contain_text("吴海涛支持组")
    row.get_by_role("button", name="设置密码").click()
    page.locator(".el-dialog input[type=password]").fill("Another-pass-2026!")
    page.locator(".el-dialog").get_by_role("button", name="保存").click()
    expect(page.locator(".el-message--success").last).to_be_visible()

    # Custom field: a select field on customers; the missing options come back as a field error.
    name = _unique("cf_e2e_")
    page.goto("/settings/custom-fields")
    page.get_by_role("button", name="新建字段").click()
    dialog = page.locator(".el-dialog")
    dialog.get_by_label("字段标识").fill(name)
    dialog.get_by_label("显示名（中文）").fill("测试字段")
    dialog.get_by_role("button", name="保存").click()
    expect(page.locator("[data-testid=settings-custom-fields]")).to_contain_text("测试字段")
    status, body = server.api("GET", "/api/v1/custom-fields?limit=200", "admin")
    assert any(f["name"] == name for f in body["items"])

    # Tag.
    tag = _unique("标签")
    page.goto("/settings/tags")
    page.get_by_role("button", name="新建标签").click()
    page.locator(".el-dialog").get_by_label("名称").fill(tag)
    page.locator(".el-dialog").get_by_role("button", name="保存").click()
    expect(page.locator("[data-testid=settings-tags]")).to_contain_text(tag)

    # Pipeline: rename the first stage (PATCH stages with ids and version).
    page.goto("/settings/pipelines")
    page.locator(".pipeline-card").first.get_by_role("button", name="编辑").click()
    first = page.locator(".el-dialog .stages tbody tr").first.locator("input").first
    old = first.input_value()
    first.fill(old + "✓")
    page.locator(".el-dialog").get_by_role("button", name="保存").click()
    expect(page.locator(".pipeline-card").first).to_contain_text(old + "✓")


def test_settings_usable_on_phone(phone_page: Any) -> None:
    login(phone_page, "admin")
    for path, marker in (("/settings/users", "[data-testid=users-table]"), ("/settings/roles", "[data-testid=settings-roles]")):
        phone_page.goto(path)
        expect(phone_page.locator(marker)).to_be_visible()
        # Wide tables scroll inside their box; the page itself does not scroll sideways.
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    phone_page.goto("/settings/roles/1")
    expect(phone_page.locator("[data-testid=permission-matrix]")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    phone_page.screenshot(path="/tmp/settings-role-phone.png")
