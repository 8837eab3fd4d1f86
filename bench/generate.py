"""Bulk-load a benchmark database: N customers with contacts, opportunities, follow-ups and timeline events.

    .venv/bin/python bench/generate.py --database-url sqlite:///var/bench.db --customers 100000
    .venv/bin/python bench/generate.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kith_bench

The database is migrated first (kith.db.migrate.upgrade + kith.bootstrap.bootstrap). Rows go in with
`session.execute(insert(Model), rows)` in chunks, with explicit ids (sequences are moved past them on
PostgreSQL) and search_text / search_grams / search_names computed by the same functions the ORM listeners use
(kith.search.index.search_parts, kith.core.normalize.grams_of); SQLite's FTS tables are fed through
kith.search.index.sqlite_index_rows. Secondary indexes (ix_*) of the big tables are dropped during the
load and recreated from their own definitions afterwards, then the database is ANALYZEd.

Users (password bench-pass-2026): bench_admin (admin), bench_manager (sales_manager of 华北大区, which
has three sales departments under it), bench_rep (sales_rep in 北京销售一部), plus regional managers,
reps and a few non-sales users: about 50 owners share the customers evenly.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import Engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

BENCH_PASSWORD = "bench-pass-2026"
BIG_TABLES = ("customers", "contacts", "opportunities", "opportunity_stage_history", "followups", "events")

# region (大区) -> [(department, city keys)]
SALES_TREE = {
    "华北大区": [("北京销售一部", ["北京"]), ("北京销售二部", ["北京"]), ("天津销售部", ["天津", "石家庄", "太原"]),
             ("山东销售部", ["济南", "青岛"]), ("东北销售部", ["沈阳", "大连"])],
    "华东大区": [("上海销售一部", ["上海"]), ("上海销售二部", ["上海"]), ("江苏销售部", ["南京", "苏州", "无锡"]),
             ("浙江销售部", ["杭州", "宁波"]), ("福建安徽销售部", ["厦门", "福州", "合肥"])],
    "华南大区": [("广州销售部", ["广州"]), ("深圳销售部", ["深圳"]), ("华中销售部", ["武汉", "长沙", "郑州"])],
    "西部大区": [("成渝销售部", ["成都", "重庆"]), ("西北销售部", ["西安"])],
}
OTHER_DEPTS = ["客服部", "市场部", "财务部", "技术支持部"]


@lru_cache(maxsize=None)
def pinyin_of(text: str) -> str:
    from kith.demo import pinyin_of as convert

    return convert(text)


def contact_email(rng: random.Random, name: str, domain: str) -> str:
    if rng.random() < 0.6:
        return f"{pinyin_of(name)}@{domain}"
    return f"{pinyin_of(name)}{rng.randint(1, 999)}@{rng.choice(['qq.com', '163.com', '126.com', 'sina.com'])}"


def log(msg: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# database lifecycle
# ---------------------------------------------------------------------------------------------

def recreate_database(url: str) -> None:
    """Drop and create the database (a SQLite file, or a PostgreSQL database via the `postgres` db)."""
    from sqlalchemy import create_engine

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def database_exists(url: str) -> bool:
    from sqlalchemy import create_engine

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return Path(u.database or "").exists()
    admin = create_engine(u.set(database="postgres"))
    with admin.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": u.database})
    admin.dispose()
    return bool(found)


def existing_size(url: str) -> int | None:
    """Customers in an already generated benchmark database, or None when it is not one."""
    if not database_exists(url):
        return None
    from kith.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT count(*) FROM users WHERE username = 'bench_admin'")):
                return None
            return int(conn.scalar(text("SELECT count(*) FROM customers")) or 0)
    except Exception:  # noqa: BLE001 - no schema yet, or not ours
        return None
    finally:
        engine.dispose()


def migrate_only(url: str) -> None:
    """Bring a reused benchmark database to the current schema (cheap when it already is)."""
    from kith.db.migrate import upgrade
    from kith.db.session import make_engine

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def drop_secondary_indexes(session: Session) -> list[str]:
    """Drop the ix_* indexes of the big tables; returns their CREATE statements."""
    dialect = session.get_bind().dialect.name
    names = ",".join(f"'{t}'" for t in BIG_TABLES)
    if dialect == "sqlite":
        rows = session.execute(text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({names}) AND sql IS NOT NULL AND name LIKE 'ix_%'"
        )).all()
    else:
        rows = session.execute(text(
            f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ({names}) AND indexname LIKE 'ix_%'"
        )).all()
    for name, _ in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    session.commit()
    return [sql for _, sql in rows]


def recreate_indexes(session: Session, statements: list[str]) -> None:
    for sql in statements:
        session.execute(text(sql))
        session.commit()


# ---------------------------------------------------------------------------------------------
# organisation
# ---------------------------------------------------------------------------------------------

def build_org(session: Session, rng: random.Random) -> dict[str, Any]:
    from kith.auth.models import Department, Role, User
    from kith.auth.security import hash_password
    from kith.bootstrap import create_department
    from kith.demo import mobile, person_name

    pw = hash_password(BENCH_PASSWORD)
    roles = {r.code: r for r in session.scalars(select(Role))}
    used_names: set[str] = set()

    def display() -> str:
        while True:
            n = person_name(rng)
            if n not in used_names:
                used_names.add(n)
                return n

    def user(username: str, role: str, dept: Department) -> User:
        u = User(username=username, display_name=display(), password_hash=pw, department_id=dept.id,
                 email=f"{username}@bench.kith.example", mobile=mobile(rng))
        u.roles = [roles[role]]
        session.add(u)
        session.flush()
        return u

    root = create_department(session, "总部")
    sales = create_department(session, "销售中心", root)
    admin = user("bench_admin", "admin", root)
    root.manager_id = admin.id
    owners: list[tuple[Any, list[str]]] = []  # (user, cities)
    rep_no = 0
    for region, depts in SALES_TREE.items():
        rdept = create_department(session, region, sales)
        mgr = user("bench_manager" if region == "华北大区" else f"manager_{len(owners):02d}", "sales_manager", rdept)
        rdept.manager_id = mgr.id
        region_cities = [c for _, cs in depts for c in cs]
        owners.append((mgr, region_cities))
        for dname, cities in depts:
            d = create_department(session, dname, rdept)
            for k in range(3):
                rep_no += 1
                name = "bench_rep" if dname == "北京销售一部" and k == 0 else f"rep_{rep_no:02d}"
                owners.append((user(name, "sales_rep", d), cities))
    for dname, role in zip(OTHER_DEPTS, ["service", "marketing", "finance", "support"]):
        d = create_department(session, dname, root)
        d.manager_id = user(f"bench_{role}", role, d).id
    # a handful more reps in the biggest departments to reach ~50 owners
    extra_depts = list(session.scalars(select(Department).where(Department.name.in_(["北京销售二部", "上海销售一部", "上海销售二部",
                                                                                       "广州销售部", "深圳销售部", "江苏销售部"]))))
    for d in extra_depts:
        for _ in range(1):
            rep_no += 1
            cities = next(cs for ds in SALES_TREE.values() for n, cs in ds if n == d.name)
            owners.append((user(f"rep_{rep_no:02d}", "sales_rep", d), cities))
    session.flush()
    paths = {d.id: d.path for d in session.scalars(select(Department))}
    session.commit()
    return {"owners": owners, "paths": paths, "admin": admin}


# ---------------------------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------------------------

# Ids are allocated in fixed blocks per chunk so that chunks can be generated in parallel processes
# (the blocks bound the children per customer: contacts ≤ 2, stage changes ≤ 5, follow-ups ≤ 6, events ≤ 14).
ID_BLOCK = {"customers": 1, "contacts": 2, "opportunities": 1, "opportunity_stage_history": 5, "followups": 6, "events": 16}


class Loader:
    """Picklable recipe for one chunk of rows (runs in worker processes)."""

    def __init__(self, session: Session, org: dict[str, Any], seed: int, now: datetime, chunk_size: int) -> None:
        from kith.demo import REGIONS
        from kith.opportunities.models import Stage

        self.dialect = session.get_bind().dialect.name
        self.seed = seed
        self.now = now
        self.chunk_size = chunk_size
        self.owners = [(SimpleNamespace(id=u.id, department_id=u.department_id), cities) for u, cities in org["owners"]]
        self.paths = org["paths"]
        self.regions = {city: (prov, city, districts, area) for prov, city, districts, area in REGIONS}
        stages = list(session.scalars(select(Stage).order_by(Stage.pipeline_id, Stage.position)))
        self.stages = [SimpleNamespace(id=s.id, pipeline_id=s.pipeline_id, position=s.position, kind=s.kind, name=s.name)
                       for s in stages if s.pipeline_id == stages[0].pipeline_id]

    def __call__(self, job: tuple[int, int]) -> dict[str, Any]:
        k, n = job
        self.rng = random.Random(self.seed * 1_000_003 + k)
        self.ids = {t: k * self.chunk_size * ID_BLOCK[t] for t in BIG_TABLES}
        self.seen_names: set[str] = set()
        return self.chunk(n)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def chunk(self, n: int) -> dict[str, Any]:
        from kith.activities.models import Event, Followup
        from kith.contacts.models import Contact
        from kith.core.normalize import grams_of, normalize_company
        from kith.customers.models import Customer
        from kith.demo import (FOLLOWUP_TEXTS, FOLLOWUP_TYPES, FOLLOWUP_WEIGHTS, INDUSTRIES, LEVEL_WEIGHTS, LEVELS,
                               SOURCE_WEIGHTS, SOURCES, TITLES, BRAND_TAILS, brand, company_name, landline, mobile, person_name)
        from kith.opportunities.models import Opportunity, StageHistory
        from kith.search.index import search_parts

        rng, now = self.rng, self.now
        pg = self.dialect == "postgresql"
        customers: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        opps: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        followups: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        fts: dict[str, list[tuple[int, str]]] = {"customers": [], "contacts": [], "opportunities": []}

        def search(table: str, rid: int, **values: Any) -> dict[str, Any]:
            vals, names = search_parts(SimpleNamespace(__tablename__=table, **values))
            st = " ".join(vals)
            fts[table].append((rid, st))
            return {"search_text": st, "search_grams": grams_of(vals) if pg else None, "search_names": " ".join(names)}

        def ev(when: datetime, type_: str, etype: str, eid: int, cid: int, actor: int, summary: str, data: dict[str, Any]) -> None:
            events.append({"id": self.next_id("events"), "customer_id": cid, "entity_type": etype, "entity_id": eid, "type": type_,
                           "actor_id": actor, "occurred_at": when, "summary": summary[:500], "data": data})

        open_stages = [s for s in self.stages if s.kind == "open"]
        won = next(s for s in self.stages if s.kind == "won")
        lost = next(s for s in self.stages if s.kind == "lost")
        for _ in range(n):
            owner, cities = rng.choice(self.owners)
            dept_id, path = owner.department_id, self.paths[owner.department_id]
            prov, city, districts, area = self.regions[rng.choice(cities)]
            industry = rng.choice(INDUSTRIES)
            for _attempt in range(20):
                b = brand(rng) + (rng.choice(BRAND_TAILS) if rng.random() < 0.4 else "")
                name = company_name(rng, city, industry, b)
                key = normalize_company(name)
                if key not in self.seen_names:
                    break
            else:
                name = f"{name[:-4]}（{rng.choice(districts)}）{name[-4:]}"
                key = normalize_company(name) + str(len(self.seen_names))
            self.seen_names.add(key)
            cid = self.next_id("customers")
            created = now - timedelta(days=rng.uniform(1, 1100), seconds=rng.uniform(0, 86400))
            domain = f"{pinyin_of(b)}{rng.choice(['', 'tech', 'group', 'cn', str(rng.randint(1, 99))])}.com.cn"
            phone = landline(rng, area)
            email = f"info@{domain}"
            # follow-ups: ~3 per customer over the last 180 days (after creation)
            nf = min(rng.choice([0, 1, 2, 3, 3, 4, 4, 5, 6]), 8)
            start = max(created, now - timedelta(days=180))
            times = sorted(start + timedelta(seconds=rng.uniform(0, max(60.0, (now - start).total_seconds() - 60))) for _ in range(nf))
            last = times[-1] if times else None
            nxt = (now + timedelta(days=rng.randint(-5, 14), hours=rng.randint(0, 9))) if last else None
            customers.append({
                "id": cid, "name": name, "name_key": key, "industry": industry,
                "source": rng.choices(SOURCES, SOURCE_WEIGHTS)[0], "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
                "status": rng.choices(["potential", "active", "inactive", "lost"], [5, 4, 1, 1])[0],
                "province": prov, "city": city, "district": rng.choice(districts),
                "address": f"{city}{rng.choice(districts)}{rng.choice(['中山路', '人民路', '建设路', '科技园', '创业大道'])}{rng.randint(1, 399)}号",
                "phone": phone, "email": email, "website": f"https://www.{domain}", "description": None,
                "last_followup_at": last, "next_followup_at": nxt, "custom": {},
                "owner_id": owner.id, "department_id": dept_id, "department_path": path, "created_by_id": owner.id,
                "deleted_at": None, "deleted_by_id": None, "version": 1, "created_at": created,
                "updated_at": max([created, *times]),
                **search("customers", cid, name=name, phone=phone, email=email),
            })
            ev(created, "customer.created", "customer", cid, cid, owner.id, name, {"name": name})
            # contacts: 1-2 (~1.5)
            cts = []
            for k in range(rng.choice([1, 2])):
                ctid = self.next_id("contacts")
                pname = person_name(rng)
                mob = mobile(rng)
                cemail = contact_email(rng, pname, domain)
                wechat = f"wx_{pinyin_of(pname)}{rng.randint(10, 9999)}" if rng.random() < 0.5 else None
                cphone = phone if rng.random() < 0.2 else None
                ct_created = created + timedelta(minutes=3 + k)
                contacts.append({
                    "id": ctid, "customer_id": cid, "name": pname, "title": rng.choice(TITLES), "mobile": mob, "phone": cphone,
                    "email": cemail, "wechat": wechat, "is_primary": k == 0, "custom": {},
                    "owner_id": owner.id, "department_id": dept_id, "department_path": path, "created_by_id": owner.id,
                    "deleted_at": None, "deleted_by_id": None, "version": 1, "created_at": ct_created, "updated_at": ct_created,
                    **search("contacts", ctid, name=pname, mobile=mob, phone=cphone, email=cemail, wechat=wechat),
                })
                cts.append((ctid, pname))
                ev(ct_created, "contact.created", "contact", ctid, cid, owner.id, pname, {"name": pname})
            # opportunities: ~0.5
            if rng.random() < 0.5:
                oid = self.next_id("opportunities")
                target = rng.choices(self.stages, [18, 16, 14, 10, 14, 8][: len(self.stages)] + [5] * max(0, len(self.stages) - 6))[0]
                path_stages = ([s for s in open_stages if s.position <= target.position] if target.kind == "open"
                               else open_stages[: rng.randint(1, len(open_stages))] + [lost] if target.kind == "lost"
                               else open_stages + [won])
                t0 = created + timedelta(seconds=rng.uniform(3600, max(7200.0, (now - created).total_seconds() - 7200)))
                steps = sorted(t0 + timedelta(seconds=rng.uniform(0, max(60.0, (now - t0).total_seconds() - 60)))
                               for _ in range(len(path_stages) - 1))
                stimes = [t0, *steps]
                is_open = target.kind == "open"
                oname = f"{name.replace('有限公司', '')}{rng.choice(['CRM采购', '信息化项目', '年度续约', '平台升级'])}"
                action = rng.choice(["电话确认预算", "安排产品演示", "发送报价单", "准备合同草案"]) if is_open else None
                amount = Decimal(rng.randint(2, 300) * 5000)
                opps.append({
                    "id": oid, "customer_id": cid, "name": oname, "amount": amount, "currency": "CNY",
                    "expected_close_date": (now + timedelta(days=rng.randint(7, 120))).date() if is_open else stimes[-1].date(),
                    "pipeline_id": target.pipeline_id, "stage_id": target.id, "stage_changed_at": stimes[-1],
                    "status": target.kind, "next_action": action,
                    "next_action_due": now + timedelta(days=rng.randint(-3, 21)) if is_open else None,
                    "lost_reason": "价格高于竞品" if target.kind == "lost" else None,
                    "closed_at": None if is_open else stimes[-1], "custom": {},
                    # the funnel's pre-aggregate (ADR 0017 part 3), kept by the ORM listener; computed by this loader
                    "reached_position": max((s.position for s in path_stages if s.kind != "lost"), default=None),
                    "owner_id": owner.id, "department_id": dept_id, "department_path": path, "created_by_id": owner.id,
                    "deleted_at": None, "deleted_by_id": None, "version": 1, "created_at": t0, "updated_at": stimes[-1],
                    **search("opportunities", oid, name=oname, next_action=action),
                })
                ev(t0, "opportunity.created", "opportunity", oid, cid, owner.id, oname,
                   {"name": oname, "amount": f"{amount:.2f}", "stage": path_stages[0].name})
                prev = None
                for k, (st, when) in enumerate(zip(path_stages, stimes)):
                    history.append({"id": self.next_id("opportunity_stage_history"), "opportunity_id": oid,
                                    "from_stage_id": prev.id if prev else None, "to_stage_id": st.id, "changed_at": when,
                                    "changed_by_id": owner.id, "next_action": action,
                                    "left_at": stimes[k + 1] if k + 1 < len(stimes) else None,
                                    "deal_owner_id": owner.id, "deal_department_path": path, "deal_deleted_at": None})
                    if prev is not None:
                        ev(when, "opportunity.stage_changed", "opportunity", oid, cid, owner.id, oname,
                           {"changes": {"stage": [prev.name, st.name]}, "status": st.kind})
                    prev = st
            for k, when in enumerate(times):
                fid = self.next_id("followups")
                ftype = rng.choices(FOLLOWUP_TYPES, FOLLOWUP_WEIGHTS)[0]
                ctid, cname = rng.choice(cts)
                content = rng.choice(FOLLOWUP_TEXTS[ftype]).format(c=cname, p="CRM系统")
                followups.append({
                    "id": fid, "customer_id": cid, "contact_id": ctid, "opportunity_id": None, "type": ftype, "content": content,
                    "occurred_at": when, "next_followup_at": nxt if k == len(times) - 1 else None,
                    "owner_id": owner.id, "department_id": dept_id, "department_path": path, "created_by_id": owner.id,
                    "deleted_at": None, "deleted_by_id": None, "version": 1, "created_at": when, "updated_at": when,
                })
                ev(when, "followup.created", "followup", fid, cid, owner.id, content[:60], {"type": ftype, "content": content})

        # per customer the events must be in time order (the timeline pages by id): renumber in time order
        ids = sorted(e["id"] for e in events)
        for new_id, e in zip(ids, sorted(events, key=lambda e: e["occurred_at"])):
            e["id"] = new_id
        return {"customers": customers, "contacts": contacts, "opportunities": opps, "opportunity_stage_history": history,
                "followups": followups, "events": events, "fts": fts}


def insert_chunk(session: Session, rows: dict[str, Any], counts: dict[str, int]) -> None:
    from kith.activities.models import Event, Followup
    from kith.contacts.models import Contact
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity, StageHistory
    from kith.search.index import sqlite_index_rows

    for model in (Customer, Contact, Opportunity, StageHistory, Followup, Event):
        table = model.__tablename__
        data = rows[table]
        for i in range(0, len(data), 5000):
            # Core executemany on the model's table: one round trip per batch (the ORM bulk path
            # falls back to a statement per row here because of the version counter)
            session.execute(insert(model.__table__), data[i : i + 5000])
        counts[table] += len(data)
    for table, fts_rows in rows["fts"].items():
        sqlite_index_rows(session, table, fts_rows)
    session.commit()


def fix_sequences(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in BIG_TABLES:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"))
    session.commit()


def generate(url: str, customers: int, seed: int = 42, chunk: int = 2000, workers: int = 0) -> dict[str, Any]:
    from kith.bootstrap import bootstrap
    from kith.core import clock
    from kith.db.migrate import upgrade
    from kith.db.session import make_engine, session_factory

    t_start = time.perf_counter()
    recreate_database(url)
    engine: Engine = make_engine(url)
    upgrade(engine)
    Session_ = session_factory(engine)
    with Session_() as session:
        bootstrap(session)
        session.commit()
        org = build_org(session, random.Random(seed))
        log(f"schema and {len(org['owners'])} owners ready ({time.perf_counter() - t_start:.1f}s)")
        ddl = drop_secondary_indexes(session)
        loader = Loader(session, org, seed, clock.now().replace(microsecond=0), chunk)
        t_rows = time.perf_counter()
        jobs = [(k, min(chunk, customers - k * chunk)) for k in range((customers + chunk - 1) // chunk)]
        counts = {t: 0 for t in BIG_TABLES}
        done = 0
        # rows (with their search text, pinyin and grams) are computed in worker processes while this
        # process inserts the previous chunk
        procs = workers or max(1, min(4, os.cpu_count() or 1))
        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else multiprocessing.get_context()
        with ctx.Pool(procs) as pool:
            for rows in pool.imap(loader, jobs):
                insert_chunk(session, rows, counts)
                done += len(rows["customers"])
                log(f"{done}/{customers} customers ({done / (time.perf_counter() - t_rows):.0f}/s)")
        t_idx = time.perf_counter()
        recreate_indexes(session, ddl)
        fix_sequences(session)
        # Core inserts bypass the flush listeners that keep the report rollups exact (ADR 0017): recount
        from kith.reports import followup_days, rollup, stage_days

        rollup.rebuild(session.connection())
        stage_days.rebuild(session.connection())
        followup_days.rebuild(session.connection())
        session.commit()
        log(f"indexes rebuilt in {time.perf_counter() - t_idx:.1f}s")
    # ANALYZE outside a transaction (PostgreSQL VACUUM needs autocommit)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    elapsed = time.perf_counter() - t_start
    summary = {"database": engine.dialect.name, "customers": customers, "rows": counts, "seconds": round(elapsed, 1)}
    log(f"done in {elapsed:.1f}s: {counts}")
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk", type=int, default=2000, help="customers per batch (each with its children)")
    ap.add_argument("--workers", type=int, default=0, help="row-generating processes (default: CPUs, at most 4)")
    ap.add_argument("--reuse", action="store_true", help="keep an existing benchmark database of the same size")
    args = ap.parse_args(argv)
    if args.reuse and existing_size(args.database_url) == args.customers:
        log(f"reusing existing database with {args.customers} customers")
        migrate_only(args.database_url)
        return
    generate(args.database_url, args.customers, args.seed, args.chunk, args.workers)


if __name__ == "__main__":
    main()
