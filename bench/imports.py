"""Import benchmark: a 100,000-row xlsx (10 % duplicates, 10 % bad rows) imported with validation and
de-duplication against 100,000 existing customers — the whole wizard path (upload and header detection,
analysis = cleaning + matching, the chunked run with its backup on SQLite) in a fresh process whose
elapsed time and peak RSS are reported. Target: < 60 s and < 1 GB on SQLite and PostgreSQL.

    .venv/bin/python -m bench.imports --db sqlite
    .venv/bin/python -m bench.imports --db postgresql          # KITH_BENCH_PG_URL or …/kith_bench_imports
    .venv/bin/python -m bench.imports --db sqlite --rows 20000 --existing 20000   # a quick look

The databases (var/bench_imports.db, kith_bench_imports) are rebuilt on every run: 100,000 customers
bulk-loaded with their search index, an admin `bench_import`, then the file is generated and imported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "src")):
    if p not in sys.path:
        sys.path.insert(0, p)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kith_bench_imports"
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "重庆", "天津", "长沙", "厦门", "青岛"]
PROVINCE = {"北京": "北京", "上海": "上海", "广州": "广东", "深圳": "广东", "杭州": "浙江", "南京": "江苏", "苏州": "江苏", "成都": "四川",
            "武汉": "湖北", "西安": "陕西", "重庆": "重庆", "天津": "天津", "长沙": "湖南", "厦门": "福建", "青岛": "山东"}
CHARS = "华信达恒泰瑞丰鑫源盛宏博远新晨星海蓝天翔宇嘉和鼎立中安康顺润德诚益美佳联创智汇云峰金银铭腾跃凯旭辰宸睿卓越东方"
TRADES = ["科技", "软件", "贸易", "制造", "电子", "物流", "餐饮", "建材", "医药", "传媒", "咨询", "能源", "化工", "机械", "服饰"]
SOURCES = ["展会", "转介绍", "官网", "电话营销", "渠道"]


def log(msg: str) -> None:
    print(f"[bench.imports {time.strftime('%H:%M:%S')}] {msg}", flush=True)


_USED: set[str] = set()


def company(rng: random.Random, i: int) -> tuple[str, str]:
    """A distinct company name (city + 2–4 character brand + trade + legal suffix), deterministic per rng."""
    while True:
        city = rng.choice(CITIES)
        brand = "".join(rng.sample(CHARS, rng.choice((2, 3, 3, 4))))
        name = f"{city}{brand}{TRADES[i % len(TRADES)]}有限公司"
        if name not in _USED:
            _USED.add(name)
            return city, name


def rng_area(i: int) -> str:
    return ["10", "21", "20", "755", "571", "25", "512", "28", "27", "29"][i % 10]


def setup(url: str, existing: int, seed: int) -> None:
    """Fresh database, migrated and seeded, with `existing` customers bulk-loaded (search index included)."""
    from sqlalchemy import insert, select

    from bench.generate import recreate_database
    from kith.auth.models import Department, Role, User
    from kith.auth.security import hash_password
    from kith.bootstrap import bootstrap
    from kith.core import clock
    from kith.core.normalize import grams_of, normalize_company
    from kith.customers.models import Customer
    from kith.db.migrate import upgrade
    from kith.db.session import make_engine, session_factory
    from kith.search.index import search_parts, sqlite_index_rows

    recreate_database(url)
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(seed)
    with session_factory(engine)() as s:
        bootstrap(s)
        dept = Department(name="总部", path="/")
        s.add(dept)
        s.flush()
        dept.path = f"/{dept.id}/"
        admin = User(username="bench_import", display_name="导入管理员", password_hash=hash_password("bench-pass-2026"),
                     department_id=dept.id)
        admin.roles = [s.scalar(select(Role).where(Role.code == "admin"))]
        s.add(admin)
        s.commit()
        now = clock.now()
        t0 = time.perf_counter()
        chunk: list[dict] = []
        fts: list[tuple[int, str]] = []
        for i in range(existing):
            city, name = company(rng, i)
            phone = f"+86{rng_area(i)}{60000000 + i}"
            email = f"contact{i}@corp{i % 997}.cn"
            values, names = search_parts(SimpleNamespace(__tablename__="customers", name=name, phone=phone, email=email))
            chunk.append({"id": i + 1, "name": name, "name_key": normalize_company(name), "province": PROVINCE[city], "city": city,
                          "phone": phone, "email": email, "industry": TRADES[i % len(TRADES)], "status": "active",
                          "owner_id": admin.id, "department_id": dept.id, "department_path": dept.path, "created_by_id": admin.id,
                          "created_at": now, "updated_at": now, "version": 1, "custom": {}, "search_text": " ".join(values),
                          "search_grams": grams_of(values), "search_names": " ".join(names)})
            fts.append((i + 1, " ".join(values)))
            if len(chunk) == 5000:
                s.execute(insert(Customer), chunk)
                sqlite_index_rows(s, "customers", fts)
                chunk, fts = [], []
        if chunk:
            s.execute(insert(Customer), chunk)
            sqlite_index_rows(s, "customers", fts)
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text

            s.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))"))
            s.commit()
            s.execute(text("ANALYZE"))
        s.commit()
        log(f"{existing} existing customers loaded in {time.perf_counter() - t0:.1f}s")
    engine.dispose()


def make_file(path: Path, rows: int, existing: int, seed: int) -> dict[str, int]:
    """rows: 80 % new, 5 % duplicates of existing customers, 5 % duplicates of earlier rows, 10 % bad."""
    from openpyxl import Workbook

    rng = random.Random(seed + 1)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(["客户导入（基准测试）"])
    ws.append(["客户名称", "联系电话", "电子邮箱", "省份", "城市", "行业", "客户来源", "备注"])
    kinds = {"new": 0, "dup_existing": 0, "dup_file": 0, "bad": 0}
    earlier: list[list] = []
    for n in range(rows):
        r = rng.random()
        if r < 0.10:
            kinds["bad"] += 1
            _, name = company(rng, existing + 500_000 + n)
            bad = rng.choice(["mobile", "email", "name"])
            ws.append([None if bad == "name" else name, f"1{rng.randint(10**8, 10**9 - 1)}" if bad == "mobile" else None,
                       "broken@" if bad == "email" else None, None, None, None, None, "坏行"])
        elif r < 0.15 and existing:
            kinds["dup_existing"] += 1
            i = rng.randrange(existing)
            # the same company as typed by someone else (legal suffix dropped, phone spaced): a placeholder
            # here, the name is filled in by _rewrite_existing_names
            name = f"__existing__{i}"
            ws.append([name, f"0{rng_area(i)} {60000000 + i}", None, None, None, "更新行业", None, None])
        elif r < 0.20 and earlier:
            kinds["dup_file"] += 1
            ws.append(list(rng.choice(earlier)))
        else:
            kinds["new"] += 1
            i = existing + n
            city, name = company(rng, i)
            row = [f" {name} ", f"0{rng_area(i)}-{60000000 + i}", f"Sales{i}@Corp{i % 997}.CN", f"{PROVINCE[city]}市" if PROVINCE[city]
                   in ("北京", "上海", "天津", "重庆") else f"{PROVINCE[city]}省", f"{city}市", TRADES[i % len(TRADES)],
                   rng.choice(SOURCES), None]
            ws.append(row)
            if len(earlier) < 5000:
                earlier.append(row)
    wb.save(path)
    return kinds


def run_import(url: str, file: Path, data_dir: Path) -> dict:
    """In this (fresh) process: the wizard's path end to end, timed."""
    os.environ["KITH_DATABASE_URL"] = url
    os.environ["KITH_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("KITH_JOBS_EAGER", "false")
    from sqlalchemy import select

    from kith.access import load_actor
    from kith.auth.models import User
    from kith.config import get_settings
    from kith.core import jobs
    from kith.db.session import make_engine, session_factory
    from kith.imports import service
    from kith.imports.models import ImportBatch

    jobs.configure(get_settings())
    engine = make_engine(url)
    t0 = time.perf_counter()
    with session_factory(engine)() as s:
        user = s.scalar(select(User).where(User.username == "bench_import"))
        actor = load_actor(s, user)
        batch = service.create_batch(s, actor, file_name=file.name, data=file.read_bytes(), kind="customer")
        t_upload = time.perf_counter() - t0
        batch.options = {**batch.options, "rules": {**service.DEFAULT_RULES, "existing": "merge", "min_score": 0.9}}
        counts = service.analyse(s, actor, batch)
        batch.status = "running"
        s.commit()
        t_analyse = time.perf_counter() - t0
        batch_id = batch.id
        service.run_batch(s, batch_id)
        s.expire_all()
        batch = s.get(ImportBatch, batch_id)
        elapsed = time.perf_counter() - t0
        result = {"status": batch.status, "counts": batch.counts, "analysis": counts, "upload_s": round(t_upload, 1),
                  "analyse_s": round(t_analyse, 1), "elapsed_s": round(elapsed, 1), "backup": batch.backup_path,
                  "cpu_s": round(time.process_time(), 1),
                  "cpu_children_s": round(sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]), 1),
                  "phases_s": {"upload": round(t_upload, 1), "analyse": round(t_analyse - t_upload, 1),
                               "run": round(elapsed - t_analyse, 1)},
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "load_average": [round(x, 1) for x in os.getloadavg()]}
    engine.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Kith import benchmark")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--existing", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sqlite-url", default=f"sqlite:///{(ROOT / 'var' / 'bench_imports.db').as_posix()}")
    ap.add_argument("--pg-url", default=os.environ.get("KITH_BENCH_IMPORTS_PG_URL", DEFAULT_PG))
    ap.add_argument("--phase", choices=["all", "import"], default="all", help=argparse.SUPPRESS)
    ap.add_argument("--file", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    url = args.sqlite_url if args.db == "sqlite" else args.pg_url
    data_dir = ROOT / "var" / "bench_imports"
    if args.phase == "import":
        print("RESULT " + json.dumps(run_import(url, Path(args.file), data_dir), ensure_ascii=False), flush=True)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"{args.db}: loading {args.existing} existing customers")
    setup(url, args.existing, args.seed)
    file = data_dir / f"import-{args.rows}.xlsx"
    t = time.perf_counter()
    kinds = make_file(file, args.rows, args.existing, args.seed)
    _rewrite_existing_names(file, args.existing, args.seed)
    log(f"file {file.name} ({file.stat().st_size // 1024} KiB) written in {time.perf_counter() - t:.1f}s: {kinds}")
    proc = subprocess.run([sys.executable, "-m", "bench.imports", "--db", args.db, "--phase", "import", "--file", str(file),
                           "--sqlite-url", args.sqlite_url, "--pg-url", args.pg_url], cwd=ROOT, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        print(proc.stdout[-3000:], proc.stderr[-5000:])
        raise SystemExit(1)
    result = json.loads(line[7:])
    counts = result["counts"]
    total = sum(v for k, v in counts.items() if k != "total")
    ok = result["status"] == "done" and total == counts["total"] == args.rows
    verdict = "PASS" if ok and result["elapsed_s"] < 60 and result["peak_rss_mb"] < 1024 else "FAIL"
    print(json.dumps({"database": args.db, "rows": args.rows, "existing": args.existing, "file": kinds, **result, "verdict": verdict},
                     ensure_ascii=False, indent=1))
    print(f"[bench.imports] {args.db}: {args.rows} rows against {args.existing} customers in {result['elapsed_s']} s, "
          f"peak RSS {result['peak_rss_mb']} MB → {verdict} (target < 60 s, < 1024 MB)")


def _rewrite_existing_names(file: Path, existing: int, seed: int) -> None:
    """Replace the __existing__<i> placeholders with the existing customer's name as someone else typed it
    (legal suffix dropped). Kept apart so make_file stays streaming (write-only workbook)."""
    from openpyxl import Workbook, load_workbook

    rng = random.Random(seed)
    _USED.clear()
    names = [company(rng, i)[1] for i in range(existing)]
    src = load_workbook(file, read_only=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    for row in src.worksheets[0].iter_rows(values_only=True):
        row = list(row)
        if row and isinstance(row[0], str) and row[0].startswith("__existing__"):
            row[0] = names[int(row[0][12:])].replace("有限公司", "")
        ws.append(row)
    src.close()
    wb.save(file)


if __name__ == "__main__":
    main()
