from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.core import clock
from kith.notifications.models import Delivery, Notification, NotificationChannel, NotificationPreference

TEMPLATES: dict[str, dict[str, str]] = {
    "approval_requested": {"zh-CN": "{applicant} 申请访问客户“{customer}”（{days} 天），请审批。",
                           "en": "{applicant} asks for access to the customer \"{customer}\" ({days} days); please decide."},
    "approval_approved": {"zh-CN": "您对客户“{customer}”的访问申请已批准，有效期至 {expires}。",
                          "en": "Your access request for the customer \"{customer}\" was approved until {expires}."},
    "approval_rejected": {"zh-CN": "您的访问申请（客户 #{customer_id}）被驳回：{comment}",
                          "en": "Your access request (customer #{customer_id}) was rejected: {comment}"},
    "approval_next_step": {"zh-CN": "{applicant} 的访问申请已进入下一步审批，请处理。",
                           "en": "{applicant}'s access request has reached your approval step."},
    "weekly_summary": {"zh-CN": "{department} 上周（{from}～{to}）：新增客户 {new_customers} 个，跟进 {followups} 次，跟进及时率 {timely_share}，赢单 {won} 个。",
                       "en": "{department} last week ({from} – {to}): {new_customers} new customers, {followups} follow-ups, "
                             "{timely_share} followed up on time, {won} deals won."},
    # reminders and the public pool (kith.reminders, kith.pool)
    "reminder_no_followup": {"zh-CN": "客户“{customer}”已 {days} 天未跟进。", "en": "The customer \"{customer}\" has had no follow-up for {days} days."},
    "reminder_no_followup_copy": {"zh-CN": "（抄送）重要客户“{customer}”已 {days} 天未跟进。",
                                  "en": "(copy) The key customer \"{customer}\" has had no follow-up for {days} days."},
    "reminder_next_action": {"zh-CN": "商机“{opportunity}”的下一步行动已逾期：{action}", "en": "The next action of the deal \"{opportunity}\" is overdue: {action}"},
    "reminder_followup_due": {"zh-CN": "客户“{customer}”的计划跟进时间已过。", "en": "The planned follow-up of the customer \"{customer}\" is overdue."},
    "reminder_task_due": {"zh-CN": "待办“{task}”即将到期（{due_at}）。", "en": "The task \"{task}\" is due ({due_at})."},
    "reminder_contract_expiring": {"zh-CN": "合同“{contract}”（{number}）将于 {end_date} 到期，还有 {days} 天。",
                                   "en": "The contract \"{contract}\" ({number}) expires on {end_date}, in {days} days."},
    "reminder_payment_due": {"zh-CN": "合同“{contract}”（{number}）有一笔回款计划于 {due_date} 到期。",
                             "en": "A payment of the contract \"{contract}\" ({number}) is due on {due_date}."},
    "pool_warning": {"zh-CN": "客户“{customer}”将于 {date} 退回公海（还有 {days} 天），请及时跟进。",
                     "en": "The customer \"{customer}\" returns to the pool on {date} (in {days} days); follow it up in time."},
    "pool_returned_no_followup": {"zh-CN": "客户“{customer}”已 {days} 天未跟进，已退回公海。",
                                  "en": "The customer \"{customer}\" had no follow-up for {days} days and returned to the pool."},
    "pool_returned_no_won": {"zh-CN": "客户“{customer}”已 {days} 天未成交，已退回公海。",
                             "en": "The customer \"{customer}\" had no won deal for {days} days and returned to the pool."},
    "pool_released": {"zh-CN": "您的客户“{customer}”已被释放到公海：{reason}", "en": "Your customer \"{customer}\" was released to the pool: {reason}"},
    "pool_assigned": {"zh-CN": "公海客户“{customer}”已分配给您。", "en": "The pool customer \"{customer}\" was assigned to you."},
    "handover_received": {"zh-CN": "{from} 的客户和业务已交接给您（{customers} 个客户）。",
                          "en": "{from}'s customers and records were handed over to you ({customers} customers)."},
}


def render(kind: str, params: dict[str, Any], lang: str) -> str:
    template = TEMPLATES.get(kind, {}).get(lang) or TEMPLATES.get(kind, {}).get("zh-CN") or kind
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


