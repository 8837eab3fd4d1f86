"""Browser checks of the home page, the tasks screen and the notification bell (as sales reps)."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from playwright.sync_api import expect

from .conftest import axe, login, shot


def _me(server: Any, user: str) -> dict[str, Any]:
    status, me = server.api("GET", "/api/v1/me", user)
    assert status == 200, me
    return me


def _stage_order(server: Any, user: str) -> dict[int, int]:
    """Stage id -> rank, the way the board shows them: pipelines by position, then stage position."""
    status, body = server.api("GET", "/api/v1/pipelines?limit=200", user)
    assert status == 200, body
    ranks: dict[int, int] = {}
    pipes = sorted(body["items"], key=lambda p: (p.get("position") or 0, not p.get("is_default"), p["id"]))
    for p in pipes:
        for s in sorted(p["stages"], key=lambda s: s["position"]):
            ranks[s["id"]] = len(ranks)
    return ranks


def test_home_shows_my_tasks_stale_customers_and_pipeline_in_stage_order(page: Any, phone_page: Any, server: Any) -> None:
    me = _me(server, "rep_north")
    title = f"回访确认报价 {int(time.time() * 1000) % 100000}"
    due = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3)).isoformat()
    status, task = server.api("POST", "/api/v1/tasks", "rep_north", {"title": title, "due_at": due})
    assert status == 201, task

    login(page, "rep_north")
    page.goto("/")
    tasks = page.locator("[data-test=home-tasks]")
    expect(tasks).to_contain_text(title)

    stale = page.locator("[data-test=home-stale] li")
    expect(stale.first).to_be_visible()
    # Every customer listed is mine and was not followed up within the last 7 days.
    names = [n.strip() for n in stale.locator("a").all_inner_texts()]
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)
    for name in names[:3]:
        status, body = server.api("GET", f"/api/v1/customers?q={name}&limit=5", "rep_north")
        hit = next(c for c in body["items"] if c["name"] == name)
        assert (hit.get("owner_id") or hit["owner"]["id"]) == me["id"]
        last = hit.get("last_followup_at")
        assert last is None or dt.datetime.fromisoformat(last.replace("Z", "+00:00")) <= cutoff

    # The pipeline card lists my open opportunities' stages in the pipeline's order.
    status, opps = server.api("GET", f"/api/v1/opportunities?owner_id={me['id']}&status=open&limit=200", "rep_north")
    assert status == 200 and opps["items"], "the demo gives rep_north open opportunities"
    ranks = _stage_order(server, "rep_north")
    by_name: dict[str, int] = {}
    for o in opps["items"]:
        by_name[o["stage"]["name"]] = ranks[o["stage_id"]]
    expected = sorted(by_name, key=lambda n: by_name[n])
    stage_names = page.locator("[data-test=pipeline-stage] .stage-name")
    expect(stage_names.first).to_be_visible()
    shown = [s.strip() for s in stage_names.all_inner_texts()]
    assert shown == expected, (shown, expected)
    if len(expected) > 1:
        assert shown != sorted(shown) or expected == sorted(expected)  # stage order, not name order
    assert axe(page, "home", fail_on=("serious", "critical")) == []
    shot(page, "home-desktop")

    login(phone_page, "rep_north")
    phone_page.goto("/")
    expect(phone_page.locator("[data-test=home-tasks]")).to_contain_text(title)
    expect(phone_page.locator("[data-test=pipeline-stage]").first).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, "no sideways scrolling at 375 px"
    shot(phone_page, "home-phone")


def test_create_task_and_tick_it_done(page: Any, phone_page: Any, server: Any) -> None:
    title = f"准备演示环境 {int(time.time() * 1000) % 100000}"
    login(page, "rep_north")
    page.goto("/tasks")
    page.locator("[data-test=task-new]").click()
    page.locator("[data-test=task-title]").fill(title)
    page.locator("[data-test=task-save]").click()
    row = page.locator("[data-test=task-table] .el-table__row", has_text=title)
    expect(row).to_be_visible()
    status, body = server.api("GET", "/api/v1/tasks?done=false&limit=200", "rep_north")
    created = next(t for t in body["items"] if t["title"] == title)
    assert created["done"] is False
    shot(page, "tasks-desktop")
    assert axe(page, "tasks", fail_on=("serious", "critical")) == []

    row.locator(".el-checkbox").first.click()
    # Done tasks leave the open tab, and the API has it done.
    expect(page.locator("[data-test=task-table] .el-table__row", has_text=title)).to_have_count(0)
    status, fresh = server.api("GET", f"/api/v1/tasks/{created['id']}", "rep_north")
    assert status == 200 and fresh["done"] is True

    login(phone_page, "rep_north")
    phone_page.goto("/tasks")
    expect(phone_page.locator(".task-card").first).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, "no sideways scrolling at 375 px"
    shot(phone_page, "tasks-phone")


def test_bell_shows_unread_count_and_read_all_clears_it(page: Any, server: Any) -> None:
    # zhaolei asks for access to an east customer; the east manager approves: zhaolei is notified.
    status, east = server.api("GET", "/api/v1/customers?limit=1&sort=-id", "rep_east")
    target = east["items"][0]
    status, req = server.api("POST", "/api/v1/access-requests", "zhaolei",
                             {"customer_id": target["id"], "reason": "协同拜访，需要查看客户资料"})
    assert status == 201, req
    status, body = server.api("POST", f"/api/v1/approvals/{req['id']}/approve", "manager_east", {})
    assert status == 200, body
    status, unread = server.api("GET", "/api/v1/notifications/unread-count", "zhaolei")
    assert status == 200
    count = unread["unread"]
    assert count >= 1

    login(page, "zhaolei")
    badge = page.locator("[data-test=bell-badge] sup")
    expect(badge).to_have_text(str(count))
    page.locator("[data-test=notification-bell]").click()
    panel = page.locator(".notif-panel")
    expect(panel.locator(".notif-item.unread").first).to_be_visible()
    shot(page, "notifications-desktop")
    panel.locator("[data-test=read-all]").click()
    expect(badge).to_be_hidden()
    expect(panel.locator(".notif-item.unread")).to_have_count(0)
    status, unread = server.api("GET", "/api/v1/notifications/unread-count", "zhaolei")
    assert unread["unread"] == 0
