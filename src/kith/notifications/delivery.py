"""The outbox sender: claims due deliveries, sends them, reschedules failures with exponential backoff.

A delivery is claimed with an atomic UPDATE (attempts + 1, next_attempt_at pushed past a lease) before it is sent, so two
workers never send the same row at once; a worker that dies mid-send leaves the row to be retried when the lease lapses.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kith.core import clock, jobs
from kith.notifications import channels as ch
from kith.notifications.models import Delivery, NotificationChannel

log = logging.getLogger("kith.notifications.delivery")

LEASE = timedelta(minutes=2)  # a claimed row is retried after this if the worker died while sending
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, 4 min … capped at 2 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim(session: Session, delivery_id: int, now: datetime) -> bool:
    res = session.execute(update(Delivery)
                          .where(Delivery.id == delivery_id, Delivery.status == "pending", Delivery.next_attempt_at <= now)
                          .values(attempts=Delivery.attempts + 1, next_attempt_at=now + LEASE)
                          .execution_options(synchronize_session=False))
    session.commit()
    return res.rowcount == 1


def _send(session: Session, d: Delivery) -> None:
    settings = jobs.current_settings()
    if d.channel == "email":
        ch.send_email(settings, d.target, str(d.payload.get("subject", "")), str(d.payload.get("body", "")))
        return
    channel = session.get(NotificationChannel, d.channel_id) if d.channel_id else None
    if channel is None:
        raise ch.DeliveryError("the channel was deleted")
    allow = ch.allow_list(settings)
    if d.channel == "wechat_work":
        ch.send_wechat_work(channel.url, d.payload, allow)
    elif d.channel == "webhook":
        ch.send_webhook(channel.url, channel.secret, d.payload, allow)
    else:
        raise ch.DeliveryError(f"unknown channel {d.channel}")


def deliver_one(session: Session, delivery_id: int, now: datetime | None = None) -> str | None:
    """Send one due delivery if it can be claimed; answer its new status (None when not claimed)."""
    now = now or clock.now()
    if not _claim(session, delivery_id, now):
        return None
    d = session.get(Delivery, delivery_id, populate_existing=True)
    if d is None:
        return None
    try:
        _send(session, d)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
        message = str(exc) if isinstance(exc, ch.DeliveryError) else f"{type(exc).__name__}: {exc}"
        d.last_error = message[:1000]
        later = clock.now()
        max_attempts = jobs.current_settings().delivery_max_attempts
        if d.attempts >= max_attempts:
            d.status = "failed"
            d.next_attempt_at = later
            log.warning("delivery_failed id=%s channel=%s attempts=%s error=%s", d.id, d.channel, d.attempts, message)
        else:
            d.next_attempt_at = later + backoff(d.attempts)
            log.info("delivery_retry id=%s channel=%s attempts=%s error=%s", d.id, d.channel, d.attempts, message)
    else:
        d.status = "delivered"
        d.delivered_at = clock.now()
        d.last_error = None
    session.commit()
    return d.status


def deliver_ids(session: Session, ids: list[int]) -> dict[str, Any]:
    """The job enqueued by notify(): try these deliveries now."""
    counts: dict[str, int] = {}
    for delivery_id in ids:
        status = deliver_one(session, delivery_id)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def deliver_due(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Periodic (every minute): send every pending delivery whose time has come."""
    now = now or clock.now()
    counts: dict[str, int] = {}
    ids = list(session.scalars(select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
                               .order_by(Delivery.next_attempt_at, Delivery.id).limit(BATCH)))
    session.rollback()
    for delivery_id in ids:
        status = deliver_one(session, delivery_id, now=max(now, clock.now()))
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts
