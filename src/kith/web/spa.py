"""Serves the built single-page app (frontend/ builds into src/kith/web/dist, git-ignored)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

DIST = Path(__file__).parent / "dist"

_PLACEHOLDER = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>Kith</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>Kith</h1>
<p>The web UI has not been built. Run <code>make run</code> (it builds <code>frontend/</code>),
or use the API: <a href="/docs">/docs</a>.</p></body></html>"""


def mount_spa(app: FastAPI) -> None:
    if (DIST / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=DIST / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str):
        if path.startswith(("api/", "docs", "openapi.json", "metrics")):
            from kith.core.errors import KithError

            raise KithError(404, "not_found")
        candidate = (DIST / path).resolve()
        if path and candidate.is_file() and DIST.resolve() in candidate.parents:
            return FileResponse(candidate)
        index = DIST / "index.html"
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_PLACEHOLDER)
