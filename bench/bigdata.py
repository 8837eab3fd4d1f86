"""Big-data benchmark (issues 5 and 7): reports and the customer timeline at 1,000,000 customers and
5,000,000 timeline events on PostgreSQL.

    .venv/bin/python -m bench.bigdata                  # generate (or reuse) kith_big, then measure
    .venv/bin/python -m bench.bigdata --generate-only
    .venv/bin/python -m bench.bigdata --regenerate     # rebuild even when a database of the right size exists
    .venv/bin/python -m bench.bigdata --customers 20000 --events 100000 --database-url ...kith_big_small
    .venv/bin/python -m bench.bigdata --repeat 5 --period last-month   # a full calendar month, whatever the date

Database: KITH_BIG_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/kith_big. It is reused
when it already holds `--customers` customers and at least `--events` events (the schema is migrated
to head first, which also builds any new index).

Loading: schema via kith.db.migrate.upgrade + kith.bootstrap.bootstrap, the organisation of
bench/generate.py (build_org: ~55 owners in a department tree, users bench_admin / bench_manager /
bench_rep, password bench-pass-2026); rows are generated in this process and streamed with COPY
(psycopg `cursor.copy`, write_row) with the big tables' ix_* indexes dropped during the load and
recreated afterwards; then kith.activities.events.backfill_links, the report rollup
(kith.reports.rollup.rebuild: COPY bypasses its flush listener), sequences, VACUUM ANALYZE. The funnel's
pre-aggregates (stage-history `left_at` and `deal_*` scope copy, opportunities `reached_position`; ADR 0017
part 3) are computed by the loader, as the ORM listener would; the stage-day rollup is rebuilt after the load.
search_text and search_names are the plain name and search_grams NULL (this benchmark does not measure search;
bench/generate.py does).

Measuring: the FastAPI app in-process (httpx ASGITransport, one client, sequential requests: the
latency of one request on an otherwise idle server, including routing, auth, access gate, SQL and
JSON) as bench_manager and bench_admin; every report with the report cache bypassed (cold SQL) and
the customer timeline first page of the customer with 10,000 events. p50/p95/p99 printed and written
to bench/results/bigdata-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "src")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kith_big"
TABLES = ("customers", "contacts", "opportunities", "opportunity_stage_history", "followups", "events",
          "contracts", "payment_plans", "payments")
HEAVY_CUSTOMER_EVENTS = 10_000


def log(msg: str) -> None:
    print(f"[bigdata {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sizes(url: str) -> tuple[int, int] | None:
    from bench.generate import database_exists

    if not database_exists(url):
        return None
    from kith.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT count(*) FROM users WHERE username = 'bench_admin'")):
                return None
            # estimates are enough to recognise a loaded database (exact counts take seconds)
            c = int(conn.scalar(text("SELECT count(*) FROM customers")) or 0)
            e = int(conn.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'events'")) or 0)
            return c, e
    except Exception:  # noqa: BLE001
        return None
    finally:
        engine.dispose()


class Copier:
    """Streams rows into the tables with COPY, in the column order of the first row of each table."""

    def __init__(self, raw: Any, existing: dict[str, set[str]]) -> None:
        self.raw = raw
        self.existing = existing
        self.counts = {t: 0 for t in TABLES}

    def copy(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = [c for c in rows[0] if c in self.existing[table]]
        with self.raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row([r[c] for c in cols])
        self.counts[table] += len(rows)


def generate(url: str, customers: int, events_target: int, seed: int = 7, chunk: int = 20_000) -> dict[str, Any]:
    from bench.generate import build_org, recreate_database
    from kith.activities.events import backfill_links
    from kith.bootstrap import bootstrap
    from kith.core import clock
    from kith.db.migrate import upgrade
    from kith.db.session import make_engine, session_factory
    from kith.demo import INDUSTRIES, LEVEL_WEIGHTS, LEVELS, REGIONS, SOURCE_WEIGHTS, SOURCES
    from kith.opportunities.models import Stage

    t0 = time.perf_counter()
    recreate_database(url)
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(seed)
    S = session_factory(engine)
    with S() as session:
        bootstrap(session)
        session.commit()
        org = build_org(session, rng)
        stages = list(session.scalars(select(Stage).order_by(Stage.pipeline_id, Stage.position)))
        stages = [s for s in stages if s.pipeline_id == stages[0].pipeline_id]
        stage_info = [(s.id, s.pipeline_id, s.kind, s.name, s.position) for s in stages]
        owners = [(u.id, u.department_id, org["paths"][u.department_id], cities) for u, cities in org["owners"]]
        heavy_owner = next(o for o in owners if o[0] == next(u.id for u, _c in org["owners"] if u.username == "bench_rep"))
        names = {t: {r[0] for r in session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t AND table_schema = current_schema()"),
            {"t": t})} for t in TABLES}
        tl = ",".join(f"'{t}'" for t in TABLES)
        ddl = session.execute(text(
            f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ({tl}) "
            "AND indexname LIKE 'ix_%'")).all()
        for name, _ in ddl:
            session.execute(text(f'DROP INDEX "{name}"'))
        session.commit()
    log(f"schema, {len(owners)} owners ready; {len(ddl)} indexes dropped for the load")

    now = clock.now().replace(microsecond=0)
    regions = {city: (prov, city, districts) for prov, city, districts, _area in REGIONS}
    open_st = [s for s in stage_info if s[2] == "open"]
    won = next(s for s in stage_info if s[2] == "won")
    lost = next(s for s in stage_info if s[2] == "lost")
    target_w = [18, 16, 14, 10, 14, 8][: len(stage_info)] + [5] * max(0, len(stage_info) - 6)
    # events per customer without extras ≈ 1 + 1.5 + 0.5·(1 + ~1.8) + 1.6 + pools/contracts ≈ 5.6 → scale follow-ups
    per_customer = max(1.0, (events_target - HEAVY_CUSTOMER_EVENTS) / customers)
    followups_mean = max(0.2, per_customer - 3.6)

    raw = engine.raw_connection()
    copier = Copier(raw.driver_connection, names)
    ids = {t: 0 for t in TABLES}

    def nid(t: str) -> int:
        ids[t] += 1
        return ids[t]

    days = 1100
    done = 0
    t_rows = time.perf_counter()
    while done < customers:
        n = min(chunk, customers - done)
        cs: list[dict[str, Any]] = []
        cts: list[dict[str, Any]] = []
        ops: list[dict[str, Any]] = []
        hist: list[dict[str, Any]] = []
        fus: list[dict[str, Any]] = []
        evs: list[tuple] = []
        ctr: list[dict[str, Any]] = []
        plans: list[dict[str, Any]] = []
        pays: list[dict[str, Any]] = []

        for _ in range(n):
            oid_, dept, path, cities = owners[rng.randrange(len(owners))]
            if ids["customers"] == 0:  # the heavy customer (id 1) belongs to bench_rep: visible to rep, manager, admin
                oid_, dept, path, cities = heavy_owner
            prov, city, districts = regions[cities[rng.randrange(len(cities))]]
            cid = nid("customers")
            created = now - timedelta(seconds=rng.uniform(3600, days * 86400))
            name = f"{city}{cid}号科技有限公司"
            r = rng.random
            nf = int(followups_mean * 2 * r() + 0.5)
            span = (now - created).total_seconds()
            ftimes = sorted(created + timedelta(seconds=rng.uniform(60, span)) for _ in range(nf)) if span > 120 else []
            own = {"owner_id": oid_, "department_id": dept, "department_path": path, "created_by_id": oid_,
                   "deleted_at": None, "deleted_by_id": None, "version": 1}
            cs.append({"id": cid, "name": name, "name_key": name, "industry": INDUSTRIES[rng.randrange(8)] if r() < 0.9 else None,
                       "source": rng.choices(SOURCES, SOURCE_WEIGHTS)[0] if r() < 0.85 else None,
                       "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0] if r() < 0.8 else None,
                       "status": "potential", "province": prov if r() < 0.9 else None, "city": city,
                       "district": districts[0], "address": f"{city}人民路{cid % 400}号" if r() < 0.7 else None,
                       "phone": f"010-{cid % 100000000:08d}" if r() < 0.75 else None,
                       "email": None, "website": f"https://c{cid}.example.cn" if r() < 0.5 else None, "description": None,
                       "last_followup_at": ftimes[-1] if ftimes else None, "next_followup_at": None, "custom": "{}",
                       **own, "created_at": created, "updated_at": ftimes[-1] if ftimes else created,
                       "search_text": name, "search_grams": None, "search_names": name})
            evs.append((created, "customer.created", "customer", cid, cid, None, None, oid_, name, '{"name": "x"}'))
            nct = 1 if r() < 0.5 else 2
            ctids = []
            for k in range(nct):
                ctid = nid("contacts")
                ctids.append(ctid)
                t = created + timedelta(minutes=3 + k)
                cts.append({"id": ctid, "customer_id": cid, "name": f"联系人{ctid}", "title": None,
                            "mobile": f"138{ctid % 100000000:08d}" if r() < 0.7 else None, "phone": None,
                            "email": f"p{ctid}@example.cn" if r() < 0.4 else None, "wechat": None, "is_primary": k == 0,
                            "custom": "{}", **own, "created_at": t, "updated_at": t, "search_text": f"联系人{ctid}",
                            "search_grams": None, "search_names": f"联系人{ctid}"})
                evs.append((t, "contact.created", "contact", ctid, cid, ctid, None, oid_, f"联系人{ctid}", "{}"))
            if r() < 0.5 and span > 7200 * 2:
                opid = nid("opportunities")
                tgt = rng.choices(stage_info, target_w)[0]
                path_st = ([s for s in open_st if stage_info.index(s) <= stage_info.index(tgt)] if tgt[2] == "open"
                           else open_st[: rng.randint(1, len(open_st))] + [lost] if tgt[2] == "lost" else open_st + [won])
                st0 = created + timedelta(seconds=rng.uniform(3600, span - 3600))
                steps = sorted(st0 + timedelta(seconds=rng.uniform(0, (now - st0).total_seconds())) for _ in range(len(path_st) - 1))
                stimes = [st0, *steps]
                is_open = tgt[2] == "open"
                amount = Decimal(rng.randint(2, 300) * 5000)
                # the funnel's pre-aggregates (ADR 0017 part 3), kept on write by the ORM listener: computed here
                reached = max((st[4] for st in path_st if st[2] != "lost"), default=None)
                ops.append({"id": opid, "customer_id": cid, "name": f"{name}项目", "amount": amount, "currency": "CNY",
                            "expected_close_date": (now + timedelta(days=rng.randint(-30, 240))).date() if is_open else stimes[-1].date(),
                            "pipeline_id": tgt[1], "stage_id": tgt[0], "stage_changed_at": stimes[-1], "status": tgt[2],
                            "next_action": None, "next_action_due": None, "lost_reason": "价格" if tgt[2] == "lost" else None,
                            "closed_at": None if is_open else stimes[-1], "custom": "{}", "reached_position": reached, **own,
                            "created_at": st0, "updated_at": stimes[-1], "search_text": f"{name}项目", "search_grams": None,
                            "search_names": f"{name}项目"})
                evs.append((st0, "opportunity.created", "opportunity", opid, cid, None, opid, oid_, "opp",
                            json.dumps({"amount": f"{amount:.2f}"})))
                prev = None
                for k, (st, when) in enumerate(zip(path_st, stimes)):
                    hist.append({"id": nid("opportunity_stage_history"), "opportunity_id": opid,
                                 "from_stage_id": prev[0] if prev else None, "to_stage_id": st[0], "changed_at": when,
                                 "changed_by_id": oid_, "next_action": None,
                                 "left_at": stimes[k + 1] if k + 1 < len(stimes) else None,
                                 "deal_owner_id": oid_, "deal_department_path": path, "deal_deleted_at": None})
                    if prev is not None:
                        evs.append((when, "opportunity.stage_changed", "opportunity", opid, cid, None, opid, oid_, "stage",
                                    json.dumps({"changes": {"stage": [prev[3], st[3]]}, "status": st[2]}, ensure_ascii=False)))
                    prev = st
                if tgt[2] == "won":
                    kid = nid("contracts")
                    sign = stimes[-1]
                    ctr.append({"id": kid, "customer_id": cid, "opportunity_id": opid, "number": f"HT{kid:08d}",
                                "title": f"{name}合同", "amount": amount, "currency": "CNY", "sign_date": sign.date(),
                                "start_date": sign.date(), "end_date": (sign + timedelta(days=365)).date(), "status": "signed",
                                "description": None, **own, "created_at": sign, "updated_at": sign})
                    evs.append((sign, "contract.created", "contract", kid, cid, None, opid, oid_, "contract",
                                json.dumps({"amount": f"{amount:.2f}"})))
                    half = (amount / 2).quantize(Decimal("0.01"))
                    for j, due in enumerate((sign + timedelta(days=30), sign + timedelta(days=180))):
                        pid = nid("payment_plans")
                        plans.append({"id": pid, "contract_id": kid, "due_date": due.date(), "amount": half, "note": None,
                                      "version": 1, "created_at": sign, "updated_at": sign})
                        if due < now and r() < 0.8:
                            pay_id = nid("payments")
                            pays.append({"id": pay_id, "contract_id": kid, "plan_id": pid, "received_on": due.date(),
                                         "amount": half, "method": "bank", "note": None, "version": 1,
                                         "created_at": due, "updated_at": due})
                            evs.append((due, "payment.created", "payment", pay_id, cid, None, None, oid_, "payment",
                                        json.dumps({"amount": f"{half:.2f}"})))
            for k, when in enumerate(ftimes):
                fid = nid("followups")
                ct = ctids[k % len(ctids)]
                fus.append({"id": fid, "customer_id": cid, "contact_id": ct, "opportunity_id": None, "type": "call",
                            "content": "电话沟通需求", "occurred_at": when, "next_followup_at": None, **own,
                            "created_at": when, "updated_at": when})
                evs.append((when, "followup.created", "followup", fid, cid, ct, None, oid_, "电话沟通需求", '{"type": "call"}'))
            if r() < 0.03 and span > 86400 * 2:
                w = created + timedelta(seconds=rng.uniform(86400, span))
                evs.append((w, "pool_returned", "customer", cid, cid, None, None, None, "pool", "{}"))
                if r() < 0.5:
                    evs.append((w + timedelta(hours=rng.uniform(1, 48)), "pool_claimed", "customer", cid, cid, None, None, oid_,
                                "pool", "{}"))
            if cid == 1:  # the heavy customer: 10,000 events over its life
                for _k in range(HEAVY_CUSTOMER_EVENTS):
                    evs.append((created + timedelta(seconds=rng.uniform(60, span)), "customer.updated", "customer", cid, cid,
                                None, None, oid_, name, '{"changes": {"level": ["B", "A"]}}'))

        # events in time order within the chunk, so a customer's ids follow its time line
        evs.sort(key=lambda e: e[0])
        erows = []
        for e in evs:
            erows.append({"id": nid("events"), "occurred_at": e[0], "type": e[1], "entity_type": e[2], "entity_id": e[3],
                          "customer_id": e[4], "contact_id": e[5], "opportunity_id": e[6], "actor_id": e[7],
                          "summary": e[8], "data": e[9]})
        for table, rows in (("customers", cs), ("contacts", cts), ("opportunities", ops), ("opportunity_stage_history", hist),
                            ("followups", fus), ("contracts", ctr), ("payment_plans", plans), ("payments", pays), ("events", erows)):
            copier.copy(table, rows)
        raw.commit()
        done += n
        el = time.perf_counter() - t_rows
        log(f"{done}/{customers} customers, {copier.counts['events']} events ({done / el:.0f} customers/s)")

    raw.close()
    log(f"rows loaded in {time.perf_counter() - t_rows:.0f}s: {copier.counts}")
    t_idx = time.perf_counter()
    with S() as session:
        for _name, sql in ddl:
            session.execute(text(sql))
            session.commit()
        log(f"indexes rebuilt in {time.perf_counter() - t_idx:.0f}s")
        backfill_links(session)
        session.commit()
        # COPY bypasses the ORM flush listener that keeps the report rollup exact (ADR 0017): recount
        from kith.reports.rollup import rebuild

        rebuild(session.connection())
        from kith.reports import stage_days

        stage_days.rebuild(session.connection())
        from kith.reports import followup_days

        followup_days.rebuild(session.connection())
        session.commit()
        for table in TABLES:
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"))
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    summary = {"customers": customers, "rows": copier.counts, "seconds": round(time.perf_counter() - t0, 1)}
    log(f"done: {summary}")
    return summary


# ---------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------

REPORT_PARAMS = {"period": "month"}  # the dashboards' default; --period year for the widest one


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def period_params(period: str) -> dict[str, str]:
    """The reports' query parameters; last-month = the previous calendar month (Asia/Shanghai) as a custom period."""
    if period != "last-month":
        return {"period": period}
    from datetime import date as _date
    from zoneinfo import ZoneInfo

    from kith.core import clock

    first = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    prev_last = first - timedelta(days=1)
    return {"period": "custom", "from": _date(prev_last.year, prev_last.month, 1).isoformat(), "to": prev_last.isoformat()}


