"""Load test: start `kith serve` on a benchmark database and measure list / filter / search / detail / paging.

    .venv/bin/python bench/load.py --database-url sqlite:///var/bench.db
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kith_bench --workers 2

For each user (bench_admin: sees everything; bench_rep: sees own ~1/50) and each scenario, N concurrent
clients (asyncio, default 16, each with a keep-alive connection of its own) send requests back to back for a
bounded time; latency is measured per request on the client. The timed requests go through a minimal HTTP/1.1
client (`Conn`, below) rather than httpx: the generator shares the 2 cores with the server, and httpx cost
~1 ms of CPU per request, about as much as a detail request costs the server. Prints a table per scenario per user and writes bench/results/<db>-<timestamp>.json.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BENCH_PASSWORD = "bench-pass-2026"
API = "/api/v1"
SCENARIOS = ["list", "list_filter", "search", "detail", "page2"]
PERSON_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "王磊", "李强", "张敏", "杨勇", "赵军", "黄艳", "周杰"]


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------------------------

class Server:
    def __init__(self, database_url: str, workers: int, port: int, cpus: str | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update({
            "KITH_DATABASE_URL": database_url, "KITH_ENVIRONMENT": "development", "KITH_LOG_LEVEL": "WARNING",
            "KITH_ACCESS_TOKEN_MINUTES": "240", "KITH_HOST": "127.0.0.1",
        })
        # a PYTHONPATH given by the caller comes first: the server then runs that checkout's code (an A/B against
        # another version, bench/README.md); otherwise this checkout's
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p)
        code = subprocess.run([sys.executable, "-c", "import kith, os; print(os.path.dirname(kith.__file__))"], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()
        log(f"server code: {code}")
        # PostgreSQL backends serving this database (process title "postgres: [cluster: ]user dbname host(port) …"):
        # their CPU is the database's share of a request, which the server's process group does not include
        self.pg_title = None
        if not database_url.startswith("sqlite"):
            from sqlalchemy.engine import make_url

            u = make_url(database_url)
            self.pg_title = f" {u.username or 'postgres'} {u.database} "
        self.log_path = RESULTS / "server.log"
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        pin = ["taskset", "-c", cpus] if cpus else []
        self.proc = subprocess.Popen(
            [*pin, sys.executable, "-m", "kith.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kith serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}{API}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"kith serve not ready after {timeout}s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's whole process group (the uvicorn master and its workers)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp (the server runs in a session of its own)
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / tick

    def db_cpu_seconds(self) -> float | None:
        """User + system CPU time of the PostgreSQL backends connected to the benchmark database (None on SQLite,
        where the database runs inside the server process). Backends that exit between two readings are lost; the
        server's pooled connections live as long as the server."""
        if self.pg_title is None:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read().replace(b"\0", b" ").decode(errors="replace")
                if not title.startswith("postgres:") or self.pg_title not in title:
                    continue
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()


# ---------------------------------------------------------------------------------------------
# a lean HTTP/1.1 keep-alive client for the timed requests
# ---------------------------------------------------------------------------------------------

