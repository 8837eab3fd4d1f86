"""End-to-end flows of the web app (issue 4) in Debian's Chromium against a real Kith server."""
from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from .conftest import PHONE, axe, login, shot


def _unique(prefix: str) -> str:
    return f"{prefix}{int(time.time() * 1000) % 10_000_000}"


def _create_customer_with_contact(page: Any, name: str, contact: str, mobile: str) -> None:
    page.goto("/customers")
    page.get_by_role("button", name="新建客户").click()
    page.locator("#customer-name").fill(name)
    page.locator("#customer-phone").fill(f"010-{int(time.time() * 1000) % 10_000_000 + 80_000_000}")
    # the create request itself, so a failure says whether it was sent and what it answered
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/api/v1/customers") and r.request.method == "POST") as created:
        page.locator("[data-test=save]").click()
    assert created.value.status == 201, created.value.text()
    page.wait_for_url(re.compile(r"/customers/\d+"))
    expect(page.locator("#customer-title")).to_have_text(name)
    # Contacts tab → new contact.
    page.get_by_role("tab", name="联系人").click()
    page.locator("[data-test=new-contact]").click()
    page.locator("#contact-name").fill(contact)
    page.locator("#contact-title").fill("采购经理")
    page.locator("#contact-mobile").fill(mobile)
    page.locator("[data-test=contact-save]").click()
    expect(page.locator("#pane-contacts")).to_contain_text(contact)


def _add_followup(page: Any, text: str) -> None:
    page.get_by_role("tab", name="客户动态").click()
    page.locator("#followup-content").fill(text)
    page.locator(".followup-form button[type=submit]").click()
    expect(page.locator("[data-test=timeline-event]").first).to_contain_text(text)


def test_login_page_accessibility_and_screenshots(page: Any, browser: Any, server: Any) -> None:
    page.goto("/login")
    expect(page.locator("#login-username")).to_be_visible()
    shot(page, "login-desktop")
    assert axe(page, "login") == []
    # Wrong password: a localised error, no navigation.
    page.locator("#login-username").fill("rep_north")
    page.locator("#login-password").fill("wrong-password")
    page.locator("[data-test=submit]").click()
    expect(page.locator("[data-test=login-error]")).to_be_visible()
    assert "/login" in page.url
    phone = browser.new_context(viewport=PHONE, base_url=server.base, locale="zh-CN").new_page()
    phone.goto("/login")
    expect(phone.locator("#login-username")).to_be_visible()
    shot(phone, "login-phone")
    phone.context.close()


def test_rep_creates_customer_contact_and_followup(page: Any, server: Any) -> None:
    login(page, "rep_north")
    page.wait_for_load_state("networkidle")
    shot(page, "home-desktop")  # the landing page: my tasks, customers to follow up, my pipeline
    page.goto("/customers")
    expect(page.locator("[data-test=table] .el-table__row").first).to_be_visible()
    shot(page, "customers-desktop")
    assert axe(page, "customer list") == []

    name = _unique("测试客户星河科技")
    _create_customer_with_contact(page, name, "王小明", "13812345678")
    status, body = server.api("GET", f"/api/v1/contacts?q=王小明&limit=50", "rep_north")
    assert status == 200 and any(c["name"] == "王小明" for c in body["items"])

    text = "电话沟通：客户确认下周二上门演示"
    _add_followup(page, text)
    # It is the newest event: the top of the timeline.
    first = page.locator("[data-test=timeline-event]").first
    expect(first).to_contain_text(text)
    shot(page, "customer-detail-desktop")
    # Serious ones too: the follow-up button under the pointer once failed colour contrast (ADR 0009).
    assert axe(page, "customer detail", fail_on=("serious", "critical")) == []