def prepare(url: str) -> None:
    """Idempotent: the heavy customer (id 1) and its children belong to bench_rep (databases loaded before
    the generator did this)."""
    from kith.db.session import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        rep = conn.execute(text("SELECT u.id, u.department_id, d.path FROM users u JOIN departments d ON d.id = u.department_id "
                                "WHERE u.username = 'bench_rep'")).one()
        for table, col in (("customers", "id"), ("contacts", "customer_id"), ("opportunities", "customer_id"),
                           ("followups", "customer_id"), ("contracts", "customer_id")):
            conn.execute(text(f"UPDATE {table} SET owner_id = :o, department_id = :d, department_path = :p "
                              f"WHERE {col} = 1 AND owner_id <> :o"), {"o": rep[0], "d": rep[1], "p": rep[2]})
    engine.dispose()


def measure(url: str, repeat: int = 20, users: tuple[str, ...] = ("bench_manager", "bench_admin"),
            period: str = "month") -> dict[str, Any]:
    import asyncio

    import httpx

    os.environ["KITH_DATABASE_URL"] = url
    os.environ.setdefault("KITH_REPORT_CACHE", "off")
    os.environ.setdefault("KITH_LOG_LEVEL", "WARNING")
    from kith.app import create_app
    from kith.reports.service import REPORTS

    app = create_app()

    async def run() -> dict[str, Any]:
        results: dict[str, Any] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for user in users:
                r = await client.post("/api/v1/auth/login", json={"username": user, "password": "bench-pass-2026"})
                r.raise_for_status()
                token = r.json()["access_token"]
                h = {"Authorization": f"Bearer {token}"}
                scenarios = [(f"report {name}", f"/api/v1/reports/{name}", {**REPORT_PARAMS, **period_params(period)})
                             for name in REPORTS]
                scenarios.append(("timeline first page (10,000 events)", "/api/v1/customers/1/timeline", {"limit": 20}))
                for label, path, params in scenarios:
                    times: list[float] = []
                    errors = 0
                    for i in range(repeat + 2):
                        t = time.perf_counter()
                        resp = await client.get(path, params=params, headers=h)
                        dt = (time.perf_counter() - t) * 1000
                        if resp.status_code != 200:
                            errors += 1
                            if errors == 1:
                                log(f"{user} {label}: HTTP {resp.status_code} {resp.text[:200]}")
                        if i >= 2:  # two warm-ups (plans, connection pool)
                            times.append(dt)
                    results[f"{user} {label}"] = {"n": len(times), "p50": round(percentile(times, 50), 1),
                                                  "p95": round(percentile(times, 95), 1), "p99": round(percentile(times, 99), 1),
                                                  "errors": errors}
                    row = results[f"{user} {label}"]
                    log(f"{user:14} {label:45} p50 {row['p50']:7.1f}  p95 {row['p95']:7.1f}  p99 {row['p99']:7.1f}  errors {errors}")
        return results

    return asyncio.run(run())