SUBJECT = {"zh-CN": "[Kith] 新通知", "en": "[Kith] New notification"}
EMAIL_FOOTER = {"zh-CN": "\n\n——\n此邮件由 Kith CRM 自动发送。可在“个人设置 → 通知”中关闭邮件通知。",
                "en": "\n\n--\nSent by Kith CRM. You can turn e-mail notifications off under Settings → Notifications."}
CHANNELS = ("email", "wechat_work")  # per-user extra channels; in-app is always on
DEFAULT_PREFS = {"email": True, "wechat_work": False}


def preferences(session: Session, user_ids: Iterable[int]) -> dict[int, dict[str, dict[str, bool]]]:
    """Stored preferences: user id -> kind -> {"email": .., "wechat_work": ..} (kinds without a row use DEFAULT_PREFS)."""
    ids = list(user_ids)
    out: dict[int, dict[str, dict[str, bool]]] = {uid: {} for uid in ids}
    if ids:
        for p in session.scalars(select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))):
            out[p.user_id][p.kind] = {"email": p.email, "wechat_work": p.wechat_work}
    return out


def wants(prefs: dict[str, dict[str, bool]], kind: str, channel: str) -> bool:
    return bool(prefs.get(kind, DEFAULT_PREFS).get(channel, DEFAULT_PREFS[channel]))


def _full_text(text: str, link: str | None) -> str:
    return f"{text}\n{link}" if link else text


def notify(session: Session, user_ids: Iterable[int], kind: str, params: dict[str, Any], *, link: str | None = None,
           entity_type: str | None = None, entity_id: int | None = None) -> None:
    """In-app notification rows, plus one outbox row per extra channel each recipient wants for this kind; the outbox is
    delivered by a job after the transaction commits (and retried by the periodic `deliver_due`)."""
    from kith.auth.models import User
    from kith.core import jobs

    now = clock.now()
    uids = list(dict.fromkeys(user_ids))
    if not uids:
        return
    rows = []
    for uid in uids:
        n = Notification(user_id=uid, kind=kind, params=params, link=link, entity_type=entity_type, entity_id=entity_id,
                         created_at=now)
        session.add(n)
        rows.append(n)
    channels = [c for c in session.scalars(select(NotificationChannel).where(NotificationChannel.active.is_(True))
                                           .order_by(NotificationChannel.id))
                if not c.kinds or kind in c.kinds]
    settings = jobs.current_settings()
    if not channels and not settings.smtp_host:
        return
    session.flush()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(uids)))}
    prefs = preferences(session, uids)
    deliveries = []
    for n in rows:
        user = users.get(n.user_id)
        if user is None or not user.is_active:
            continue
        lang = user.language if user.language in ("zh-CN", "en") else "zh-CN"
        text = render(kind, params, lang)

        def add(channel: str, target: str, payload: dict[str, Any], channel_id: int | None = None) -> None:
            deliveries.append(Delivery(notification_id=n.id, user_id=n.user_id, channel=channel, channel_id=channel_id,
                                       target=target[:1000], payload=payload, status="pending", attempts=0,
                                       next_attempt_at=now, created_at=now))

        if settings.smtp_host and user.email and wants(prefs[n.user_id], kind, "email"):
            add("email", user.email, {"subject": SUBJECT.get(lang, SUBJECT["zh-CN"]),
                                      "body": _full_text(text, link) + EMAIL_FOOTER.get(lang, EMAIL_FOOTER["zh-CN"])})
        for c in channels:
            if c.type == "wechat_work" and wants(prefs[n.user_id], kind, "wechat_work"):
                content = f"{user.display_name}：{_full_text(text, link)}"
                body: dict[str, Any] = {"content": content}
                if user.mobile:
                    body["mentioned_mobile_list"] = [user.mobile]
                add("wechat_work", c.url, {"msgtype": "text", "text": body}, c.id)
            elif c.type == "webhook":
                add("webhook", c.url, {"event": "notification.created", "id": n.id, "kind": kind, "user_id": n.user_id,
                                       "username": user.username, "text": render(kind, params, "zh-CN"),
                                       "text_en": render(kind, params, "en"), "link": link, "entity_type": entity_type,
                                       "entity_id": entity_id, "created_at": now.isoformat()}, c.id)
    if deliveries:
        session.add_all(deliveries)
        session.flush()
        jobs.enqueue(session, "kith.notifications.delivery:deliver_ids", [d.id for d in deliveries])
