"""Normalisation of the values people type: phones, e-mails, company names, search text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pypinyin import Style, lazy_pinyin

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Full-width to half-width (NFKC), stray spaces collapsed and trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


class InvalidPhone(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalize_phone(raw: str, *, mobile: bool = False, region: str = "CN") -> str:
    """Return E.164 (+8613812345678). Raises InvalidPhone('invalid_mobile'|'invalid_phone')."""
    text = fold(raw)
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


def normalize_email(raw: str) -> str:
    """Validated e-mail, domain lower-cased; raises ValueError on bad syntax (no network)."""
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
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


@lru_cache(maxsize=65536)
def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters: 张伟 → ('zhangwei', 'zw')."""
    if not _has_cjk(text):
        return "", ""
    syllables = [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s]
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
    for value in values:
        grams.update(value)
        grams.update(value[i : i + 2] for i in range(len(value) - 1))
    return sorted(grams)


def query_grams(q: str) -> list[str]:
    """Grams a match must contain: the character itself for one character, else its 2-grams."""
    if len(q) <= 1:
        return [q] if q else []
    return sorted({q[i : i + 2] for i in range(len(q) - 1)})
