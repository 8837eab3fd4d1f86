"""The hot read path's plumbing (ADR 0028): lists, records and search run in their own lane of threads; JSON
columns are parsed without losing digits; PostgreSQL sessions run in UTC."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from kith.core import deps
from kith.customers.models import Customer
from kith.db.session import json_loads, make_engine, session_factory


def _app(settings, **changes):
    from kith.app import create_app

    return create_app(settings.model_copy(update=changes))


class _Counter:
    """Wraps the function a hot read runs in its thread: how many ran at once, at most."""

    def __init__(self, inner, hold: float) -> None:
        self.inner, self.hold = inner, hold
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.hold)
            return self.inner(*args)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("lane", [1, 3])
def test_lists_and_records_run_at_most_read_threads_at_once(api, settings, monkeypatch, lane):
    c = api.customer(name="并发读取客户")
    counter = _Counter(deps._read_in_thread, 0.15)
    monkeypatch.setattr(deps, "_read_in_thread", counter)
    headers = api.headers("admin")
    with TestClient(_app(settings, read_threads=lane)) as client:
        paths = ["/api/v1/customers", f"/api/v1/customers/{c['id']}", "/api/v1/search?q=并发读取"] * 2
        with ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda p: client.get(p, headers=headers), paths))
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert responses[0].json()["items"][0]["name"] == "并发读取客户"
    assert counter.most == lane


def test_a_slow_request_does_not_hold_up_lists(api, settings, monkeypatch):
    """Every blocking request but the hot reads shares the default threads; with all of them busy (one thread, one
    slow request), a list still answers at once."""
    api.customer(name="慢请求旁的客户")
    inner = deps._actor

    def slow_for_me(request, session, claims):
        if request.url.path.endswith("/me"):
            time.sleep(1.5)
        return inner(request, session, claims)

    monkeypatch.setattr(deps, "_actor", slow_for_me)
    headers = api.headers("admin")
    with TestClient(_app(settings, request_threads=1)) as client, ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        me = pool.submit(client.get, "/api/v1/me", headers=headers)
        time.sleep(0.2)  # /me now holds the only default thread
        listed = client.get("/api/v1/customers", headers=headers)
        list_done = time.monotonic() - started
        assert me.result().status_code == 200
        me_done = time.monotonic() - started
    assert listed.status_code == 200 and listed.json()["items"][0]["name"] == "慢请求旁的客户"
    assert list_done < 1.2 < me_done, (list_done, me_done)


def test_json_columns_keep_every_digit(api, engine):
    """JSON is parsed by orjson, which reads integers beyond 64 bits as floats: such documents go to the standard
    parser, so a 25-digit number (or an 18-digit one next to it) comes back exactly."""
    c = api.customer(name="长数字客户")
    doc = {"big": 1234567890123456789012345, "id_card": "110101199001011234", "n": 9007199254740993, "x": 1.5, "名": "值"}
    cast = "CAST(:doc AS jsonb)" if engine.dialect.name == "postgresql" else ":doc"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE customers SET custom = {cast} WHERE id = :id"), {"doc": json.dumps(doc, ensure_ascii=False), "id": c["id"]})
    with session_factory(engine)() as s:
        assert s.scalar(select(Customer.custom).where(Customer.id == c["id"])) == doc
    # the same answer as the standard parser, for documents on either side of the 19-digit line
    for raw in ['{"a": 123456789012345678}', '{"a": 1234567890123456789}', '[1e3, -0.0, "\\u00e9", null, true]',
                '{"t": "1234567890123456789 in a string"}', '"plain"']:
        assert json_loads(raw) == json.loads(raw) and json_loads(raw.encode()) == json.loads(raw), raw
    for raw in ['{"a": 9223372036854775807}', '{"a": -9223372036854775809}', '[18446744073709551616, -1e400, 1e-400]']:
        assert json_loads(raw) == json.loads(raw), raw
    with pytest.raises(ValueError):
        json_loads("{not json")
    assert engine.dialect._json_deserializer is json_loads  # the engine's JSON columns go through it


def test_postgresql_sessions_run_in_utc_and_keep_other_options(api, engine, monkeypatch):
    """psycopg itself returns times in `timezone.utc` (no per-value zone conversion), whatever the server's default
    zone; options from the URL and from PGOPTIONS still apply, and every time is the same instant."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no session time zone")
    c = api.customer(name="时区客户")
    app_engine = api.client.app.state.engine
    with app_engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        raw = conn.connection.dbapi_connection.execute("SELECT created_at FROM customers WHERE id = %s", (c["id"],)).fetchone()[0]
    assert raw.tzinfo is timezone.utc  # psycopg's own value, before UTCDateTime
    with session_factory(app_engine)() as s:
        created = s.scalar(select(Customer.created_at).where(Customer.id == c["id"]))
    # a server whose default zone is not UTC (set for the database here: new sessions start in it)
    db_name = app_engine.url.database
    with app_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{db_name}" SET TimeZone = \'Asia/Shanghai\'')
    try:
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=2345")
        url = app_engine.url.update_query_dict({"options": "-c statement_timeout=4321"})
        other = make_engine(url.render_as_string(hide_password=False))
        plain = make_engine(app_engine.url.render_as_string(hide_password=False))
        try:
            with other.connect() as conn:
                assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "4321ms"
            with plain.connect() as conn:
                assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
                assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "2345ms"
            with session_factory(other)() as s:
                again = s.scalar(select(Customer.created_at).where(Customer.id == c["id"]))
            assert again == created and again.tzinfo is timezone.utc
        finally:
            other.dispose()
            plain.dispose()
    finally:
        with app_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{db_name}" RESET TimeZone')
