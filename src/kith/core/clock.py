"""The one clock. Tests replace it to move time (grants lapsing, lockouts expiring)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc) + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset, _frozen
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset += delta


def freeze(at: datetime | None) -> None:
    global _frozen
    _frozen = at


def reset() -> None:
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
