"""Localised messages for errors (zh-CN default, en)."""

from __future__ import annotations

from contextvars import ContextVar

SUPPORTED = ("zh-CN", "en")
current_language: ContextVar[str] = ContextVar("current_language", default="zh-CN")

MESSAGES: dict[str, dict[str, str]] = {
    "validation_error": {"zh-CN": "提交的数据有误，请检查标出的字段。", "en": "Some fields are invalid; please check them."},
    "not_found": {"zh-CN": "记录不存在。", "en": "The record does not exist."},
    "forbidden": {"zh-CN": "您没有执行此操作的权限。", "en": "You are not allowed to do this."},
    "field_forbidden": {"zh-CN": "您无权修改字段：{fields}。", "en": "You may not change the field(s): {fields}."},
    "field_hidden_filter": {"zh-CN": "您无权按字段“{field}”筛选或排序。", "en": "You may not filter or sort by the field \"{field}\"."},
    "unauthorized": {"zh-CN": "请先登录。", "en": "Please sign in."},
    "invalid_token": {"zh-CN": "登录凭证无效或已过期，请重新登录。", "en": "Your session is invalid or has expired; please sign in again."},
    "invalid_credentials": {"zh-CN": "用户名或密码错误。", "en": "Wrong username or password."},
    "account_locked": {"zh-CN": "登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试。", "en": "Too many failed sign-ins; try again in {minutes} minutes."},
    "account_inactive": {"zh-CN": "账户已停用。", "en": "This account is deactivated."},
    "refresh_reused": {"zh-CN": "刷新令牌已被使用，出于安全考虑已注销该会话。", "en": "This refresh token was already used; the session has been revoked for safety."},
    "precondition_failed": {"zh-CN": "该记录已被他人修改，请刷新后重试。", "en": "Someone else changed this record; reload and try again."},
    "precondition_required": {"zh-CN": "修改记录需要提供 If-Match 请求头或 version 字段。", "en": "Updating a record needs an If-Match header or a version field."},
    "duplicate_customer": {"zh-CN": "客户已存在（{field}相同），负责人：{owner}。", "en": "This customer already exists (same {field}), owned by {owner}."},
    "duplicate_value": {"zh-CN": "该值已存在。", "en": "This value already exists."},
    "idempotency_conflict": {"zh-CN": "该 Idempotency-Key 已用于不同的请求内容。", "en": "This Idempotency-Key was already used with a different request."},
    "invalid_cursor": {"zh-CN": "分页游标无效。", "en": "The pagination cursor is invalid."},
    "invalid_sort": {"zh-CN": "不支持按“{field}”排序。", "en": "Sorting by \"{field}\" is not supported."},
    "invalid_filter": {"zh-CN": "不支持的筛选条件“{field}”。", "en": "Unknown filter \"{field}\"."},
    "not_deleted": {"zh-CN": "该记录不在回收站中。", "en": "This record is not in the recycle bin."},
    "already_visible": {"zh-CN": "您已经可以查看该客户。", "en": "You can already see this customer."},
    "conflict": {"zh-CN": "操作与当前数据冲突。", "en": "The operation conflicts with the current data."},
    "in_use": {"zh-CN": "该记录仍被使用，无法删除。", "en": "The record is still in use and cannot be deleted."},
    "internal_error": {"zh-CN": "服务器内部错误，请稍后重试。", "en": "Internal server error; please try again later."},
    "method_not_allowed": {"zh-CN": "不支持该请求方法。", "en": "Method not allowed."},
    "rate_limited": {"zh-CN": "请求过于频繁。", "en": "Too many requests."},
    # field-level codes
    "required": {"zh-CN": "必填。", "en": "This field is required."},
    "invalid": {"zh-CN": "取值无效。", "en": "Invalid value."},
    "invalid_mobile": {"zh-CN": "手机号码无效：中国大陆手机号应为 11 位数字。", "en": "Invalid mobile number: a mainland mobile has 11 digits."},
    "invalid_phone": {"zh-CN": "电话号码无效。", "en": "Invalid phone number."},
    "invalid_email": {"zh-CN": "电子邮箱格式无效。", "en": "Invalid e-mail address."},
    "too_long": {"zh-CN": "内容过长（最多 {max} 个字符）。", "en": "Too long (at most {max} characters)."},
    "too_short": {"zh-CN": "内容过短。", "en": "Too short."},
    "invalid_choice": {"zh-CN": "取值不在可选范围内：{choices}。", "en": "Not one of the allowed values: {choices}."},
    "invalid_number": {"zh-CN": "请输入数字。", "en": "Enter a number."},
    "invalid_date": {"zh-CN": "日期格式无效（例如 2026-01-31）。", "en": "Invalid date (e.g. 2026-01-31)."},
    "invalid_datetime": {"zh-CN": "时间格式无效（ISO 8601，例如 2026-01-31T09:00:00+08:00）。", "en": "Invalid time (ISO 8601, e.g. 2026-01-31T09:00:00+08:00)."},
    "invalid_boolean": {"zh-CN": "请输入 true 或 false。", "en": "Enter true or false."},
    "unknown_field": {"zh-CN": "未知字段。", "en": "Unknown field."},
    "invalid_reference": {"zh-CN": "引用的记录不存在或不可见。", "en": "The referenced record does not exist or is not visible."},
    "not_positive": {"zh-CN": "数值不能为负数。", "en": "The value must not be negative."},
    "invalid_type": {"zh-CN": "类型错误。", "en": "Wrong type."},
    "read_only_field": {"zh-CN": "该字段为只读。", "en": "This field is read-only."},
    "hidden_field": {"zh-CN": "您无权访问该字段。", "en": "You may not access this field."},
    "protected_field": {"zh-CN": "该字段不能通过普通修改来更改。", "en": "This field cannot be changed through a normal update."},
    "next_action_required": {"zh-CN": "进行中的商机必须填写下一步行动及截止时间。", "en": "An open opportunity needs a next action and its due time."},
    "stage_not_in_pipeline": {"zh-CN": "该阶段不属于商机所在的销售流程。", "en": "The stage does not belong to the opportunity's pipeline."},
    "invalid_json": {"zh-CN": "请求体不是有效的 JSON。", "en": "The request body is not valid JSON."},
    "weak_password": {"zh-CN": "密码至少需要 8 个字符。", "en": "The password needs at least 8 characters."},
    "field_name": {"zh-CN": "名称", "en": "name"},
    "field_phone": {"zh-CN": "电话", "en": "phone"},
    "field_email": {"zh-CN": "邮箱", "en": "e-mail"},
    "lost_reason_required": {"zh-CN": "输单需要填写原因。", "en": "A lost opportunity needs a reason."},
}


def negotiate(accept_language: str | None, default: str = "zh-CN") -> str:
    if not accept_language:
        return default
    best: tuple[float, str] | None = None
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        lang, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        lang = lang.strip().lower()
        code = "en" if lang.startswith("en") else "zh-CN" if lang.startswith("zh") else None
        if code and (best is None or weight > best[0]):
            best = (weight, code)
    return best[1] if best else default


def t(key: str, lang: str | None = None, **params: object) -> str:
    lang = lang or current_language.get()
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["zh-CN"]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
