from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from kith.core import clock
from kith.notifications.models import Notification

TEMPLATES: dict[str, dict[str, str]] = {
    "approval_requested": {"zh-CN": "{applicant} 申请访问客户“{customer}”（{days} 天），请审批。",
                           "en": "{applicant} asks for access to the customer \"{customer}\" ({days} days); please decide."},
    "approval_approved": {"zh-CN": "您的访问申请（客户 #{customer_id}）已批准，有效期至 {expires}。",
                          "en": "Your access request (customer #{customer_id}) was approved until {expires}."},
    "approval_rejected": {"zh-CN": "您的访问申请（客户 #{customer_id}）被驳回：{comment}",
                          "en": "Your access request (customer #{customer_id}) was rejected: {comment}"},
    "approval_next_step": {"zh-CN": "{applicant} 的访问申请已进入下一步审批，请处理。",
                           "en": "{applicant}'s access request has reached your approval step."},
}


def render(kind: str, params: dict[str, Any], lang: str) -> str:
    template = TEMPLATES.get(kind, {}).get(lang) or TEMPLATES.get(kind, {}).get("zh-CN") or kind
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def notify(session: Session, user_ids: Iterable[int], kind: str, params: dict[str, Any], *, link: str | None = None,
           entity_type: str | None = None, entity_id: int | None = None) -> None:
    now = clock.now()
    for uid in dict.fromkeys(user_ids):
        session.add(Notification(user_id=uid, kind=kind, params=params, link=link, entity_type=entity_type, entity_id=entity_id,
                                 created_at=now))