class Conn(asyncio.Protocol):
    """One keep-alive connection, one request at a time: GET, then the status and the body (Content-Length
    framing, which is what the server sends for JSON; anything else is an error)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> "Conn":
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            waiter.set_exception(ValueError("response without Content-Length: " + head[0]))
            return
        if len(self.buf) < end + 4 + length:
            return
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        waiter.set_result((int(head[0].split(" ", 2)[1]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))

    async def get(self, target: str, header_block: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header_block + b"\r\n")
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# ---------------------------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------------------------

@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu_s: float | None = None  # the server's process group during the timed part
    db_cpu_s: float | None = None  # PostgreSQL backends during the timed part
    client_cpu_s: float | None = None  # this load generator during the timed part

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return round(lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1000, 1)

        return {
            "requests": len(lat), "errors": self.errors, "rps": round(len(lat) / self.elapsed, 1) if self.elapsed else 0,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None, "max_ms": pct(100),
            "error_samples": self.error_samples[:5],
            **{f"{k}_cpu_ms": (round(v * 1000 / len(lat), 2) if lat and v is not None else None)
               for k, v in (("server", self.server_cpu_s), ("db", self.db_cpu_s), ("client", self.client_cpu_s))},
        }


@dataclass
class UserCtx:
    username: str
    token: str
    ids: list[int]
    terms: list[str]
    total: int
    filtered_pages: bool = True


async def login(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post(f"{API}/auth/login", json={"username": username, "password": BENCH_PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


def search_terms(rng: random.Random, customers: list[dict[str, Any]]) -> list[str]:
    """A mix of 2-character Chinese (company words and person names), pinyin, initials and 4-digit phone fragments."""
    from pypinyin import lazy_pinyin

    terms: list[str] = []
    for c in rng.sample(customers, min(60, len(customers))):
        name = c["name"]
        core = name.replace("股份有限公司", "").replace("集团有限公司", "").replace("有限公司", "")
        i = rng.randrange(max(1, len(core) - 1))
        two = core[i : i + 2]
        terms.append(two)
        terms.append("".join(lazy_pinyin(core[2:4] if len(core) > 4 else two)))
        terms.append("".join(p[0] for p in lazy_pinyin(core[:4])))
        digits = (c.get("phone") or "").lstrip("+")
        if digits.startswith("86"):
            digits = digits[2:]
        if len(digits) >= 8:
            j = rng.randrange(len(digits) - 3)
            terms.append(digits[j : j + 4])
        terms.append(rng.choice(PERSON_NAMES))
    rng.shuffle(terms)
    return terms


async def prepare(client: httpx.AsyncClient, username: str, rng: random.Random) -> UserCtx:
    token = await login(client, username)
    headers = {"Authorization": f"Bearer {token}"}
    ids: list[int] = []
    sample: list[dict[str, Any]] = []
    cursor = None
    total = 0
    for _ in range(10):  # up to 2,000 visible customers
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(f"{API}/customers", params=params, headers=headers)
        r.raise_for_status()
        body = r.json()
        total = body["total"]
        ids += [c["id"] for c in body["items"]]
        sample += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    if total > len(ids) and ids and username == "bench_admin":
        # the admin sees everything: any id up to the highest is fair game (others: the ids collected above)
        ids = list(range(1, max(ids) + 1))
    r = await client.get(f"{API}/customers", params={"limit": 20, "level": "A", "sort": "-updated_at"}, headers=headers)
    r.raise_for_status()
    return UserCtx(username, token, ids, search_terms(rng, sample), total, filtered_pages=bool(r.json()["next_cursor"]))


def scenario_fn(name: str, conn: Conn, user: UserCtx, rng: random.Random) -> Callable[[], Awaitable[tuple[float, int, str]]]:
    header_block = f"Authorization: Bearer {user.token}\r\nAccept: application/json\r\n".encode()

    async def timed(path: str, params: dict[str, Any] | None = None) -> tuple[float, int, bytes]:
        target = path + ("?" + urlencode(params) if params else "")
        t = time.perf_counter()
        status, body = await conn.get(target, header_block)
        return time.perf_counter() - t, status, body

    async def run() -> tuple[float, int, str]:
        if name == "list":
            dt, st, body = await timed(f"{API}/customers", {"limit": 20})
        elif name == "list_filter":
            dt, st, body = await timed(f"{API}/customers", {"limit": 20, "level": "A", "sort": "-updated_at"})
        elif name == "search":
            dt, st, body = await timed(f"{API}/customers", {"limit": 20, "q": rng.choice(user.terms)})
        elif name == "detail":
            dt, st, body = await timed(f"{API}/customers/{rng.choice(user.ids)}")
        elif name == "page2":
            # the first page is not measured; the second (cursor) page is. The filtered, sorted list when it
            # has a second page (keyset on updated_at, id), else the plain list (keyset on id).
            params: dict[str, Any] = {"limit": 20, "level": "A", "sort": "-updated_at"} if user.filtered_pages else {"limit": 20}
            _, st, body = await timed(f"{API}/customers", params)
            if st != 200:
                return 0.0, st, body[:200].decode(errors="replace")
            cursor = json.loads(body).get("next_cursor")
            if not cursor:
                return 0.0, 599, "no next_cursor on the first page"
            dt, st, body = await timed(f"{API}/customers", {**params, "cursor": cursor})
        else:
            raise ValueError(name)
        return dt, st, "" if st == 200 else body[:200].decode(errors="replace")

    return run


async def run_scenario(conns: list[Conn], user: UserCtx, name: str, concurrency: int, duration: float,
                       warmup: float, seed: int, server: "Server | None" = None) -> Result:
    result = Result()

    async def worker(k: int, until: float, record: bool) -> None:
        fn = scenario_fn(name, conns[k], user, random.Random(seed * 100 + k))
        while time.perf_counter() < until:
            try:
                dt, status, err = await fn()
            except (OSError, ValueError) as exc:
                if record:
                    result.errors += 1
                    result.error_samples.append(repr(exc)[:200])
                continue
            if not record:
                continue
            if status == 200:
                result.latencies.append(dt)
            else:
                result.errors += 1
                result.error_samples.append(f"{status}: {err}")

    if warmup > 0:
        end = time.perf_counter() + warmup
        await asyncio.gather(*(worker(k, end, False) for k in range(concurrency)))
    cpu0 = (server.cpu_seconds(), server.db_cpu_seconds()) if server else (None, None)
    own0 = os.times()
    start = time.perf_counter()
    end = start + duration
    await asyncio.gather(*(worker(k, end, True) for k in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    own1 = os.times()
    result.client_cpu_s = own1.user - own0.user + own1.system - own0.system
    if server is not None:
        result.server_cpu_s = server.cpu_seconds() - cpu0[0]
        db1 = server.db_cpu_seconds()
        result.db_cpu_s = db1 - cpu0[1] if db1 is not None and cpu0[1] is not None else None
    return result


async def run_sequential(conn: Conn, user: UserCtx, name: str, count: int, server: "Server", seed: int) -> dict[str, Any]:
    """One request at a time: client latency, and the server's CPU time per request (from /proc). The CPU
    figure is what a request costs the server, independent of how busy the machine is."""
    fn = scenario_fn(name, conn, user, random.Random(seed))
    for _ in range(min(20, count)):  # warm-up: caches, prepared statements
        await fn()
    lat: list[float] = []
    errors = 0
    cpu0, db0, t0 = server.cpu_seconds(), server.db_cpu_seconds(), time.perf_counter()
    for _ in range(count):
        dt, status, _err = await fn()
        if status == 200:
            lat.append(dt)
        else:
            errors += 1
    elapsed, cpu, db1 = time.perf_counter() - t0, server.cpu_seconds() - cpu0, server.db_cpu_seconds()
    lat.sort()
    # page2 sends two requests per sample (only the second is timed)
    per_sample = 2 if name == "page2" else 1
    return {
        "requests": len(lat), "errors": errors, "rps": round(count * per_sample / elapsed, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * (len(lat) - 1)))] * 1000, 2) if lat else None,
        "server_cpu_ms": round(cpu * 1000 / (count * per_sample), 2),
        # PostgreSQL only: the database backends' CPU per request (None on SQLite, where it is part of the server's)
        "db_cpu_ms": round((db1 - db0) * 1000 / (count * per_sample), 2) if db0 is not None and db1 is not None else None,
    }


def print_sequential(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    header = (f"{'user':<14} {'scenario':<12} {'requests':>8} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'CPU ms/req':>10}"
              f" {'DB CPU ms/req':>13}")
    print(header)
    print("-" * len(header))
    for r in rows:
        s = r["stats"]
        print(f"{r['user']:<14} {r['scenario']:<12} {s['requests']:>8} {s['mean_ms']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} "
              f"{s['rps']:>8} {s['server_cpu_ms']:>10} {s.get('db_cpu_ms') if s.get('db_cpu_ms') is not None else '-':>13}")
    sys.stdout.flush()


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    header = (f"{'user':<12} {'scenario':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}"
              f" {'CPU ms/req: server':>18} {'DB':>6} {'client':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        s = r["stats"]
        print(f"{r['user']:<12} {r['scenario']:<12} {s['requests']:>8} {s['p50_ms'] or '-':>8} {s['p95_ms'] or '-':>8} "
              f"{s['p99_ms'] or '-':>8} {s['rps']:>8} {s['errors']:>7} {s.get('server_cpu_ms') or '-':>18} "
              f"{s.get('db_cpu_ms') or '-':>6} {s.get('client_cpu_ms') or '-':>7}")
    sys.stdout.flush()


async def run_all(base_url: str, users: list[str], scenarios: list[str], concurrency: int, duration: float, warmup: float,
                  seed: int, sequential: int = 0, server: "Server | None" = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    out = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:  # set-up only
        contexts = [await prepare(client, u, rng) for u in users]
    for ctx in contexts:
        log(f"{ctx.username}: sees {ctx.total} customers; {len(ctx.terms)} search terms")
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    conns = [await Conn.open(host, int(port)) for _ in range(concurrency)]
    try:
        if sequential:
            assert server is not None
            for ctx in contexts:
                for name in scenarios:
                    stats = await run_sequential(conns[0], ctx, name, sequential, server, seed)
                    out.append({"user": ctx.username, "visible_customers": ctx.total, "scenario": name, "mode": "sequential",
                                "stats": stats})
                    log(f"{ctx.username:<12} {name:<12} sequential n={stats['requests']} mean={stats['mean_ms']} "
                        f"p95={stats['p95_ms']} rps={stats['rps']} server_cpu_ms={stats['server_cpu_ms']} db_cpu_ms={stats['db_cpu_ms']}")
            return out
        for ctx in contexts:
            for name in scenarios:
                res = await run_scenario(conns, ctx, name, concurrency, duration, warmup, seed, server)
                stats = res.summary()
                out.append({"user": ctx.username, "visible_customers": ctx.total, "scenario": name, "stats": stats})
                log(f"{ctx.username:<12} {name:<12} n={stats['requests']} p50={stats['p50_ms']} p95={stats['p95_ms']} "
                    f"p99={stats['p99_ms']} rps={stats['rps']} errors={stats['errors']} server_cpu_ms={stats['server_cpu_ms']} "
                    f"db_cpu_ms={stats['db_cpu_ms']} client_cpu_ms={stats['client_cpu_ms']}")
    finally:
        for conn in conns:
            conn.close()
    return out


def machine_speed() -> float:
    """Milliseconds for a fixed pure-Python loop (best of 3), measured before the server starts. The same code ran
    3-5x slower on one day than on another on "the same" 2-core machine (performance.md, session 6): this figure
    tells which kind of day a report comes from, so reports are compared only with reports of a similar figure."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def run(database_url: str, *, workers: int | None = None, users: list[str] | None = None, scenarios: list[str] | None = None,
        concurrency: int = 16, duration: float = 20, warmup: float = 2, seed: int = 7, extra: dict[str, Any] | None = None,
        sequential: int = 0, server_cpus: str | None = None, client_cpus: str | None = None) -> dict[str, Any]:
    db = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    workers = workers or 2  # one server process per core of this 2-core machine, on either database (ADR 0025)
    users = users or ["bench_admin", "bench_rep"]
    scenarios = scenarios or SCENARIOS
    speed = machine_speed()
    log(f"machine speed: a 2,000,000-step Python loop takes {speed} ms (lower is faster)")
    port = free_port()
    log(f"starting kith serve on 127.0.0.1:{port} ({db}, {workers} worker(s))"
        + (f", server pinned to CPU {server_cpus}" if server_cpus else "") + (f", client to CPU {client_cpus}" if client_cpus else ""))
    server = Server(database_url, workers, port, cpus=server_cpus)
    own0 = os.times()  # the load generator's own CPU (not its children's: the server is one of them)
    if client_cpus:
        os.sched_setaffinity(0, {int(c) for c in client_cpus.split(",")})
    try:
        server.wait_ready()
        try:
            import uvloop  # type: ignore[import-not-found]

            runner = uvloop.run if hasattr(uvloop, "run") else asyncio.run
        except ImportError:
            runner = asyncio.run
        rows = runner(run_all(server.url, users, scenarios, concurrency, duration, warmup, seed, sequential, server))
    finally:
        server.stop()
    own1 = os.times()
    client_cpu = round(own1.user - own0.user + own1.system - own0.system, 1)
    report = {
        "database": db, "database_url": database_url.split("@")[-1], "workers": workers,
        "concurrency": 1 if sequential else concurrency, "sequential": sequential or None,
        "server_cpus": server_cpus, "client_cpus": client_cpus,
        "duration_s": duration, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "loadavg_after": os.getloadavg(), "python": platform.python_version(),
                 "loop_ms": speed},
        "client_cpu_s": client_cpu,
        "results": rows, **(extra or {}),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{db}-{'seq-' if sequential else ''}{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    if sequential:
        print_sequential(f"== {db} ({workers} worker(s), one request at a time, {sequential} per scenario; "
                         f"load average {os.getloadavg()[0]:.1f}; machine speed {speed} ms) ==", rows)
        log(f"results written to {path.relative_to(ROOT)}")
        report["path"] = str(path)
        return report
    print_table(f"== {db} ({workers} worker(s), {concurrency} concurrent clients, {duration:.0f}s per scenario; "
                f"load average {os.getloadavg()[0]:.1f}; load generator CPU {client_cpu}s; machine speed {speed} ms) ==", rows)
    log(f"results written to {path.relative_to(ROOT)}")
    report["path"] = str(path)
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Kith API load test against a benchmark database")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--workers", type=int, default=None, help="uvicorn workers (default 2: one per core here)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--duration", type=float, default=20, help="seconds per scenario per user")
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--users", default="bench_admin,bench_rep")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--sequential", type=int, default=0, metavar="N",
                    help="instead of the concurrent run: N requests one at a time per scenario, with the server's CPU ms per request")
    ap.add_argument("--server-cpus", default=None, help="pin the server to these CPUs (taskset -c list, e.g. 0)")
    ap.add_argument("--client-cpus", default=None, help="pin the load generator to these CPUs (e.g. 1)")
    args = ap.parse_args(argv)
    run(args.database_url, workers=args.workers, users=args.users.split(","), scenarios=args.scenarios.split(","),
        concurrency=args.concurrency, duration=args.duration, warmup=args.warmup, sequential=args.sequential,
        server_cpus=args.server_cpus, client_cpus=args.client_cpus)


if __name__ == "__main__":
    main()
