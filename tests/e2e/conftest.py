"""Browser tests: a real Kith server (uvicorn, fresh SQLite with demo data) driven by Debian's Chromium.

Skipped only when the web UI has not been built (src/kith/web/dist/index.html missing);
`make test` always builds it first.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "src" / "kith" / "web" / "dist" / "index.html"
AXE_JS = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "kith-demo-2026"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def _kith_bin() -> str:
    venv = Path(sys.executable).parent / "kith"
    if venv.exists():
        return str(venv)
    found = shutil.which("kith")
    if not found:
        raise RuntimeError("the kith command is not installed in this environment")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if DIST_INDEX.exists():
        return
    reason = f"web UI not built: {DIST_INDEX.relative_to(ROOT)} is missing (run `make frontend` or `cd frontend && npm run build`)"
    print(f"\n[e2e] SKIPPING browser tests: {reason}", flush=True)
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(marker)


class Server:
    def __init__(self, base: str) -> None:
        self.base = base
        self._tokens: dict[str, str] = {}

    def api(self, method: str, path: str, user: str | None = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + urllib.parse.quote(path, safe="/?&=%:"), data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                raw = res.read()
                return res.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def token(self, user: str) -> str:
        if user not in self._tokens:
            status, body = self.api("POST", "/api/v1/auth/login", body={"username": user, "password": PASSWORD})
            assert status == 200, body
            self._tokens[user] = body["access_token"]
        return self._tokens[user]


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if not DIST_INDEX.exists():
        pytest.skip("web UI not built")
    tmp = Path(tempfile.mkdtemp(prefix="kith-e2e-"))
    port = _free_port()
    env = {
        **os.environ,
        "KITH_DATABASE_URL": f"sqlite:///{tmp / 'kith.db'}",
        "KITH_DEMO_MODE": "true",
        "PYTHONUNBUFFERED": "1",
    }
    kith = _kith_bin()
    subprocess.run([kith, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([kith, "demo", "--customers", "80"], env=env, check=True, capture_output=True, timeout=300)
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen([kith, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kith serve exited with {proc.returncode}: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/api/v1/readyz", timeout=2) as res:
                    if res.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("kith serve did not become ready within 60 s")
            time.sleep(0.2)
        yield Server(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _new_page(browser: Any, server: Server, viewport: dict[str, int]) -> Any:
    ctx = browser.new_context(viewport=viewport, base_url=server.base, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(10_000)
    return ctx.new_page()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    pg = _new_page(browser, server, DESKTOP)
    yield pg
    pg.context.close()


@pytest.fixture
def phone_page(browser: Any, server: Server) -> Iterator[Any]:
    pg = _new_page(browser, server, PHONE)
    yield pg
    pg.context.close()


def login(page: Any, user: str, *, via_form: bool = True) -> None:
    """Log in through the login form and wait for the app shell."""
    page.goto("/login")
    page.locator("#login-username").fill(user)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("[data-test=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.locator(".app-header").wait_for()


def shot(page: Any, name: str) -> Path:
    """Save a screenshot under docs/screenshots/ (the page's viewport, not the full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.wait_for_timeout(150)  # let transitions settle
    # a table's loading mask fades out after its data arrived; on a slow machine the picture caught the spinner
    try:
        page.wait_for_function(
            "() => ![...document.querySelectorAll('.el-loading-mask')].some(e => e.offsetParent !== null)", timeout=5000)
    except Exception:  # noqa: BLE001 - a mask still shown after 5 s is what the page looks like: take it as it is
        pass
    # a dialog or drawer still fading in showed the page through it (duplicates-compare-phone): wait for every
    # finite CSS animation and transition to end (spinners loop forever and are not waited for)
    try:
        page.wait_for_function(
            "() => document.getAnimations().every(a => a.playState !== 'running'"
            " || a.effect?.getComputedTiming?.().iterations === Infinity)", timeout=5000)
    except Exception:  # noqa: BLE001 - still moving after 5 s: take the picture as it is
        pass
    # Success toasts would cover the header in every picture; they vanish after 3 s anyway.
    page.evaluate("document.querySelectorAll('.el-message').forEach(e => e.remove())")
    page.screenshot(path=str(path))
    return path


def axe(page: Any, name: str, fail_on: tuple[str, ...] = ("critical",)) -> list[dict[str, Any]]:
    """Run axe-core on the page; print serious violations, return those whose impact is in `fail_on`."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, { resultTypes: ['violations'] });"
        " return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) })) }"
    )
    for v in result:
        if v["impact"] in ("serious", "critical"):
            print(f"[axe {name}] {v['impact']}: {v['id']} — {v['help']} @ {v['nodes']}")
    return [v for v in result if v["impact"] in fail_on]