def measure_direct(url: str, repeat: int = 20, users: tuple[str, ...] = ("bench_manager", "bench_admin"),
                   period: str = "month") -> dict[str, Any]:
    """Without HTTP: kith.reports.service.run / kith.activities.timeline.timeline on one session per user
    (the SQL and serialisation only; used with --direct)."""
    from kith.access import load_actor
    from kith.activities.timeline import timeline
    from kith.auth.models import User
    from kith.db.session import make_engine, session_factory
    from kith.reports.service import REPORTS, run

    engine = make_engine(url)
    results: dict[str, Any] = {}
    with session_factory(engine)() as session:
        for user in users:
            u = session.scalar(select(User).where(User.username == user))
            actor = load_actor(session, u)
            calls = [(f"report {n}", (lambda n=n: run(session, actor, n, period_params(period), use_cache=False))) for n in REPORTS]
            calls.append(("timeline first page (10,000 events)",
                          lambda: timeline(session, actor, 1, limit=20, cursor=None, type_prefix=None)))
            for label, fn in calls:
                times = []
                for i in range(repeat + 2):
                    t = time.perf_counter()
                    fn()
                    session.rollback()
                    if i >= 2:
                        times.append((time.perf_counter() - t) * 1000)
                row = {"n": len(times), "p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1),
                       "p99": round(percentile(times, 99), 1), "errors": 0}
                results[f"{user} {label}"] = row
                log(f"{user:14} {label:45} p50 {row['p50']:7.1f}  p95 {row['p95']:7.1f}  p99 {row['p99']:7.1f}")
    engine.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Kith big-data benchmark (reports, timeline) on PostgreSQL")
    ap.add_argument("--database-url", default=os.environ.get("KITH_BIG_PG_URL", DEFAULT_URL))
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=20, help="timed requests per scenario and user")
    ap.add_argument("--direct", action="store_true", help="call the service functions without HTTP/ASGI")
    ap.add_argument("--period", default="month", choices=["week", "month", "quarter", "year", "last-month"],
                    help="the reports' period; last-month = the previous calendar month as a custom period (a full month "
                         "whatever today's date: `month` shrinks to a few days at the start of a month)")
    args = ap.parse_args(argv)
    if make_url(args.database_url).get_backend_name() != "postgresql":
        raise SystemExit("the big-data benchmark runs on PostgreSQL")
    found = None if args.regenerate else sizes(args.database_url)
    gen: dict[str, Any] | None = None
    if found and found[0] == args.customers and found[1] >= args.events * 0.95:
        log(f"reusing {args.database_url}: {found[0]} customers, ~{found[1]} events (migrating to head)")
        from bench.generate import migrate_only

        migrate_only(args.database_url)
    else:
        gen = generate(args.database_url, args.customers, args.events)
    if args.generate_only:
        return
    prepare(args.database_url)
    with os.popen("uptime") as f:
        load_avg = f.read().strip()
    if args.direct:
        results = measure_direct(args.database_url, repeat=args.repeat, period=args.period)
    else:
        results = measure(args.database_url, repeat=args.repeat, period=args.period)
    out = {"database_url": args.database_url, "customers": args.customers, "events": args.events, "generation": gen,
           "period": args.period, "period_params": period_params(args.period), "mode": "direct" if args.direct else "asgi in-process",
           "cpus": os.cpu_count(), "uptime": load_avg, "at": datetime.now().isoformat(timespec="seconds"), "results": results}
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    path = res_dir / f"bigdata-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print("\n| scenario | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|")
    for k, v in results.items():
        print(f"| {k} | {v['p50']} | {v['p95']} | {v['p99']} | {v['errors']} |")
    print(f"\nmachine: {load_avg}; written to {path}")


if __name__ == "__main__":
    main()