def test_board_drag_to_next_stage_asks_next_action(page: Any, server: Any) -> None:
    login(page, "rep_north")
    page.goto("/board")
    columns = page.locator("[data-test=stage-column]")
    expect(columns.first.locator("[data-test=opp-card]").first).to_be_visible()
    shot(page, "board-desktop")
    assert axe(page, "board") == []

    # The first open stage that has a card, and the stage after it.
    status, pipes = server.api("GET", "/api/v1/pipelines", "rep_north")
    pipeline = next((p for p in pipes["items"] if p.get("is_default")), pipes["items"][0])
    stages = sorted(pipeline["stages"], key=lambda s: s["position"])
    src_index = next(
        i for i, s in enumerate(stages[:-1])
        if s["kind"] == "open" and stages[i + 1]["kind"] == "open" and columns.nth(i).locator("[data-test=opp-card]").count()
    )
    target = stages[src_index + 1]
    card = columns.nth(src_index).locator("[data-test=opp-card]").first
    opp_name = card.get_attribute("aria-label")
    opp_id = card.get_attribute("data-id")  # names are not unique (a customer may have two deals of one name)
    # Drop on the column header: hovering the middle of a long column would scroll the board mid-drag.
    card.drag_to(columns.nth(src_index + 1).locator(".column-head"))

    dialog = page.get_by_role("dialog", name=re.compile("移动到"))
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(target["name"])
    action = "发送正式报价单并约技术交流"
    page.locator("#move-next-action").fill(action)
    page.locator("#move-next-due").fill("2030-01-15")
    page.locator("#move-next-due").press("Enter")
    page.locator("[data-test=confirm-move]").click()
    expect(dialog).to_be_hidden()
    moved = columns.nth(src_index + 1).locator(f"[data-test=opp-card][data-id='{opp_id}']")
    expect(moved).to_be_visible()
    expect(moved).to_contain_text(action)

    status, opp = server.api("GET", f"/api/v1/opportunities/{opp_id}", "rep_north")
    assert opp["name"] == opp_name
    assert opp["stage_id"] == target["id"]
    assert opp["next_action"] == action
    assert opp["next_action_due"].startswith("2030-01-1")


def _amount_strings(amount: str) -> list[str]:
    whole = amount.split(".")[0]
    with_commas = f"{int(whole):,}"
    return [amount, with_commas] if int(whole) >= 1000 else [amount]


def test_contract_amount_hidden_for_rep_readonly_for_finance(page: Any, browser: Any, server: Any) -> None:
    status, fin = server.api("GET", "/api/v1/contracts?limit=200", "finance")
    assert status == 200
    status, mine = server.api("GET", "/api/v1/contracts?limit=200", "rep_north")
    assert mine["items"], "demo data gives rep_north contracts"
    assert all("amount" not in c for c in mine["items"])
    amounts = {c["id"]: c["amount"] for c in fin["items"]}

    login(page, "rep_north")
    page.goto("/contracts")
    expect(page.locator(".el-table__row").first).to_be_visible()
    text = page.locator("main").inner_text()
    assert "金额" not in text and "已回款" not in text
    for c in mine["items"]:
        for s in _amount_strings(amounts[c["id"]]):
            assert s not in text, f"contract amount {s} leaked on the contracts list"
    shot(page, "contracts-rep-desktop")

    contract = mine["items"][0]
    page.goto(f"/customers/{contract['customer_id']}?tab=contracts")
    expect(page.locator("#pane-contracts .el-table__row").first).to_be_visible()
    html = page.content()
    for s in _amount_strings(amounts[contract["id"]]):
        assert s not in html, f"contract amount {s} leaked on the customer's contracts tab"
    page.goto(f"/contracts/{contract['id']}")
    expect(page.locator("#contract-title")).to_contain_text(contract["number"])
    html = page.content()
    for s in _amount_strings(amounts[contract["id"]]):
        assert s not in html, f"contract amount {s} leaked on the contract page"

    fpage = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.base, locale="zh-CN").new_page()
    login(fpage, "finance")
    fpage.goto(f"/contracts/{contract['id']}")
    amount_cell = fpage.locator("[data-field=amount]")
    expect(amount_cell).to_contain_text(_amount_strings(amounts[contract["id"]])[-1])
    expect(fpage.locator(".contract-detail")).to_contain_text("只读")
    # Read-only: nothing to edit the amount or add payments with.
    assert fpage.get_by_role("button", name="登记回款").count() == 0
    assert fpage.get_by_role("button", name="添加回款计划").count() == 0
    assert fpage.locator(".contract-detail input#pay-amount").count() == 0
    shot(fpage, "contract-finance-desktop")
    fpage.context.close()


