"""Tasks (待办) and the schema: migrations produce exactly what the models describe, on both databases."""

from __future__ import annotations

from conftest import assert_error
from kith.core import clock


def test_migrated_schema_matches_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kith.db.migrate import include_object as _include
    from kith.db.models import Base

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": _include})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff


def test_the_live_list_indexes_exist_after_migrating(engine):
    """The partial list indexes are invisible to the schema comparison above (autogenerate skips `_live_`
    names), so this checks them by name: 0004 once dropped them all without anyone noticing (ADR 0022)."""
    import importlib

    import sqlalchemy as sa

    wanted = [*importlib.import_module("kith.db.migrations.versions.0018_live_list_indexes").NAMES, "ix_events_live_pool"]
    if engine.dialect.name == "postgresql":
        wanted.append("ix_customers_live_scope_cover")  # 0020, PostgreSQL only (INCLUDE)
    found: set[str] = set()
    inspector = sa.inspect(engine)
    for table in {"customers", "contacts", "opportunities", "contracts", "followups", "events"}:
        found |= {ix["name"] for ix in inspector.get_indexes(table)}
    assert set(wanted) <= found, sorted(set(wanted) - found)


def test_tasks_scope_done_overdue_and_timeline(api):
    c = api.customer(user="rep_north", name="待办客户")
    r = api.post("/tasks", {"title": "发送报价单", "due_at": "2026-01-01T10:00:00+08:00", "customer_id": c["id"]}, user="rep_north")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["overdue"] is True and t["done"] is False and t["owner_id"] == api.world.users["rep_north"]
    assert api.get(f"/tasks/{t['id']}", user="rep_east").status_code == 404
    assert [x["id"] for x in api.get("/tasks", params={"overdue": "true"}, user="rep_north").json()["items"]] == [t["id"]]
    done = api.patch(f"/tasks/{t['id']}", {"done": True, "version": t["version"]}, user="rep_north")
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["overdue"] is False
    assert api.get("/tasks", params={"done": "false"}, user="rep_north").json()["total"] == 0
    types = [e["type"] for e in api.get(f"/customers/{c['id']}/timeline", user="rep_north").json()["items"]]
    assert types[:2] == ["task.done", "task.created"]
    assert_error(api.post("/tasks", {"title": "给别人派活", "owner_id": api.world.users["rep_east"]}, user="rep_north"), 403)
    assigned = api.post("/tasks", {"title": "主管派的", "owner_id": api.world.users["rep_north"]}, user="manager_north")
    assert assigned.status_code == 201
    theirs = api.customer(user="rep_east")
    assert_error(api.post("/tasks", {"title": "x", "customer_id": theirs["id"]}, user="rep_north"), 422, field="customer_id")
    _ = clock


def test_calendar_feed_parses_and_is_revocable(api, client):
    from icalendar import Calendar

    c = api.customer(user="rep_north", name="日历客户")
    api.patch(f"/customers/{c['id']}", {"next_followup_at": "2026-12-03T09:00:00+08:00", "version": 1}, user="rep_north")
    api.post("/tasks", {"title": "准备合同", "due_at": "2026-12-02T15:00:00+08:00"}, user="rep_north")
    api.post("/tasks", {"title": "别人的任务", "due_at": "2026-12-02T15:00:00+08:00"}, user="rep_east")
    r = api.post("/me/calendar-token", user="rep_north")
    assert r.status_code == 201
    path = r.json()["url"].split("testserver", 1)[1]
    feed = client.get(path)  # no Authorization header: the secret URL is the credential
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(feed.content)
    events = {str(e.get("summary")): e for e in cal.walk("VEVENT")}
    assert set(events) == {"待办：准备合同", "跟进：日历客户"}
    assert events["待办：准备合同"].decoded("dtstart").isoformat() == "2026-12-02T07:00:00+00:00"
    # a new URL replaces the old one; revoking ends the feed
    second = api.post("/me/calendar-token", user="rep_north").json()["url"].split("testserver", 1)[1]
    assert client.get(path).status_code == 404
    assert client.get(second).status_code == 200
    assert api.delete("/me/calendar-token", user="rep_north").status_code == 204
    assert client.get(second).status_code == 404
