"""`python -m bench` (what `make bench` runs): generate or reuse the benchmark databases, then load-test each.

    .venv/bin/python -m bench                      # 100,000 customers, SQLite and PostgreSQL
    .venv/bin/python -m bench --customers 20000 --only sqlite --duration 10
    .venv/bin/python -m bench --regenerate         # rebuild the databases even if they have the same size
    .venv/bin/python -m bench bigdata              # reports + timeline at 1,000,000 customers / 5,000,000 events (bench/bigdata.py)

SQLite: var/bench.db. PostgreSQL: KITH_BENCH_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/kith_bench (skipped with a warning when the server is unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "src")):
    if p not in sys.path:
        sys.path.insert(0, p)

import os  # noqa: E402

from bench import generate, load  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kith_bench"


def pg_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as exc:  # noqa: BLE001
        print(f"[bench] PostgreSQL unreachable ({exc.__class__.__name__}); skipping it", flush=True)
        return False


def main(argv: list[str] | None = None) -> None:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in[:1] == ["bigdata"]:  # `python -m bench bigdata [...]` = `python -m bench.bigdata [...]` (reports, timeline at 1M/5M)
        from bench import bigdata

        bigdata.main(args_in[1:])
        return
    if args_in[:1] == ["dedup"]:  # `python -m bench dedup [...]` = `python -m bench.dedup [...]` (FEBRL + Chinese F1)
        from bench import dedup

        raise SystemExit(dedup.main(args_in[1:]))
    ap = argparse.ArgumentParser(description="Kith benchmark: generate (or reuse) databases, then load-test them "
                                             "(`python -m bench bigdata --help`: reports and timeline at 1M customers)")
    ap.add_argument("--customers", type=int, default=int(os.environ.get("BENCH_CUSTOMERS", 100_000)))
    ap.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--sqlite-url", default=f"sqlite:///{(ROOT / 'var' / 'bench.db').as_posix()}")
    ap.add_argument("--pg-url", default=os.environ.get("KITH_BENCH_PG_URL", DEFAULT_PG))
    args = ap.parse_args(argv)

    targets = []
    if args.only in (None, "sqlite"):
        targets.append(("sqlite", args.sqlite_url))
    if args.only in (None, "postgresql") and pg_reachable(args.pg_url):
        targets.append(("postgresql", args.pg_url))

    reports = []
    for db, url in targets:
        gen_info = {"generated": False}
        if args.regenerate or generate.existing_size(url) != args.customers:
            summary = generate.generate(url, args.customers)
            gen_info = {"generated": True, "generation": summary}
        else:
            print(f"[bench] reusing {db} database with {args.customers} customers (migrating it to head)", flush=True)
            generate.migrate_only(url)
        if args.generate_only:
            continue
        report = load.run(url, concurrency=args.concurrency, duration=args.duration,
                          extra={"customers": args.customers, **gen_info})
        reports.append(report)

    if reports:
        print("\n================ summary ================")
        for r in reports:
            gen = r.get("generation")
            note = f"generated in {gen['seconds']}s" if gen else "reused"
            load.print_table(f"{r['database']}: {r['customers']} customers ({note}), {r['workers']} worker(s), "
                             f"{r['concurrency']} clients", r["results"])
        print(json.dumps({r["database"]: r["path"] for r in reports}, indent=1))


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"[bench] total {time.perf_counter() - t:.0f}s", flush=True)
