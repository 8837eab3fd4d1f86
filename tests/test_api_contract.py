"""Every line of the core contract in API.md, as an outside integrator would call it."""

from __future__ import annotations

from sqlalchemy import func, select

from conftest import assert_error


def test_post_returns_201_location_and_get_returns_etag_and_version(api):
    r = api.post("/customers", {"name": "上海云杉软件有限公司", "level": "A"})
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == f"/api/v1/customers/{body['id']}"
    got = api.get(f"/customers/{body['id']}")
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json()["version"] == 1
    assert got.json()["name"] == "上海云杉软件有限公司"


def test_customer_name_required_with_field_error(api):
    err = assert_error(api.post("/customers", {"level": "A"}), 422, "validation_error", "name")
    assert err["fields"][0]["code"] == "required"
    assert_error(api.post("/customers", {"name": "   "}), 422, "validation_error", "name")


def test_list_shape_limit_and_keyset_pagination(api):
    ids = [api.customer(name=f"分页客户{i:02d}")["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "sort": "name"}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/customers", params=params)
        assert r.status_code == 200
        page = r.json()
        assert set(page) == {"items", "next_cursor", "total"}
        assert page["total"] == 7
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids  # names sort like creation order here, every record exactly once
    assert_error(api.get("/customers", params={"limit": 201}), 422)
    assert_error(api.get("/customers", params={"cursor": "garbage!!"}), 400, "invalid_cursor")


def test_sort_descending_with_nulls_and_filters(api):
    a = api.customer(name="甲公司", level="A", province="北京")
    b = api.customer(name="乙公司", level="B", province="上海")
    c = api.customer(name="丙公司")
    r = api.get("/customers", params={"sort": "-level", "limit": 2})
    first = r.json()
    assert [x["id"] for x in first["items"]] == [b["id"], a["id"]]
    second = api.get("/customers", params={"sort": "-level", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [x["id"] for x in second["items"]] == [c["id"]]  # nulls last
    assert [x["id"] for x in api.get("/customers", params={"level": "A"}).json()["items"]] == [a["id"]]
    assert [x["id"] for x in api.get("/customers", params={"province": "上海"}).json()["items"]] == [b["id"]]
    assert_error(api.get("/customers", params={"nonsense": "1"}), 400, "invalid_filter")
    assert_error(api.get("/customers", params={"sort": "password_hash"}), 400, "invalid_sort")


def test_updated_after_filter(api):
    api.customer(name="旧客户")
    r = api.get("/customers", params={"updated_after": "2999-01-01T00:00:00+00:00"})
    assert r.json()["total"] == 0
    assert api.get("/customers", params={"updated_after": "2000-01-01T00:00:00+00:00"}).json()["total"] == 1
    assert_error(api.get("/customers", params={"updated_after": "yesterday"}), 400, field="updated_after")


def test_patch_with_if_match_and_stale_version_412_leaves_row_unchanged(api, db):
    from kith.customers.models import Customer

    c = api.customer(name="并发客户", level="B")
    ok = api.patch(f"/customers/{c['id']}", {"level": "A"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.headers["etag"] == '"2"'
    stale = api.patch(f"/customers/{c['id']}", {"level": "C", "name": "改名"}, headers={"If-Match": '"1"'})
    assert_error(stale, 412, "precondition_failed")
    db.expire_all()
    row = db.get(Customer, c["id"])
    assert (row.level, row.name, row.version) == ("A", "并发客户", 2)
    # the version may travel in the body instead of If-Match
    assert api.patch(f"/customers/{c['id']}", {"level": "D", "version": 2}).status_code == 200
    assert_error(api.patch(f"/customers/{c['id']}", {"level": "D", "version": 2}), 412)
    assert_error(api.patch(f"/customers/{c['id']}", {"level": "B"}), 428, "precondition_required")


def test_idempotency_key_replay_creates_nothing(api, db):
    from kith.customers.models import Customer

    body = {"name": "幂等科技有限公司", "phone": "13900001111"}
    h = {"Idempotency-Key": "abc-123"}
    first = api.post("/customers", body, headers=h)
    second = api.post("/customers", body, headers=h)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["location"] == first.headers["location"]
    assert db.scalar(select(func.count()).select_from(Customer)) == 1
    # same key, different body: refused, nothing created
    assert_error(api.post("/customers", {"name": "别的公司"}, headers=h), 422, "idempotency_conflict")
    assert db.scalar(select(func.count()).select_from(Customer)) == 1
    # keys are per user: another user's same key is a new request
    other = api.post("/customers", {"name": "另一家公司"}, user="rep_north", headers=h)
    assert other.status_code == 201


def test_delete_goes_to_recycle_bin_and_restore(api):
    c = api.customer(name="回收站客户")
    assert api.delete(f"/customers/{c['id']}").status_code == 204
    assert api.get("/customers").json()["total"] == 0
    binned = api.get("/customers", params={"deleted": "true"}).json()
    assert [x["id"] for x in binned["items"]] == [c["id"]]
    assert binned["items"][0]["deleted_at"]
    r = api.post(f"/customers/{c['id']}/restore")
    assert r.status_code == 200 and r.json()["deleted_at"] is None
    assert api.get("/customers").json()["total"] == 1
    assert_error(api.post(f"/customers/{c['id']}/restore"), 409, "not_deleted")


def test_invisible_record_is_404_like_missing_and_forbidden_action_is_403(api, db):
    from kith.customers.models import Customer

    c = api.customer(user="rep_north", name="李的客户")
    for path in (f"/customers/{c['id']}", f"/customers/{c['id']}/timeline"):
        missing = api.get(path.replace(str(c["id"]), "999999"), user="rep_east")
        hidden = api.get(path, user="rep_east")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["error"] == missing.json()["error"]
    assert_error(api.patch(f"/customers/{c['id']}", {"name": "x", "version": 1}, user="rep_east"), 404)
    assert_error(api.delete(f"/customers/{c['id']}", user="rep_east"), 404)
    # visible to finance (scope all) but finance may not update customers: 403, nothing changed
    assert api.get(f"/customers/{c['id']}", user="finance").status_code == 200
    assert_error(api.patch(f"/customers/{c['id']}", {"name": "财务改的", "version": 1}, user="finance"), 403, "forbidden")
    db.expire_all()
    assert db.get(Customer, c["id"]).name == "李的客户"


def test_owner_scope_rep_sees_own_manager_sees_department_tree(api):
    mine = api.customer(user="rep_north", name="北方一号")
    sub = api.customer(user="rep_north_bj", name="北京组客户")
    east = api.customer(user="rep_east", name="华东客户")
    def names(user):
        return {c["name"] for c in api.get("/customers", user=user).json()["items"]}
    assert names("rep_north") == {"北方一号"}
    assert names("manager_north") == {"北方一号", "北京组客户"}
    assert names("manager_east") == {"华东客户"}
    assert names("admin") == {"北方一号", "北京组客户", "华东客户"}
    assert api.get("/customers", user="rep_north").json()["total"] == 1
    _ = (mine, sub, east)


def test_mass_assignment_of_owner_is_refused(api, db):
    from kith.customers.models import Customer

    c = api.customer(user="rep_north", name="所有权客户")
    for field, value in (("owner_id", api.world.users["rep_east"]), ("department_id", 1), ("created_by_id", 1), ("department_path", "/")):
        err = assert_error(api.patch(f"/customers/{c['id']}", {field: value, "version": 1}, user="rep_north"), 403, "field_forbidden")
        assert err["fields"][0]["field"] == field
    db.expire_all()
    assert db.get(Customer, c["id"]).owner_id == api.world.users["rep_north"]
    # a rep may not create a record for somebody else either
    assert_error(api.post("/customers", {"name": "代建客户", "owner_id": api.world.users["rep_east"]}, user="rep_north"), 403)
    # a manager with the transfer right may
    r = api.post("/customers", {"name": "主管分配客户", "owner_id": api.world.users["rep_north"]}, user="manager_north")
    assert r.status_code == 201 and r.json()["owner_id"] == api.world.users["rep_north"]


def test_error_messages_localised(api):
    zh = api.post("/customers", {}, headers={"Accept-Language": "zh-CN"}).json()["error"]
    en = api.post("/customers", {}, headers={"Accept-Language": "en-US,en;q=0.9"}).json()["error"]
    assert zh["code"] == en["code"] == "validation_error"
    assert "字段" in zh["message"] and "fields" in en["message"]
    assert zh["fields"][0]["message"] == "必填。" and en["fields"][0]["message"] == "This field is required."
    default = api.post("/customers", {}).json()["error"]
    assert default["message"] == zh["message"]


def test_unauthenticated_is_401_in_error_shape(client):
    r = client.get("/api/v1/customers")
    assert_error(r, 401, "unauthorized")
    assert_error(client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"}), 401, "invalid_token")


def test_malformed_json_is_4xx_not_500(api):
    r = api.client.post("/api/v1/customers", content=b"{not json", headers={**api.headers("admin"), "Content-Type": "application/json"})
    assert_error(r, 422, "validation_error")


def test_money_is_decimal_string_with_currency(api):
    c = api.customer()
    o = api.opportunity(c["id"], amount="123456.7")
    assert o["amount"] == "123456.70" and o["currency"] == "CNY"
    k = api.contract(c["id"], amount=99.5)
    assert k["amount"] == "99.50" and k["currency"] == "CNY"
    assert_error(api.post("/opportunities", {"customer_id": c["id"], "name": "x", "amount": "-5", "next_action": "a",
                                             "next_action_due": "2026-12-01T00:00:00Z"}), 422, field="amount")


def test_times_are_iso_8601_with_offset(api):
    c = api.customer()
    assert c["created_at"].endswith("+00:00")
    r = api.patch(f"/customers/{c['id']}", {"next_followup_at": "2026-12-01T09:00:00+08:00", "version": 1})
    assert r.json()["next_followup_at"] == "2026-12-01T01:00:00+00:00"


def test_health_ready_metrics(client):
    assert client.get("/api/v1/healthz").status_code == 200
    ready = client.get("/api/v1/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    client.get("/api/v1/healthz")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "kith_http_requests_total" in metrics.text


def test_docs_list_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/customers",
                 "/api/v1/customers/{record_id}", "/api/v1/customers/{record_id}/timeline", "/api/v1/contacts",
                 "/api/v1/opportunities", "/api/v1/opportunities/{record_id}/stage", "/api/v1/contracts", "/api/v1/followups",
                 "/api/v1/healthz", "/api/v1/readyz", "/metrics"):
        assert path in schema["paths"], path
    assert client.get("/docs").status_code == 200


def test_request_id_echoed(client):
    r = client.get("/api/v1/healthz", headers={"X-Request-ID": "trace-42"})
    assert r.headers["x-request-id"] == "trace-42"
    err = client.get("/api/v1/me")
    assert err.json()["request_id"] == err.headers["x-request-id"]


def test_totals_exact_on_small_sets_estimated_on_large_ones(api, engine, monkeypatch):
    import kith.core.listing as listing

    for i in range(7):
        api.customer(name=f"计数客户{i}")
    assert api.get("/customers").json()["total"] == 7
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    listing._LARGE_TOTALS.clear()
    page = api.get("/customers", params={"limit": 2}).json()
    assert page["total_estimated"] is True
    if engine.dialect.name == "postgresql":
        assert page["total"] >= 6  # the planner's estimate
    else:
        assert page["total"] == 7  # SQLite counts exactly the first time
    assert len(page["items"]) == 2
    # a large total is reused for a minute by the same query (same scope) ...
    api.customer(name="计数客户7")
    assert api.get("/customers", params={"limit": 2}).json()["total"] == page["total"]
    # ... never by another user's query (the scope is part of the key): rep_north sees none of admin's customers
    rep = api.get("/customers", user="rep_north").json()
    assert rep["total"] == 0 and "total_estimated" not in rep
    # ... and counted again once it is older than the TTL
    monkeypatch.setattr(listing, "LARGE_TOTAL_TTL", 0.0)
    again = api.get("/customers", params={"limit": 2}).json()
    if engine.dialect.name != "postgresql":
        assert again["total"] == 8
    listing._LARGE_TOTALS.clear()


def test_exact_totals_are_reused_until_anything_commits(api, engine):
    """A list's exact total is remembered for the same query while the database is unchanged (ADR 0024), and
    any commit — through the API, or straight to the database from another connection — makes it count again."""
    import kith.core.listing as listing
    from sqlalchemy import text

    for i in range(5):
        api.customer(name=f"总数缓存{i}")
    first = api.get("/customers", params={"limit": 2, "q": "总数缓存"}).json()
    assert first["total"] == 5 and "total_estimated" not in first
    assert any(v[1] == 5 for v in listing._EXACT_TOTALS.values())
    again = api.get("/customers", params={"limit": 2, "q": "总数缓存", "cursor": first["next_cursor"]}).json()
    assert again["total"] == 5
    api.customer(name="总数缓存5")  # a commit through the API
    assert api.get("/customers", params={"limit": 2, "q": "总数缓存"}).json()["total"] == 6
    # a commit that bypasses this process's sessions (another process, a script): soft-delete one row directly
    with engine.connect() as conn:
        conn.execute(text("UPDATE customers SET deleted_at = CURRENT_TIMESTAMP WHERE name = '总数缓存0'"))
        conn.commit()
    assert api.get("/customers", params={"limit": 2, "q": "总数缓存"}).json()["total"] == 5
    other = engine.raw_connection()  # a raw DB-API commit: no SQLAlchemy event at all
    try:
        cur = other.cursor()
        cur.execute("UPDATE customers SET deleted_at = CURRENT_TIMESTAMP WHERE name = '总数缓存1'")
        other.commit()
    finally:
        other.close()
    assert api.get("/customers", params={"limit": 2, "q": "总数缓存"}).json()["total"] == 4


def test_pooled_connections_closed_by_the_server_are_replaced(api, engine):
    """PostgreSQL restarts, idle timeouts and pg_terminate_backend close pooled connections while they sit idle.
    The next requests still answer: the pool notices the closed socket at checkout, without a ping round trip
    per request (kith.db.session._alive_on_checkout, ADR 0027)."""
    import pytest
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in-process: no server can close a pooled connection")
    c = api.customer(name="断线重连客户")
    app_engine = api.client.app.state.engine
    # several connections in the pool, all idle now
    for _ in range(3):
        assert api.get(f"/customers/{c['id']}").status_code == 200
    with app_engine.connect() as a, app_engine.connect() as b:
        pids = {a.exec_driver_sql("SELECT pg_backend_pid()").scalar(), b.exec_driver_sql("SELECT pg_backend_pid()").scalar()}
    assert app_engine.pool.checkedin() >= 2
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    outside = create_engine(app_engine.url, poolclass=NullPool)  # an operator's session, not one of the pool's
    with outside.connect() as admin:
        killed = admin.execute(text("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid = ANY(:pids)) t"),
                               {"pids": list(pids)}).scalar()
    outside.dispose()
    assert killed == len(pids)
    import time

    time.sleep(0.2)  # the FATAL message and EOF reach the sockets
    for _ in range(5):
        r = api.get(f"/customers/{c['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "断线重连客户"
    with app_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() not in pids
