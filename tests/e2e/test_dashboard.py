"""Browser tests: the dashboard (manager charts, drill-down, phone width, no amounts for sales reps) and the public pool."""
from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import login, shot


def _charts_ready(page: Any, n: int) -> None:
    """Every report card has drawn its canvas and finished loading."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-report] [data-test=report-chart] canvas').length >= n"
        " && !document.querySelector('[data-report] .el-loading-mask')",
        arg=n,
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # chart animations


def test_manager_dashboard_charts_and_drill_down(page: Any, server: Any) -> None:
    status, dash = server.api("GET", "/api/v1/dashboards/me", user="manager_north")
    assert status == 200, dash
    charts = [c["report"] for c in dash["charts"]]
    assert "funnel" in charts and "forecast" in charts
    login(page, "manager_north")
    page.goto("/dashboard")
    _charts_ready(page, len(charts))
    assert page.locator("[data-report]").count() == len(charts)
    # the manager sees amounts (e.g. the won amount in the ranking)
    assert page.locator("[data-report=ranking] [data-kpi=won_amount]").count() == 1
    shot(page, "dashboard-manager")

    # a click on the first funnel stage opens the records of that stage
    status, funnel = server.api("GET", "/api/v1/reports/funnel?period=month", user="manager_north")
    assert status == 200
    first = next(s for s in funnel["data"]["stages"] if s["kind"] != "lost")
    status, recs = server.api("GET", f"/api/v1/reports/funnel/records?period=month&bucket={first['stage_id']}", user="manager_north")
    assert status == 200
    card = page.locator("[data-report=funnel]")
    card.scroll_into_view_if_needed()
    canvas = card.locator("[data-test=report-chart] canvas").first
    box = canvas.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 20)
    drawer = page.locator(".drill-drawer")
    drawer.wait_for()
    assert first["name"] in drawer.locator(".el-drawer__title, header").first.inner_text()
    total = drawer.locator("[data-test=drill-total]")
    total.wait_for()
    assert re.search(rf"\b{recs['total']}\b", total.inner_text()), total.inner_text()
    if recs["items"]:
        link = drawer.locator("[data-test=drill-table] a").first
        assert link.inner_text().strip() == recs["items"][0]["name"]
        assert link.get_attribute("href") == f"/opportunities/{recs['items'][0]['id']}"
    shot(page, "dashboard-drill-down")
    page.keyboard.press("Escape")

    # a KPI opens its records too (the won deals of the period)
    page.locator("[data-report=win_rate] [data-kpi=won] button").click()
    drawer.locator("[data-test=drill-total]").wait_for()


def test_dashboard_phone_width(phone_page: Any, server: Any) -> None:
    page = phone_page
    login(page, "manager_north")
    page.goto("/dashboard")
    status, dash = server.api("GET", "/api/v1/dashboards/me", user="manager_north")
    _charts_ready(page, len(dash["charts"]))
    # charts stack in one column and nothing scrolls sideways
    widths = page.evaluate("[...document.querySelectorAll('[data-report]')].map(e => e.getBoundingClientRect().width)")
    assert widths and all(w <= 375 for w in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    shot(page, "dashboard-phone")


def test_sales_rep_dashboard_has_no_amounts(page: Any, server: Any) -> None:
    status, dash = server.api("GET", "/api/v1/dashboards/me", user="rep_north")
    assert status == 200
    n = len(dash["charts"])
    assert n > 0
    for c in dash["charts"]:
        s, payload = server.api("GET", f"/api/v1/reports/{c['report']}?period=month", user="rep_north")
        assert s == 200 and "amount" not in str(payload["data"]), c
    login(page, "rep_north")
    page.goto("/dashboard")
    _charts_ready(page, n)
    # every chart view too (the switches show the other dimensions)
    text = page.locator("main").inner_text()
    for word in ("金额", "¥", "￥", "Amount"):
        assert word not in text, word
    assert page.locator("[data-kpi*=amount]").count() == 0
    shot(page, "dashboard-sales-rep")


def test_pool_claim(page: Any, server: Any) -> None:
    # their manager releases one of zhaolei's customers (reps may not release); rep_north claims it from the pool
    status, mine = server.api("GET", "/api/v1/customers?limit=1", user="zhaolei")
    assert status == 200 and mine["items"], mine
    customer = mine["items"][0]
    status, body = server.api("POST", f"/api/v1/customers/{customer['id']}/release", user="manager_north", body={"reason": "客户暂无需求"})
    assert status == 200, body

    login(page, "rep_north")
    page.goto("/pool")
    row = page.locator("[data-test=pool-table] .el-table__row", has_text=customer["name"])
    row.wait_for()
    # the phone number is masked until claimed
    status, pool = server.api("GET", "/api/v1/pool?limit=200", user="rep_north")
    item = next(i for i in pool["items"] if i["id"] == customer["id"])
    if item.get("phone"):
        assert "*" in item["phone"] and item["phone"] in row.inner_text()
    shot(page, "pool")
    row.locator("[data-test=pool-claim]").click()
    page.locator(".el-message--success").wait_for()
    row.wait_for(state="detached")
    status, after = server.api("GET", f"/api/v1/customers/{customer['id']}", user="rep_north")
    assert status == 200, after


def test_pool_claim_cap_is_explained(page: Any, server: Any) -> None:
    status, mine = server.api("GET", "/api/v1/customers?limit=1", user="sunli")
    customer = mine["items"][0]
    status, body = server.api("POST", f"/api/v1/customers/{customer['id']}/release", user="manager_north", body={"reason": "e2e"})
    assert status == 200, body
    # the pool rule that now covers the customer gets a claim cap rep_north is already over
    status, pool = server.api("GET", "/api/v1/pool?limit=200", user="admin")
    rule_id = next(i for i in pool["items"] if i["id"] == customer["id"])["pool_rule_id"]
    created = None
    if rule_id is None:
        status, created = server.api("POST", "/api/v1/pool-rules", user="admin", body={"name": "e2e 上限", "claim_cap": 1})
        assert status == 201, created
        rule_id = created["id"]
        status, body = server.api("POST", f"/api/v1/pool/{customer['id']}/assign", user="admin", body={"owner_id": mine["items"][0]["owner_id"]})
        status, body = server.api("POST", f"/api/v1/customers/{customer['id']}/release", user="manager_north", body={"reason": "e2e"})
        assert status == 200, body
        old_cap = None
    else:
        status, rule = server.api("GET", f"/api/v1/pool-rules/{rule_id}", user="admin")
        old_cap = rule["claim_cap"]
        status, body = server.api("PATCH", f"/api/v1/pool-rules/{rule_id}", user="admin", body={"claim_cap": 1})
        assert status == 200, body
    try:
        login(page, "rep_north")
        page.goto("/pool")
        row = page.locator("[data-test=pool-table] .el-table__row", has_text=customer["name"])
        row.locator("[data-test=pool-claim]").click()
        box = page.locator(".el-message-box")
        box.wait_for()
        assert "上限" in box.inner_text()
        # the refused claim is over: its button no longer spins behind the message
        assert "is-loading" not in (row.locator("[data-test=pool-claim]").get_attribute("class") or "")
        # the click scrolled the table to its (fixed) button column: show the customer's name in the picture again
        page.evaluate("document.querySelectorAll('.el-table .el-scrollbar__wrap').forEach(e => { e.scrollLeft = 0 })")
        shot(page, "pool-claim-cap")
    finally:
        if created:
            server.api("DELETE", f"/api/v1/pool-rules/{rule_id}", user="admin")
        else:
            server.api("PATCH", f"/api/v1/pool-rules/{rule_id}", user="admin", body={"claim_cap": old_cap})


def test_pinned_chart_on_home(page: Any, server: Any) -> None:
    login(page, "manager_north")
    page.goto("/dashboard")
    card = page.locator("[data-report=forecast]")
    card.locator("[data-test=report-chart] canvas").wait_for(timeout=30_000)
    pin = card.locator("[data-test=report-pin]")
    if pin.get_attribute("aria-pressed") != "true":
        pin.click()
        page.wait_for_function("() => document.querySelector('[data-report=forecast] [data-test=report-pin]').getAttribute('aria-pressed') === 'true'")
    page.goto("/")
    home_card = page.locator("[data-test=home-pins] [data-report=forecast]")
    home_card.locator("[data-test=report-chart] canvas").wait_for(timeout=30_000)
    page.locator("[data-test=home-reminders]").wait_for()
    page.wait_for_timeout(600)
    shot(page, "home-pinned-chart")
    home_card.locator("[data-test=report-pin]").click()  # unpin from the home page
    home_card.wait_for(state="detached")


def test_handover_preview_and_channel_url_error(page: Any, server: Any) -> None:
    login(page, "admin")
    page.goto("/settings/handover")
    page.locator("[data-test=handover-from]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="赵磊").click()
    page.wait_for_timeout(500)  # the first list closes
    page.locator("[data-test=handover-to]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="李明").click()
    page.locator("[data-test=handover-preview]").click()
    result = page.locator("[data-test=handover-result]")
    result.wait_for()
    assert "客户" in result.inner_text()
    shot(page, "settings-handover")

    page.goto("/settings/notification-channels")
    page.locator("[data-test=channel-create]").click()
    dialog = page.locator(".el-dialog:visible")
    dialog.locator("input").first.fill("内网地址")
    dialog.locator("[data-test=channel-url]").fill("http://127.0.0.1:8000/hook")
    page.locator("[data-testid=channel-save]").click()
    err = dialog.locator(".el-form-item__error")
    err.wait_for()
    assert err.inner_text().strip()
    shot(page, "settings-channel-url-refused")
