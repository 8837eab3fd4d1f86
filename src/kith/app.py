"""create_app(): routers under /api/v1, the SPA at /, error handlers, request ids, metrics."""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

import structlog

from kith import __version__
from kith.config import Settings, get_settings
from kith.core import logging as klog
from kith.core.errors import FieldError, KithError
from kith.core.i18n import current_language, negotiate, t
from kith.db.session import get_engine

API = "/api/v1"

_PYDANTIC_CODES = {
    "missing": "required",
    "string_too_long": "too_long",
    "string_too_short": "required",
    "too_long": "too_long",
    "too_short": "too_short",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "int_parsing": "invalid_number",
    "int_type": "invalid_number",
    "int_from_float": "invalid_number",
    "float_parsing": "invalid_number",
    "float_type": "invalid_number",
    "decimal_parsing": "invalid_number",
    "decimal_type": "invalid_number",
    "greater_than_equal": "invalid_number",
    "less_than_equal": "invalid_number",
    "greater_than": "invalid_number",
    "less_than": "invalid_number",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_type": "invalid_date",
    "datetime_parsing": "invalid_datetime",
    "datetime_from_date_parsing": "invalid_datetime",
    "datetime_type": "invalid_datetime",
    "bool_parsing": "invalid_boolean",
    "bool_type": "invalid_boolean",
    "string_type": "invalid_type",
    "list_type": "invalid_type",
    "dict_type": "invalid_type",
    "model_type": "invalid_type",
    "json_invalid": "invalid_json",
    "extra_forbidden": "unknown_field",
    "string_pattern_mismatch": "invalid",
    "value_error": "invalid",
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kith_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("kith_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


def _error_response(request: Request, err: KithError) -> JSONResponse:
    rid = getattr(request.state, "request_id", "-")
    headers = dict(err.headers or {})
    headers["X-Request-ID"] = rid
    return JSONResponse(err.body(rid), status_code=err.status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    # drop pydantic's function-validator tags such as "function-before[...]"
    parts = [p for p in parts if not p.startswith(("function-", "constrained-"))]
    return ".".join(parts) or "body"


class RequestContext:
    """Pure ASGI middleware: request id, language, metrics and one log line per API request."""

    def __init__(self, app, default_language: str, metrics: "Metrics") -> None:
        self.app = app
        self.default_language = default_language
        self.metrics = metrics
        self.log = structlog.get_logger("kith.http")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        lang = negotiate(headers.get("accept-language"), self.default_language)
        token = current_language.set(lang)
        structlog.contextvars.bind_contextvars(request_id=rid)
        start = time.perf_counter()
        status = [500]

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = rid
                out["Content-Language"] = lang
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            current_language.reset(token)
            elapsed = time.perf_counter() - start
            route_path = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route_path, str(status[0])).inc()
            self.metrics.latency.labels(method, route_path).observe(elapsed)
            path = scope.get("path", "")
            if path.startswith(API):
                self.log.info("request", method=method, path=path, status=status[0], ms=round(elapsed * 1000, 1),
                              user_id=state.get("user_id"))
            structlog.contextvars.unbind_contextvars("request_id")


def _warm_and_freeze() -> None:
    """Load what the first requests would load (every model, the pinyin and phone-number tables), then move all
    of it out of the garbage collector's view: a full collection then walks only what requests allocate, not the
    ~400,000 long-lived objects of the process (a 50–100 ms pause at random under load otherwise)."""
    import gc

    import kith.db.models  # noqa: F401
    from kith.core.normalize import display_phone, search_values

    search_values(["预热客户有限公司"], ["13812345678", "010-12345678"])
    display_phone("+861012345678")
    display_phone("+8613812345678")
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    problems = settings.check_production()
    if problems:
        raise RuntimeError("; ".join(problems))
    klog.setup(settings.log_json, settings.log_level)
    from kith.audit import service as audit

    audit.configure(settings.secret_key, settings.effective_database_url)
    log = structlog.get_logger("kith.http")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        # How many requests run their blocking part at once (ADR 0025). More threads than the work can use
        # only make them queue for the GIL: SQLite runs in this process, so its queries are this process's CPU.
        threads = settings.request_threads or (2 if settings.is_sqlite else 8)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if settings.environment != "test":  # the test suite builds an app per test: no full collection each time
            _warm_and_freeze()
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="Kith CRM API",
        version=__version__,
        description="Kith: open-source, self-hosted CRM. Conventions: see docs/api.md.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = get_engine(settings)
    metrics = Metrics()
    app.state.metrics = metrics

    app.add_middleware(RequestContext, default_language=settings.default_language, metrics=metrics)

    def _log_denial(request: Request, exc: KithError) -> None:
        """Permission denials go to the audit log (in their own transaction: the request's was rolled back)."""
        from kith.audit import service as audit
        from kith.core.deps import client_info
        from kith.db.session import session_factory

        try:
            with session_factory(app.state.engine)() as s:
                s.info["audit"] = {**client_info(request), "actor_id": getattr(request.state, "user_id", None),
                                   "actor_name": getattr(request.state, "actor_name", None)}
                audit.record(s, "denied", note=f"{request.method} {request.url.path}"[:300],
                             changes={"code": exc.code, "fields": [f.field for f in exc.fields]})
                s.commit()
        except Exception:  # noqa: BLE001 - never turn a 403 into a 500
            log.exception("audit_denial_failed")

    @app.exception_handler(KithError)
    async def kith_error(request: Request, exc: KithError):
        if exc.status == 403:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(_log_denial, request, exc)
        return _error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        fields = []
        for e in exc.errors():
            etype = e.get("type", "value_error")
            code = etype if etype in _MESSAGES_KEYS else _PYDANTIC_CODES.get(etype, "invalid")
            params = dict(e.get("ctx") or {})
            if code == "too_long" and "max_length" in params:
                params["max"] = params["max_length"]
            if code == "invalid_choice" and "expected" in params:
                params["choices"] = params["expected"]
            loc = tuple(e.get("loc", ()))
            name = _field_name(loc)
            if code == "invalid_json":
                name = "body"
            fields.append(FieldError(name, code, {k: v for k, v in params.items() if isinstance(v, (str, int, float))}))
        return _error_response(request, KithError(422, "validation_error", fields=fields))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}.get(exc.status_code, "invalid")
        if exc.status_code >= 500:
            code = "internal_error"
        return _error_response(request, KithError(exc.status_code, code, headers=getattr(exc, "headers", None)))

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError):
        return _error_response(request, KithError(412, "precondition_failed"))

    def _bad_value(request: Request, exc: Exception):
        log.info("bad_value", error=repr(exc)[:200])
        return _error_response(request, KithError(422, "validation_error", fields=[FieldError("body", "invalid")]))

    @app.exception_handler(UnicodeEncodeError)
    async def unicode_error(request: Request, exc: UnicodeEncodeError):
        return _bad_value(request, exc)

    @app.exception_handler(OverflowError)
    async def overflow_error(request: Request, exc: OverflowError):
        return _bad_value(request, exc)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError):
        # a value the database cannot store (out of range, NUL byte …): the input's fault, not a crash
        return _bad_value(request, exc)

    @app.exception_handler(StatementError)
    async def statement_error(request: Request, exc: StatementError):
        if isinstance(exc.orig, (UnicodeEncodeError, OverflowError, ValueError)):
            return _bad_value(request, exc)
        log.exception("unhandled", path=request.url.path, error=repr(exc)[:300])
        return _error_response(request, KithError(500, "internal_error"))

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError):
        log.warning("integrity_error", error=str(exc.orig)[:300])
        return _error_response(request, KithError(409, "conflict"))

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception):
        log.exception("unhandled", path=request.url.path, error=repr(exc)[:300])
        return _error_response(request, KithError(500, "internal_error"))

    # --- operations ---------------------------------------------------------------------------
    @app.get(f"{API}/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(f"{API}/readyz", tags=["operations"], summary="Readiness: the database answers", responses={503: {}})
    def readyz() -> Any:
        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return {"status": "ok", "database": "ok"}

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=True)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from kith.routers import include_all

    include_all(app, API)

    from kith.web.spa import mount_spa

    mount_spa(app)
    return app


from kith.core.i18n import MESSAGES as _MESSAGES  # noqa: E402

_MESSAGES_KEYS = set(_MESSAGES)
_ = t