def test_global_search_by_pinyin_initials(page: Any) -> None:
    login(page, "rep_north")
    page.keyboard.press("Control+K")
    box = page.locator("input.gs-input")
    expect(box).to_be_focused()
    box.fill("bjhx")
    hit = page.get_by_role("option").filter(has_text="北京华信科技有限公司")
    expect(hit.first).to_be_visible()
    shot(page, "search-desktop")
    hit.first.click()
    expect(page.locator("#customer-title")).to_have_text("北京华信科技有限公司")


def test_switch_to_english_and_back(page: Any) -> None:
    login(page, "rep_north")
    page.goto("/customers")
    nav = page.get_by_role("navigation", name=re.compile("主导航|Main"))
    expect(page.locator(".el-menu")).to_contain_text("客户")
    page.locator(".user-button").click()
    page.get_by_role("menuitem", name="English").click()
    expect(page.locator(".el-menu")).to_contain_text("Customers")
    expect(page.locator("#customers-title")).to_contain_text("Customers")
    assert page.evaluate("document.documentElement.lang") == "en"
    shot(page, "customers-en-desktop")
    page.locator(".user-button").click()
    page.get_by_role("menuitem", name="中文").click()
    expect(page.locator("#customers-title")).to_contain_text("客户")
    assert nav.count() >= 0


def test_phone_customer_flow(phone_page: Any, server: Any) -> None:
    page = phone_page
    login(page, "rep_north")
    page.goto("/customers")
    expect(page.locator("[data-test=customer-card]").first).to_be_visible()
    shot(page, "customers-phone")
    # No horizontal scrolling of the page at 375 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    name = _unique("手机端测试客户")
    _create_customer_with_contact(page, name, "赵敏", "13987654321")
    text = "微信沟通：发了产品资料"
    _add_followup(page, text)
    page.evaluate("document.querySelector('.app-main').scrollTo(0, 0)")
    shot(page, "customer-detail-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.goto("/board")
    expect(page.locator("[data-test=opp-card]").first).to_be_visible()
    shot(page, "board-phone")
    # The menu drawer opens from the header.
    page.get_by_role("button", name="打开菜单").click()
    expect(page.locator(".app-drawer .el-menu")).to_be_visible()
    shot(page, "menu-phone")


def test_request_access_and_manager_approves(page: Any, browser: Any, server: Any) -> None:
    status, east = server.api("GET", "/api/v1/customers?limit=1&sort=-id", "rep_east")
    target = east["items"][0]
    assert server.api("GET", f"/api/v1/customers/{target['id']}", "rep_north")[0] == 404
    login(page, "rep_north")
    page.goto(f"/customers/{target['id']}")
    page.locator("[data-test=request-access]").click()
    page.locator("#access-reason").fill("联合投标，需要查看客户联系人")
    page.locator("[data-test=access-submit]").click()
    page.goto("/approvals")
    page.get_by_role("radio", name="我发起的").click(force=True)
    expect(page.locator("[data-test=approval]").first).to_contain_text("联合投标")

    mpage = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.base, locale="zh-CN").new_page()
    login(mpage, "manager_east")
    mpage.goto("/approvals")
    item = mpage.locator("[data-test=approval]").filter(has_text="联合投标").first
    expect(item).to_be_visible()
    shot(mpage, "approvals-desktop")
    item.get_by_role("button", name="同意").click()
    expect(mpage.locator("[data-test=approval]").filter(has_text="联合投标")).to_have_count(0)
    mpage.context.close()
    assert server.api("GET", f"/api/v1/customers/{target['id']}", "rep_north")[0] == 200


