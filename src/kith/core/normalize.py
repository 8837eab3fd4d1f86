"""Normalisation of the values people type: phones, e-mails, company names, search text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import chain
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from pypinyin import Style, lazy_pinyin  # noqa: F401
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin
from pypinyin.seg.mmseg import seg as _MMSEG

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Full-width to half-width (NFKC), stray spaces collapsed and trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


class InvalidPhone(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Fast path (ADR 0019): a plain mainland number — 11-digit mobile, or 0 + area code + subscriber number, or
# +86 + either — typed with only spaces or hyphens between the digits. phonenumbers' own validity test runs on
# the PhoneNumber built directly (no string parse); anything else, or anything invalid, takes the full path.
_FAST_MAINLAND = re.compile(r"(?:\+86)?(1[3-9]\d{9})|(?:\+86|0)([1-9]\d{8,10})")
_FAST_CHARS = re.compile(r"[ \-]")
_OK_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _fast_mainland(text: str, mobile: bool) -> phonenumbers.PhoneNumber | None:
    """The parsed number when ``text`` is a plain, valid mainland number; None means "use the full path"."""
    m = _FAST_MAINLAND.fullmatch(_FAST_CHARS.sub("", text))
    if m is None:
        return None
    nsn = m[1] or m[2]
    if m[1] and nsn.startswith("179"):  # 179xx is also a carrier prefix phonenumbers may strip
        return None
    num = phonenumbers.PhoneNumber(country_code=86, national_number=int(nsn))
    if not phonenumbers.is_valid_number(num):
        return None
    if mobile and phonenumbers.number_type(num) not in _OK_MOBILE_TYPES:
        return None
    return num


def normalize_phone(raw: str, *, mobile: bool = False, region: str = "CN") -> str:
    """Return E.164 (+8613812345678). Raises InvalidPhone('invalid_mobile'|'invalid_phone')."""
    text = fold(raw)
    if region == "CN" and (fast := _fast_mainland(text, mobile)) is not None:
        return f"+86{fast.national_number}"
    return _normalize_phone_full(text, mobile=mobile, region=region)


def _normalize_phone_full(text: str, *, mobile: bool, region: str) -> str:
    digits = re.sub(r"[^\d+]", "", text)
    code = "invalid_mobile" if mobile else "invalid_phone"
    if not digits:
        raise InvalidPhone(code)
    # A mainland mobile typed without a country code: exactly 11 digits starting with 1.
    bare = digits.lstrip("+")
    if bare.startswith("86") and len(bare) == 13 and bare[2] == "1":
        bare = bare[2:]
        digits = bare
    if not digits.startswith("+") and bare.startswith("1"):
        if len(bare) != 11 or bare[1] not in "3456789":
            raise InvalidPhone("invalid_mobile" if (mobile or len(bare) in (10, 12)) else code)
    try:
        parsed = phonenumbers.parse(digits if digits.startswith("+") else text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(code) from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(code)
    if mobile and parsed.country_code == 86:
        if phonenumbers.number_type(parsed) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise InvalidPhone("invalid_mobile")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)  # pure and called for every row of every list page (phonenumbers is slow)
def display_phone(e164: str | None) -> str | None:
    """+8613812345678 → 138-1234-5678; other numbers in international format."""
    if not e164:
        return e164
    if e164.startswith("+861") and len(e164) == 14:
        n = e164[3:]
        return f"{n[:3]}-{n[3:7]}-{n[7:]}"
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 86:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(e164: str | None) -> str:
    """National digits used for fragment search (138 1234 5678 → 13812345678)."""
    if not e164:
        return ""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


# Fast path (ADR 0019): a plain ASCII local part (dot-atom letters, digits, . _ % + -) needs no per-address
# work — the domain, the expensive part of email_validator, is validated once per distinct domain.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*")


@lru_cache(maxsize=16384)
def _email_domain(domain: str) -> str | None:
    """email_validator's normalised domain for ``x@domain``, or None when it refuses it."""
    try:
        return validate_email("x@" + domain, check_deliverability=False).normalized[2:]
    except EmailNotValidError:
        return None


def normalize_email(raw: str) -> str:
    """Validated e-mail, domain lower-cased; raises ValueError on bad syntax (no network)."""
    text = fold(raw)
    local, at, domain = text.rpartition("@")
    if at and len(text) <= 200 and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local) \
            and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES and (dom := _email_domain(domain)) is not None:
        return f"{local}@{dom}"
    try:
        result = validate_email(fold(raw), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError("invalid_email") from exc
    return result.normalized


_LEGAL_SUFFIXES = [
    "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "股份公司", "分公司", "公司", "集团",
    "co., ltd.", "co.,ltd.", "co. ltd.", "co ltd", "company limited", "limited", "ltd.", "ltd", "inc.", "inc",
    "corporation", "corp.", "corp", "gmbh", "llc", "plc",
]
_REGION_PAREN = re.compile(r"[（(][^)）]{1,10}[)）]")


def normalize_company(name: str) -> str:
    """Key for duplicate detection: folded, lower-cased, legal suffix and (region) removed, no punctuation."""
    text = fold(name).lower()
    text = _REGION_PAREN.sub("", text)
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].strip(" ,.")
                changed = True
    return "".join(ch for ch in text if ch.isalnum())


