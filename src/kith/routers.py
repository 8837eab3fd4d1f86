"""Every API router, in one place."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI, prefix: str) -> None:
    from kith.auth.router import router as auth
    from kith.customers.router import router as customers

    for router in (auth, customers):
        app.include_router(router, prefix=prefix)