def test_opportunity_detail_stage_bar_and_quote_line(page: Any, server: Any) -> None:
    status, found = server.api("GET", "/api/v1/opportunities?limit=50", "rep_north")
    opp = next(o for o in found["items"] if o["status"] == "open")
    login(page, "rep_north")
    page.goto("/opportunities")
    expect(page.locator(".el-table__row").first).to_be_visible()
    page.goto(f"/opportunities/{opp['id']}")
    expect(page.locator("#opp-title")).to_have_text(opp["name"])
    expect(page.locator("[data-test=stage-bar] [aria-current=step]")).to_contain_text(opp["stage"]["name"])
    page.get_by_placeholder("产品/描述").fill("CRM 标准版 年费")
    page.get_by_placeholder("数量").fill("3")
    page.get_by_placeholder("单价").fill("1000")
    page.get_by_placeholder("折扣 %").fill("10")
    page.get_by_role("button", name="添加报价行").click()
    row = page.locator(".el-table__row").filter(has_text="CRM 标准版 年费")
    expect(row).to_contain_text("2,700.00")  # 3 × 1000 × 90 %
    shot(page, "opportunity-detail-desktop")
    status, lines = server.api("GET", f"/api/v1/opportunities/{opp['id']}/quote-lines", "rep_north")
    assert any(line.get("description") == "CRM 标准版 年费" for line in lines["items"])
    page.goto("/contacts")
    expect(page.locator(".el-table__row").first).to_be_visible()
    shot(page, "contacts-desktop")


def test_opportunity_edit_stale_warning_delete_and_undo(page: Any, server: Any) -> None:
    status, found = server.api("GET", "/api/v1/opportunities?limit=50&sort=-id", "rep_north")
    opp = next(o for o in found["items"] if o["status"] == "open")
    login(page, "rep_north")
    page.goto(f"/opportunities/{opp['id']}")
    expect(page.locator("#opp-title")).to_have_text(opp["name"])

    # Edit: the name is required (marked, refused empty), the new next action is saved.
    page.locator("[data-test=edit]").click()
    expect(page.locator("[data-test=field-name].is-required")).to_be_visible()
    page.locator("#opportunity-edit-next_action").fill("周五前发送正式报价")
    page.locator(".record-edit-dialog [data-test=save]").click()
    expect(page.locator(".record-edit-dialog")).to_be_hidden()
    status, fresh = server.api("GET", f"/api/v1/opportunities/{opp['id']}", "rep_north")
    assert fresh["next_action"] == "周五前发送正式报价"
    expect(page.locator("[data-field=next_action]")).to_have_text("周五前发送正式报价")

    # Someone else saves in between: the stale edit is refused and a reload is offered.
    page.locator("[data-test=edit]").click()
    status, _ = server.api("PATCH", f"/api/v1/opportunities/{opp['id']}", "rep_north",
                           {"next_action": "电话确认预算", "version": fresh["version"]})
    assert status == 200
    page.locator("#opportunity-edit-next_action").fill("我的修改")
    page.locator(".record-edit-dialog [data-test=save]").click()
    box = page.locator(".el-message-box")
    expect(box).to_contain_text("其他人已修改")
    box.get_by_role("button", name="重新加载").click()
    expect(page.locator("[data-field=next_action]")).to_have_text("电话确认预算")

    # Delete after confirmation (to the recycle bin), then undo restores it.
    page.locator("[data-test=delete]").click()
    page.locator(".el-message-box").get_by_role("button", name="删除").click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/opportunities"))
    status, gone = server.api("GET", f"/api/v1/opportunities?limit=200&sort=-id", "rep_north")
    assert all(o["id"] != opp["id"] for o in gone["items"])  # in the recycle bin, off the list
    page.locator("[data-test=undo-delete]").click()
    page.wait_for_url(lambda url: url.endswith(f"/opportunities/{opp['id']}"))
    expect(page.locator("#opp-title")).to_have_text(opp["name"])
    status, back = server.api("GET", f"/api/v1/opportunities/{opp['id']}", "rep_north")
    assert status == 200 and not back.get("deleted_at")
