"""Target fields per record kind with their Chinese and English header synonyms, and the automatic
column → field proposal (with a confidence) that the user corrects or saves as a template."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

KINDS = ("customer", "contact", "opportunity", "followup")


@dataclass(frozen=True)
class Target:
    name: str
    zh: str
    en: str
    clean: str = "text"  # text | mobile | phone | email | region | date | datetime | amount | choice | bool | owner | int
    max_len: int = 200
    required: bool = False
    synonyms: tuple[str, ...] = field(default_factory=tuple)
    # the model column written (None: used to resolve something else)
    column: str | None = None
    choices: tuple[str, ...] = ()


def T(name: str, zh: str, en: str, *syn: str, **kw: Any) -> Target:
    kw.setdefault("column", name)
    return Target(name, zh, en, synonyms=(zh, en, name, *syn), **kw)


_CUSTOMER_REF = [
    T("customer_id", "客户ID", "Customer ID", "客户编号", "客户id", "customer no", column=None, clean="int"),
    T("customer_name", "客户名称", "Customer", "客户", "公司名称", "公司", "所属客户", "单位名称", "企业名称", "customer name", "company",
      "company name", "account", "account name", column=None, max_len=200),
]

TARGETS: dict[str, list[Target]] = {
    "customer": [
        T("id", "ID", "ID", "记录ID", "系统编号", column=None, clean="int"),
        T("name", "客户名称", "Name", "公司名称", "客户", "公司", "单位名称", "企业名称", "客户全称", "名称", "company", "company name",
          "customer", "customer name", "account", "account name", "organization", required=True),
        T("industry", "行业", "Industry", "所属行业", "行业类型", max_len=100),
        T("source", "客户来源", "Source", "来源", "线索来源", "渠道", "lead source", "channel", max_len=100),
        T("level", "客户级别", "Level", "级别", "等级", "客户等级", "rating", "tier", max_len=10),
        T("status", "客户状态", "Status", "状态", clean="choice", choices=("potential", "active", "inactive", "lost")),
        T("province", "省份", "Province", "省", "所在省份", "省/直辖市", "state", clean="region", max_len=50),
        T("city", "城市", "City", "市", "所在城市", clean="region", max_len=50),
        T("district", "区县", "District", "区", "县", "区/县", max_len=50),
        T("address", "地址", "Address", "详细地址", "公司地址", "办公地址", "street", max_len=500),
        T("phone", "电话", "Phone", "公司电话", "联系电话", "座机", "固话", "总机", "tel", "telephone", "phone number", clean="phone"),
        T("email", "邮箱", "E-mail", "电子邮箱", "电子邮件", "邮件", "email", "mail", "email address", clean="email"),
        T("website", "网站", "Website", "网址", "公司网址", "主页", "官网", "web", "url", max_len=255),
        T("description", "备注", "Description", "描述", "说明", "简介", "notes", "note", "remark", "remarks", max_len=5000),
        T("owner", "负责人", "Owner", "销售", "销售负责人", "所属销售", "客户经理", "owner name", "sales rep", "account owner",
          column=None, clean="owner"),
    ],
    "contact": [
        *_CUSTOMER_REF,
        T("name", "姓名", "Name", "联系人", "联系人姓名", "名字", "contact", "contact name", "full name", required=True, max_len=100),
        T("title", "职务", "Title", "职位", "岗位", "头衔", "job title", "position", max_len=100),
        T("mobile", "手机", "Mobile", "手机号", "手机号码", "移动电话", "mobile phone", "cell", "cellphone", clean="mobile"),
        T("phone", "电话", "Phone", "办公电话", "座机", "固话", "tel", "telephone", "work phone", clean="phone"),
        T("email", "邮箱", "E-mail", "电子邮箱", "电子邮件", "邮件", "email", "mail", clean="email"),
        T("wechat", "微信", "WeChat", "微信号", "wechat id", "weixin", max_len=100),
        T("is_primary", "主联系人", "Primary", "是否主联系人", "首要联系人", "primary contact", clean="bool"),
    ],
    "opportunity": [
        *_CUSTOMER_REF,
        T("name", "商机名称", "Name", "商机", "项目名称", "项目", "机会名称", "opportunity", "opportunity name", "deal", "deal name",
          required=True),
        T("amount", "金额", "Amount", "商机金额", "预计金额", "预算", "合同金额", "value", "deal value", clean="amount"),
        T("currency", "币种", "Currency", "货币", max_len=3),
        T("expected_close_date", "预计成交日期", "Expected close date", "预计签单日期", "预计成交", "成交日期", "close date",
          clean="date"),
        T("stage", "阶段", "Stage", "销售阶段", "商机阶段", "sales stage", column=None, max_len=100),
        T("next_action", "下一步", "Next action", "下一步行动", "下一步计划", "next step", max_len=500),
        T("next_action_due", "下一步截止", "Next action due", "下一步时间", "截止时间", "下一步日期", "due", "due date",
          clean="datetime"),
        T("owner", "负责人", "Owner", "销售", "销售负责人", "owner name", "sales rep", column=None, clean="owner"),
    ],
    "followup": [
        *_CUSTOMER_REF,
        T("contact_name", "联系人", "Contact", "联系人姓名", "contact name", column=None, max_len=100),
        T("type", "跟进方式", "Type", "方式", "类型", "跟进类型", "follow-up type", "channel", clean="choice",
          choices=("call", "visit", "email", "wechat", "meeting", "note")),
        T("content", "跟进内容", "Content", "内容", "记录", "跟进记录", "沟通内容", "备注", "notes", "note", "summary", required=True,
          max_len=20000),
        T("occurred_at", "跟进时间", "Date", "时间", "日期", "跟进日期", "沟通时间", "occurred at", "time", clean="datetime"),
        T("next_followup_at", "下次跟进时间", "Next follow-up", "下次跟进", "下次联系时间", "next follow-up", clean="datetime"),
    ],
}

# labels typed in spreadsheets for the choice fields
CHOICE_WORDS: dict[str, dict[str, str]] = {
    "status": {"潜在": "potential", "潜在客户": "potential", "活跃": "active", "成交": "active", "成交客户": "active", "合作中": "active",
               "停用": "inactive", "不活跃": "inactive", "休眠": "inactive", "流失": "lost", "已流失": "lost"},
    "type": {"电话": "call", "打电话": "call", "拜访": "visit", "上门": "visit", "上门拜访": "visit", "邮件": "email", "电子邮件": "email",
             "微信": "wechat", "会议": "meeting", "开会": "meeting", "备注": "note", "笔记": "note", "其他": "note"},
}

_PUNCT = re.compile(r"[\s\*＊:：_\-—/\\.·•()（）\[\]【】]+")
_NOTE = re.compile(r"[（(【\[][^)）】\]]{0,12}[)）】\]]")


def norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = _NOTE.sub("", text)
    return _PUNCT.sub("", text)


def targets(kind: str) -> dict[str, Target]:
    return {t.name: t for t in TARGETS[kind]}


def _synonyms(kind: str, custom_defs: list[Any]) -> dict[str, list[tuple[str, str]]]:
    """normalised synonym -> [(field, origin)]; custom fields answer to their name and labels."""
    table: dict[str, list[tuple[str, str]]] = {}
    for t in TARGETS[kind]:
        for s in t.synonyms:
            table.setdefault(norm_header(s), []).append((t.name, "builtin"))
    for d in custom_defs:
        for s in (d.name, f"cf_{d.name}", getattr(d, "label", None), getattr(d, "label_en", None)):
            if s:
                table.setdefault(norm_header(s), []).insert(0, (f"cf_{d.name}", "custom"))
    return table


def match_header(kind: str, header: str, custom_defs: list[Any], table: dict | None = None) -> tuple[str | None, float]:
    table = table if table is not None else _synonyms(kind, custom_defs)
    key = norm_header(header)
    if not key:
        return None, 0.0
    if key in table:
        return table[key][0][0], 1.0
    # a header that contains a synonym (客户名称（全称）, 联系人手机) — the longest synonym wins
    best: tuple[int, str] | None = None
    for syn, fields in table.items():
        if len(syn) >= 2 and (syn in key or (len(key) >= 2 and key in syn)):
            if best is None or len(syn) > best[0]:
                best = (len(syn), fields[0][0])
    if best:
        return best[1], 0.7
    return None, 0.0


def header_score(kind: str, custom_defs: list[Any]):
    table = _synonyms(kind, custom_defs)

    def score(cells: list[str]) -> float:
        return sum(match_header(kind, c, custom_defs, table)[1] for c in cells[:60])

    return score


def propose(kind: str, headers: list[str], custom_defs: list[Any], excluded: set[str] = frozenset(),
            template: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One entry per column: the proposed field (or None) and the confidence; each field at most once,
    to the column that matches it best. A template (header -> field) takes precedence."""
    table = _synonyms(kind, custom_defs)
    valid = set(targets(kind)) | {f"cf_{d.name}" for d in custom_defs}
    guesses: list[tuple[str | None, float]] = []
    tpl = {norm_header(k): v for k, v in (template or {}).items()}
    for h in headers:
        if norm_header(h) in tpl and (tpl[norm_header(h)] in valid or tpl[norm_header(h)] is None):
            guesses.append((tpl[norm_header(h)], 1.0 if tpl[norm_header(h)] else 0.0))
        else:
            guesses.append(match_header(kind, h, custom_defs, table))
    taken: dict[str, int] = {}
    for i, (f, conf) in enumerate(guesses):
        if f is None or f in excluded:
            continue
        if f not in taken or conf > guesses[taken[f]][1]:
            taken[f] = i
    out = []
    for i, h in enumerate(headers):
        f, conf = guesses[i]
        chosen = f if f is not None and taken.get(f) == i else None
        out.append({"column": i, "header": h, "field": chosen, "confidence": conf if chosen else 0.0})
    return out


def field_list(kind: str, custom_defs: list[Any], lang: str, hidden: set[str]) -> list[dict[str, Any]]:
    out = [{"field": t.name, "label": t.zh if lang != "en" else t.en, "required": t.required} for t in TARGETS[kind]
           if (t.column or t.name) not in hidden and t.name not in hidden]
    for d in custom_defs:
        if f"cf_{d.name}" not in hidden:
            label = getattr(d, "label_en", None) if lang == "en" else getattr(d, "label", None)
            out.append({"field": f"cf_{d.name}", "label": label or d.name, "required": bool(getattr(d, "required", False))})
    return out
