"""Runs the Python suite on SQLite and on PostgreSQL in parallel and prints one closing line.

The PostgreSQL leg is skipped with a printed warning only when no server answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("KITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_answers() -> tuple[bool, str]:
    try:
        import psycopg

        dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means no server for the leg
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)


def main() -> int:
    legs = ["sqlite"]
    ok, why = postgres_answers()
    if ok:
        legs.append("postgresql")
    else:
        print(f"WARNING: PostgreSQL at {PG_URL} does not answer ({why}); the PostgreSQL leg is SKIPPED.", flush=True)
    extra = sys.argv[1:]
    procs = {}
    logs = {}
    start = time.time()
    for leg in legs:
        log = ROOT / "var" / f"test-{leg}.log"
        log.parent.mkdir(exist_ok=True)
        logs[leg] = log
        env = {**os.environ, "KITH_TEST_DB": leg, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--ignore=tests/e2e", *extra]
        procs[leg] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        print(f"started the {leg} leg: {' '.join(cmd[2:])}  (log: {log.relative_to(ROOT)})", flush=True)
    totals = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    worst = 0
    for leg, proc in procs.items():
        code = proc.wait()
        text = logs[leg].read_text(errors="replace")
        print(f"\n===== {leg} leg (exit {code}) =====")
        lines = text.rstrip().splitlines()
        # failures and the summary in full, the progress dots trimmed
        interesting = [ln for ln in lines if not re.fullmatch(r"[.sFExX]+\s*(\[\s*\d+%\])?", ln.strip())]
        print("\n".join(interesting[-400:]))
        summary = lines[-1] if lines else ""
        for key, pattern in (("passed", r"(\d+) passed"), ("failed", r"(\d+) failed"), ("skipped", r"(\d+) skipped"), ("errors", r"(\d+) errors?")):
            m = re.search(pattern, summary)
            if m:
                totals[key] += int(m.group(1))
        if code not in (0,):
            worst = code or 1
    e2e = ROOT / "tests" / "e2e"
    if e2e.is_dir() and any(e2e.glob("test_*.py")) and os.environ.get("KITH_SKIP_E2E") != "1":
        print("\n===== browser tests (Playwright, Debian Chromium) =====", flush=True)
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e"], cwd=ROOT,
                              capture_output=True, text=True, env={**os.environ, "KITH_TEST_DB": "sqlite"})
        out = proc.stdout + proc.stderr
        print(out[-20000:])
        lines = out.rstrip().splitlines()
        summary = lines[-1] if lines else ""
        for key, pattern in (("passed", r"(\d+) passed"), ("failed", r"(\d+) failed"), ("skipped", r"(\d+) skipped"), ("errors", r"(\d+) errors?")):
            m = re.search(pattern, summary)
            if m:
                totals[key] += int(m.group(1))
        if proc.returncode != 0:
            worst = proc.returncode or 1
    frontend = ROOT / "frontend"
    if (frontend / "package.json").is_file() and os.environ.get("KITH_SKIP_FRONTEND") != "1":
        print("\n===== front end (vitest) =====", flush=True)
        proc = subprocess.run(["npm", "run", "--silent", "test"], cwd=frontend, capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"})
        out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
        print(out[-20000:])
        m = re.search(r"Tests\s+(?:(\d+) failed\s*\|\s*)?(\d+) passed", out)
        if m:
            totals["failed"] += int(m.group(1) or 0)
            totals["passed"] += int(m.group(2))
        if proc.returncode != 0:
            worst = proc.returncode or 1
            if not m:
                totals["errors"] += 1
    elapsed = time.time() - start
    failed = totals["failed"] + totals["errors"]
    print(f"\nlegs: {', '.join(legs)}; {elapsed:.0f} s")
    print(f"total: {totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    if totals["passed"] == 0:
        print("no test ran: failing")
        return 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
