"""Report cache: keyed by (report, resolved params, the actor's compiled scope signature) and a data
generation counter that every committed change bumps.

The generation is in-process by default; with KITH_REDIS_URL it lives in Redis (INCR), and so do the
cached payloads, so several API workers and the job worker share one view of "data changed".
KITH_REPORT_CACHE=off switches caching off (the big-data benchmark measures cold SQL that way).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from kith.access import Actor

TTL_SECONDS = 300
MAX_ENTRIES = 2000
_KEY = "kith:reports:"


class _Local:
    def __init__(self) -> None:
        self.generation = 0
        self.data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get_generation(self) -> int:
        return self.generation

    def bump(self) -> None:
        with self.lock:
            self.generation += 1
            self.data.clear()

    def get(self, key: str) -> Any:
        with self.lock:
            hit = self.data.get(key)
            if hit is None or hit[0] < time.monotonic():
                return None
            self.data.move_to_end(key)
            return hit[1]

    def set(self, key: str, value: Any) -> None:
        with self.lock:
            self.data[key] = (time.monotonic() + TTL_SECONDS, value)
            while len(self.data) > MAX_ENTRIES:
                self.data.popitem(last=False)


class _Redis:
    def __init__(self, url: str) -> None:
        import redis

        self.r = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def get_generation(self) -> int:
        return int(self.r.get(_KEY + "gen") or 0)

    def bump(self) -> None:
        self.r.incr(_KEY + "gen")

    def get(self, key: str) -> Any:
        raw = self.r.get(_KEY + "v:" + key)
        return json.loads(raw) if raw else None

    def set(self, key: str, value: Any) -> None:
        self.r.set(_KEY + "v:" + key, json.dumps(value, ensure_ascii=False, default=str), ex=TTL_SECONDS)


_backend: Any = None
_backend_url: str | None = "unset"


def backend() -> Any:
    global _backend, _backend_url
    url = os.environ.get("KITH_REDIS_URL") or None
    if _backend is None or url != _backend_url:
        _backend = _Redis(url) if url else _Local()
        _backend_url = url
    return _backend


def enabled() -> bool:
    return os.environ.get("KITH_REPORT_CACHE", "on").lower() not in ("off", "0", "false", "no")


def generation() -> int:
    try:
        return backend().get_generation()
    except Exception:  # noqa: BLE001 - Redis down: no cache rather than no reports
        return -1


def bump() -> None:
    try:
        backend().bump()
    except Exception:  # noqa: BLE001
        pass


def scope_signature(actor: Actor) -> str:
    """Two actors with the same signature see exactly the same rows and fields: the same permissions,
    scopes, field rights and — unless every scope is 'all' — the same user (own records, shares, grants)."""
    scopes = {m: (s if not isinstance(s, dict) else {"paths": actor.scope_paths.get(id(s), [])}) for m, s in actor.scopes.items()}
    everything = all(s == "all" for s in actor.scopes.values()) and not actor.shared and not actor.granted
    sig = {
        "p": {m: sorted(a) for m, a in sorted(actor.permissions.items())},
        "s": scopes,
        "f": actor.field_rights,
        "u": None if everything else actor.user_id,
        "d": None if everything else actor.department_path,
        "sh": None if everything else sorted((f"{k[0]}:{k[1]}", sorted(v)) for k, v in actor.shared.items()),
        "g": None if everything else {str(k): sorted(v) for k, v in actor.granted.items()},
        "tz": actor.timezone,
        "lang": actor.language,
    }
    return hashlib.sha1(json.dumps(sig, sort_keys=True, default=str).encode()).hexdigest()


def cached(report: str, params: dict[str, Any], actor: Actor, compute: Callable[[], Any]) -> Any:
    if not enabled():
        return compute()
    gen = generation()
    if gen < 0:
        return compute()
    key = hashlib.sha1(json.dumps([report, params, scope_signature(actor), gen], sort_keys=True, default=str).encode()).hexdigest()
    try:
        hit = backend().get(key)
    except Exception:  # noqa: BLE001
        hit = None
    if hit is not None:
        return hit
    value = compute()
    try:
        backend().set(key, value)
    except Exception:  # noqa: BLE001
        pass
    return value


# ---- invalidation: any commit that wrote rows bumps the generation --------------------------------
_IGNORED = {"report_pins", "refresh_tokens", "login_failures", "idempotency_keys", "notifications", "audit_log"}


def _touches_data(objs: Any) -> bool:
    for obj in objs:
        table = getattr(obj, "__tablename__", None)
        if table not in _IGNORED:
            return True
    return False


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    if _touches_data(session.new) or _touches_data(session.dirty) or _touches_data(session.deleted):
        session.info["kith_reports_dirty"] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["kith_reports_dirty"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("kith_reports_dirty", False):
        bump()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("kith_reports_dirty", None)
