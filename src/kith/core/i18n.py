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
    # notification delivery (kith.notifications)
    "url_invalid": {"zh-CN": "地址无效：需要 http:// 或 https:// 开头的完整网址。", "en": "Invalid URL: a full http:// or https:// address is needed."},
    "url_not_allowed": {"zh-CN": "不允许向内网、本机、链路本地或保留地址发送；如确有需要，请管理员将其加入允许列表（KITH_WEBHOOK_ALLOWLIST）。",
                        "en": "Private, loopback, link-local and reserved addresses are not allowed; an administrator can allow-list them (KITH_WEBHOOK_ALLOWLIST)."},
    "url_unresolvable": {"zh-CN": "无法解析该地址的主机名。", "en": "The host name of this URL does not resolve."},
    "unknown_notification_kind": {"zh-CN": "未知的通知类型“{kind}”。", "en": "Unknown notification kind \"{kind}\"."},
    "delivery_already_delivered": {"zh-CN": "该消息已送达，无需重发。", "en": "This message was already delivered."},
    # reminders and the public pool (kith.reminders, kith.pool)
    "reminder_snooze_forbidden": {"zh-CN": "只有记录的负责人或其主管可以暂停该提醒。", "en": "Only the record's owner or their manager may snooze this reminder."},
    "pool_claim_cap": {"zh-CN": "您名下已有 {owned} 个客户，已达到公海领取上限 {cap} 个，无法继续领取。",
                       "en": "You already own {owned} customers, the pool claim cap is {cap}; you cannot claim more."},
    "pool_cooldown": {"zh-CN": "您最近释放过该客户，冷却期 {days} 天，{until} 之后才能重新领取。",
                      "en": "You released this customer recently; the {days}-day cool-down ends at {until}, claim it after that."},
    "pool_not_in_pool": {"zh-CN": "该客户不在公海中。", "en": "This customer is not in the pool."},
    "pool_already_in_pool": {"zh-CN": "该客户已在公海中。", "en": "This customer is already in the pool."},
    "transfer_not_allowed": {"zh-CN": "您没有转移这些记录的权限：{kinds}。请取消勾选，由管理员交接。",
                             "en": "You may not transfer these records: {kinds}. Leave them out; an administrator can hand them over."},
    "handover_same_user": {"zh-CN": "交接人与接收人不能是同一人。", "en": "The user handing over and the user receiving must differ."},
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
    # de-duplication, merge, normalisation (kith.dedup, kith.core.normalize)
    "invalid_amount": {"zh-CN": "金额无效（例如 12000、1.2万、¥12,000、12k）。", "en": "Invalid amount (e.g. 12000, 1.2万, ¥12,000, 12k)."},
    "invalid_region": {"zh-CN": "无法识别的省市区。", "en": "Unrecognised province / city / district."},
    "email_typo_hint": {"zh-CN": "您是不是想输入 {suggestion}？", "en": "Did you mean {suggestion}?"},
    "same_record": {"zh-CN": "不能把记录与自身合并。", "en": "A record cannot be merged with itself."},
    "invalid_choice": {"zh-CN": "取值只能是 survivor 或 other。", "en": "The choice must be survivor or other."},
    "merge_already_undone": {"zh-CN": "该合并已被撤销。", "en": "This merge has already been undone."},
    "merge_undo_blocked": {"zh-CN": "合并后有 {count} 条相关记录被修改，无法撤销。", "en": "{count} related record(s) changed since the merge; it cannot be undone."},
    "invalid_vcard": {"zh-CN": "vCard 内容无效。", "en": "Invalid vCard content."},
    # reports
    "invalid_period": {"zh-CN": "统计周期只能是 week、month、quarter、year 或 custom。", "en": "The period must be week, month, quarter, year or custom."},
    "before_start": {"zh-CN": "结束日期不能早于开始日期。", "en": "The end date cannot be before the start date."},
    "range_too_long": {"zh-CN": "时间范围过长（最多 10 年）。", "en": "The date range is too long (10 years at most)."},
    "out_of_range": {"zh-CN": "取值超出允许范围。", "en": "The value is out of range."},
    "unknown_report": {"zh-CN": "没有这个报表。", "en": "There is no such report."},
    "too_many_pins": {"zh-CN": "首页最多固定 30 个图表。", "en": "At most 30 charts can be pinned to the home page."},
    # imports
    "file_too_large": {"zh-CN": "文件过大（最多 {max} MB）。", "en": "The file is too large (at most {max} MB)."},
    "unsupported_file_type": {"zh-CN": "只支持 xlsx、xls 和 csv 文件。", "en": "Only xlsx, xls and csv files are supported."},
    "unknown_encoding": {"zh-CN": "无法识别文件编码（支持 UTF-8 与 GBK/GB18030）。", "en": "Unknown text encoding (UTF-8 and GBK/GB18030 are supported)."},
    "unreadable_file": {"zh-CN": "文件已损坏或无法读取。", "en": "The file is damaged or cannot be read."},
    "duplicate_mapping": {"zh-CN": "同一字段只能对应一列。", "en": "A field can be mapped from one column only."},
    "duplicate_hidden": {"zh-CN": "已存在相同的客户（您无权查看）。", "en": "The same customer already exists (you cannot see it)."},
    "forbidden_update": {"zh-CN": "您无权修改已有记录。", "en": "You may not change existing records."},
    "import_not_editable": {"zh-CN": "导入已开始，不能再修改映射。", "en": "The import has started; its mapping can no longer change."},
    "import_not_previewed": {"zh-CN": "请先预览导入数据。", "en": "Preview the import first."},
    "import_not_resumable": {"zh-CN": "该导入无需继续。", "en": "This import has nothing to resume."},
    "import_running": {"zh-CN": "导入正在进行中。", "en": "The import is running."},
    "import_not_rollbackable": {"zh-CN": "只有已完成或失败的导入可以撤销。", "en": "Only a finished or failed import can be rolled back."},
    "import_rollback_blocked": {"zh-CN": "有 {count} 条记录在导入后被修改或引用，无法撤销。", "en": "{count} record(s) changed or referenced since the import block the rollback."},
    "import_col_row": {"zh-CN": "行号", "en": "Row"},
    "import_col_status": {"zh-CN": "结果", "en": "Result"},
    "import_col_reason": {"zh-CN": "原因", "en": "Reason"},
    "import_col_record": {"zh-CN": "记录ID", "en": "Record ID"},
    "import_col_cleaned": {"zh-CN": "清洗后", "en": "cleaned"},
    "import_sheet_report": {"zh-CN": "导入结果", "en": "Import report"},
    "import_sheet_summary": {"zh-CN": "汇总", "en": "Summary"},
    "import_total": {"zh-CN": "源文件行数", "en": "Rows in the file"},
    "import_status_pending": {"zh-CN": "待导入", "en": "Pending"},
    "import_status_created": {"zh-CN": "新建", "en": "Created"},
    "import_status_updated": {"zh-CN": "更新", "en": "Updated"},
    "import_status_merged": {"zh-CN": "合并", "en": "Merged"},
    "import_status_skipped": {"zh-CN": "跳过", "en": "Skipped"},
    "import_status_rejected": {"zh-CN": "拒绝", "en": "Rejected"},
    "import_reason_duplicate_existing": {"zh-CN": "与已有记录 #{arg} 重复", "en": "Duplicate of existing record #{arg}"},
    "import_reason_duplicate_in_file": {"zh-CN": "与文件第 {arg} 行重复", "en": "Duplicate of row {arg} in the file"},
    "import_reason_duplicate_hidden": {"zh-CN": "已存在相同的客户（您无权查看）", "en": "The same customer already exists (you cannot see it)"},
    "import_reason_skipped_by_user": {"zh-CN": "按您的选择跳过", "en": "Skipped as you chose"},
    "import_reason_merged_into": {"zh-CN": "已合并到记录 #{arg}", "en": "Merged into record #{arg}"},
    "import_reason_updated_into": {"zh-CN": "已更新记录 #{arg}", "en": "Updated record #{arg}"},
    "import_reason_not_writable": {"zh-CN": "无权修改记录 #{arg}", "en": "You may not change record #{arg}"},
    "import_reason_changed_meanwhile": {"zh-CN": "记录 #{arg} 已被他人修改", "en": "Record #{arg} was changed meanwhile"},
    "import_reason_forbidden": {"zh-CN": "无新建权限", "en": "No right to create records"},
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