def search_norm(text: str) -> str:
    """Lower-case alphanumerics only (Unicode), full-width folded: the unit of search."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).lower()))


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


# pypinyin's lazy_pinyin segments the text (forward maximum matching on its phrase dictionary), then converts
# every segment on its own — a pure function of the segment. The conversion (phrase lookup, deep copies, style
# regexes) is the expensive part, and company names repeat their segments (cities, trades, 有限公司), so it is
# cached per segment; the result is the same list lazy_pinyin(text, style=NORMAL, errors="ignore") returns.
_PINYIN = Pinyin(UltimateConverter(v_to_u=False, neutral_tone_with_five=False, tone_sandhi=False))


@lru_cache(maxsize=65536)
def _segment_pinyin(segment: str) -> tuple[str, ...]:
    return tuple(chain.from_iterable(_PINYIN._converter.convert(segment, Style.NORMAL, False, "ignore", True)))


# runs of the characters pypinyin has readings for (its RE_HANS class); the rest gives nothing with errors="ignore"
_HANS_RUN = re.compile(RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$") + "+")


def lazy_pinyin_normal(text: str) -> list[str]:
    """lazy_pinyin(text, style=Style.NORMAL, errors="ignore"): pypinyin's own segmentation of each run of Chinese
    characters (forward maximum matching on its phrase dictionary), the per-segment conversion cached."""
    out: list[str] = []
    for run in _HANS_RUN.findall(text):
        for segment in (_MMSEG.cut(run) if PHRASES_DICT else (run,)):
            out.extend(_segment_pinyin(segment))
    return out


@lru_cache(maxsize=65536)
def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters: 张伟 → ('zhangwei', 'zw')."""
    if not _has_cjk(text):
        return "", ""
    syllables = [s for s in lazy_pinyin_normal(text) if s]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables)
    return search_norm(full), search_norm(initials)


def search_values(names: Iterable[str | None], others: Iterable[str | None] = ()) -> list[str]:
    """Normalised search values: names (with pinyin and initials) and other values as typed."""
    values: list[str] = []
    for name in names:
        if not name:
            continue
        values.append(search_norm(name))
        full, initials = pinyin_forms(name)
        if full:
            values.extend([full, initials])
    for other in others:
        if other:
            values.append(search_norm(other))
    return [v for v in dict.fromkeys(values) if v]


def grams_of(values: Iterable[str]) -> list[str]:
    """Distinct 1-grams and 2-grams of each value (never across two values)."""
    grams: set[str] = set()
    add = str.__add__
    for value in values:
        grams.update(value)
        grams.update(map(add, value, value[1:]))
    return sorted(grams)


def query_grams(q: str) -> list[str]:
    """Grams a match must contain: the character itself for one character, else its 2-grams."""
    if len(q) <= 1:
        return [q] if q else []
    return sorted({q[i : i + 2] for i in range(len(q) - 1)})


# --------------------------------------------------------------------------------------------
# Cleaning of imported / typed values: one ``Cleaned`` answer per value, shown in the preview.
# --------------------------------------------------------------------------------------------

import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation  # noqa: E402
from typing import Any  # noqa: E402


@dataclass(frozen=True)
class Cleaned:
    value: Any  # the cleaned value to store (None when empty or invalid)
    display: str | None  # how it is shown (138-1234-5678, 2024-01-05, 北京 / 北京 / 海淀区, 12000.00)
    changed: bool  # the cleaned form differs from what was typed (shown in the preview)
    error: str | None  # error code when invalid: invalid_mobile, invalid_phone, invalid_email, …
    hint: str | None = None  # e.g. "did you mean …@gmail.com"

    @property
    def ok(self) -> bool:
        return self.error is None


_EMPTY = Cleaned(None, None, False, None)


def _typed(raw: Any) -> str:
    """What the user typed, as text (None → '')."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not fold(raw))


def clean_text(raw: Any) -> Cleaned:
    """Full-width folded, stray spaces collapsed; empty → None."""
    if _blank(raw):
        return _EMPTY
    typed = _typed(raw)
    value = fold(typed)
    return Cleaned(value, value, value != typed, None)


def _clean_phone(raw: Any, mobile: bool) -> Cleaned:
    if _blank(raw):
        return _EMPTY
    return _clean_phone_typed(_typed(raw), mobile)


@lru_cache(maxsize=65536)  # the same number often recurs in a file (repeats, shared switchboards)
def _clean_phone_typed(typed: str, mobile: bool) -> Cleaned:
    fast = _fast_mainland(fold(typed), mobile)
    if fast is not None:  # valid: format from the number already built (no second parse for display)
        e164 = f"+86{fast.national_number}"
        shown = display_phone(e164) if e164.startswith("+861") and len(e164) == 14 else \
            phonenumbers.format_number(fast, phonenumbers.PhoneNumberFormat.NATIONAL)
        return Cleaned(e164, shown, shown != typed.strip(), None)
    try:
        e164 = normalize_phone(typed, mobile=mobile)
    except InvalidPhone as exc:
        return Cleaned(None, fold(typed), False, exc.code)
    shown = display_phone(e164)
    return Cleaned(e164, shown, shown != typed.strip(), None)


def clean_mobile(raw: Any) -> Cleaned:
    """Mainland mobile: 11 digits, stored E.164, shown 138-1234-5678 (international mobiles accepted)."""
    return _clean_phone(raw, True)


def clean_phone(raw: Any) -> Cleaned:
    """Any phone: landline (010-12345678), mobile or international (+44 20 …)."""
    return _clean_phone(raw, False)


COMMON_EMAIL_DOMAINS = (
    "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "foxmail.com",
    "aliyun.com", "139.com", "189.cn", "gmail.com", "outlook.com", "hotmail.com", "live.com",
    "yahoo.com", "icloud.com", "me.com", "msn.com", "protonmail.com",
)
_COMMON_DOMAIN_SET = frozenset(COMMON_EMAIL_DOMAINS)


@lru_cache(maxsize=16384)
def email_typo_hint(domain: str) -> str | None:
    """The common domain a typed domain most likely meant (gmial.com → gmail.com), or None."""
    from rapidfuzz.distance import OSA

    domain = domain.lower()
    if domain in _COMMON_DOMAIN_SET:
        return None
    best, best_d = None, 99
    for known in COMMON_EMAIL_DOMAINS:
        d = OSA.distance(domain, known, score_cutoff=2)
        if d < best_d:
            best, best_d = known, d
    if best is None:
        return None
    # One edit always; two edits only on longer names whose first letter agrees (avoid acme.cn → qq.com).
    if best_d == 1 or (best_d == 2 and len(domain) >= 9 and domain[0] == best[0]):
        return best
    return None


def clean_email(raw: Any) -> Cleaned:
    """Syntax-checked (no network), domain lower-cased, with a typo hint for common providers."""
    if _blank(raw):
        return _EMPTY
    return _clean_email_typed(_typed(raw))


@lru_cache(maxsize=65536)
def _clean_email_typed(typed: str) -> Cleaned:
    text = fold(typed).replace(" ", "")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    try:
        value = normalize_email(text)
    except ValueError:
        return Cleaned(None, fold(typed), False, "invalid_email")
    local, _, domain = value.rpartition("@")
    suggestion = email_typo_hint(domain)
    hint = f"{local}@{suggestion}" if suggestion else None
    return Cleaned(value, value, value != typed, None, hint)


# ----- regions: cpca (offline, bundled administrative-division data), cached -----

_CPCA_LOCK = threading.Lock()
_PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")
_MUNICIPALITIES = frozenset({"北京", "上海", "天津", "重庆"})


def short_province(name: str | None) -> str | None:
    """北京市 → 北京, 广东省 → 广东, 新疆维吾尔自治区 → 新疆, 内蒙古自治区 → 内蒙古."""
    if not name:
        return None
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def short_city(name: str | None) -> str | None:
    """深圳市 → 深圳; 地区 / 自治州 / 盟 are kept as named."""
    if not name:
        return None
    if name.endswith("市") and len(name) > 2:
        return name[:-1]
    return name


@lru_cache(maxsize=16384)
def parse_region(text: str) -> tuple[str | None, str | None, str | None]:
    """(province, city, district) in short form; municipalities use the province as city."""
    text = fold(text).replace(" ", "")
    if not text:
        return None, None, None
    with _CPCA_LOCK:
        import cpca  # lazy: loads its administrative-division table on first use

        df = cpca.transform([text])
    row = df.iloc[0]

    def cell(key: str) -> str | None:
        v = row.get(key)
        return v if isinstance(v, str) and v and v != "市辖区" and v != "县" else None

    province, city, district = short_province(cell("省")), short_city(cell("市")), cell("区")
    if province in _MUNICIPALITIES:
        city = province
    return province, city, district


def region_display(value: tuple[str | None, str | None, str | None] | None) -> str | None:
    if not value:
        return None
    parts = [p for p in value if p]
    return " / ".join(parts) if parts else None


def clean_region(raw: Any) -> Cleaned:
    """'北京市海淀区…' → ('北京', '北京', '海淀区'); '北京市' and '北京' give the same value."""
    if _blank(raw):
        return _EMPTY
    typed = _typed(raw)
    if isinstance(raw, (tuple, list)):
        typed = "".join(str(p) for p in raw if p)
    value = parse_region(typed)
    if not value[0]:
        return Cleaned(None, fold(typed), False, "invalid_region")
    shown = region_display(value)
    return Cleaned(value, shown, shown != typed.strip(), None)


# ----- dates -----

_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 system (incl. its 1900-02-29 quirk for serials > 60)
_DATE_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def excel_serial_date(serial: float) -> date | None:
    """Excel serial number → date (1 = 1900-01-01); None outside 1900…2199."""
    if not 1 <= serial < 109575 or int(serial) == 60:  # 60 is Excel's phantom 1900-02-29
        return None
    if serial < 60:
        return date(1899, 12, 31) + timedelta(days=int(serial))
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def _date_display(d: date) -> str:
    return d.isoformat()


def clean_date(raw: Any) -> Cleaned:
    """2024/1/5, 2024-01-05, 2024年1月5日, 2024.1.5, 20240105, 5/1/2024 (day first), datetime/date,
    Excel serial numbers (45296 → 2024-01-05). Value: ``datetime.date``."""
    if _blank(raw):
        return _EMPTY
    if isinstance(raw, datetime):
        d = raw.date()
        return Cleaned(d, _date_display(d), False, None)
    if isinstance(raw, date):
        return Cleaned(raw, _date_display(raw), False, None)
    if isinstance(raw, bool):
        return Cleaned(None, str(raw), False, "invalid_date")
    typed = _typed(raw)
    if isinstance(raw, (int, float, Decimal)):
        d = excel_serial_date(float(raw))
        if d is None:
            return Cleaned(None, typed, False, "invalid_date")
        return Cleaned(d, _date_display(d), True, None)
    text = fold(typed)
    d = None
    try:
        if m := _DATE_YMD.match(text):
            d = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _DATE_COMPACT.match(text):
            d = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _DATE_DMY.match(text):
            d = date(int(m[3]), int(m[2]), int(m[1]))
        elif re.fullmatch(r"\d{5}(\.\d+)?", text):  # a serial number pasted as text
            d = excel_serial_date(float(text))
    except ValueError:
        d = None
    if d is None:
        return Cleaned(None, text, False, "invalid_date")
    shown = _date_display(d)
    return Cleaned(d, shown, shown != typed.strip(), None)


# ----- amounts -----

_AMOUNT_UNITS = {"万": Decimal(10_000), "w": Decimal(10_000), "亿": Decimal(100_000_000),
                 "千": Decimal(1_000), "k": Decimal(1_000), "百万": Decimal(1_000_000), "m": Decimal(1_000_000)}
_AMOUNT = re.compile(
    r"^(?P<sign>[-+])?\s*(?:rmb|cny|usd|￥|¥|\$|元)?\s*(?P<sign2>[-+])?\s*(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<unit>百万|万|亿|千|k|w|m)?\s*(?:元|块|rmb|cny|人民币)?$"
)
_CENT = Decimal("0.01")


def clean_amount(raw: Any) -> Cleaned:
    """'1.2万' → 12000, '¥12,000' → 12000, '12k' → 12000, '(1,200)' → -1200. Value: Decimal (2 places)."""
    if _blank(raw):
        return _EMPTY
    if isinstance(raw, bool):
        return Cleaned(None, str(raw), False, "invalid_amount")
    typed = _typed(raw)
    if isinstance(raw, (int, float, Decimal)):
        try:
            value = Decimal(str(raw)).quantize(_CENT, ROUND_HALF_UP)
        except InvalidOperation:
            return Cleaned(None, typed, False, "invalid_amount")
        if not value.is_finite():
            return Cleaned(None, typed, False, "invalid_amount")
        return Cleaned(value, f"{value:.2f}", f"{value:.2f}" != typed, None)
    text = fold(typed).lower().replace(" ", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    m = _AMOUNT.match(text)
    if not m:
        return Cleaned(None, fold(typed), False, "invalid_amount")
    num = m["num"]
    if "," in num and not re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", num):
        return Cleaned(None, fold(typed), False, "invalid_amount")
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:
        return Cleaned(None, fold(typed), False, "invalid_amount")
    if m["unit"]:
        value *= _AMOUNT_UNITS[m["unit"]]
    if negative or "-" in ((m["sign"] or "") + (m["sign2"] or "")):
        value = -value
    value = value.quantize(_CENT, ROUND_HALF_UP)
    shown = f"{value:.2f}"
    return Cleaned(value, shown, shown != typed.strip(), None)
