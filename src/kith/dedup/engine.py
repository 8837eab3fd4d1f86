"""Blocking + scoring duplicate detection shared by the import wizard, the duplicate finder and the
FEBRL benchmark.

A *kind* is a list of :class:`FieldSpec` (how a field is prepared, compared and blocked on) and a
``prepare`` function that turns a raw or cleaned record into comparable values.  Scores follow the
Fellegi–Sunter idea: every field present on both sides adds a log2 weight between its ``disagree``
and ``agree`` weight according to its similarity; the sum is turned into a 0..1 score with a logistic
curve centred on the kind's ``offset``.  Only candidates that share a block are scored:
exact blocks (normalised phone, e-mail, company key, id numbers) and the rarest q-grams of fuzzy
fields (rare grams make small blocks; frequent ones such as 科技 are never used as blocks).
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from kith.core.normalize import (  # noqa: F401
    _LEGAL_SUFFIXES, _REGION_PAREN, InvalidPhone, fold, normalize_company, normalize_phone, pinyin_forms,
)

__all__ = ["Candidate", "FieldSpec", "Kind", "Matcher", "KINDS", "existing_matcher", "company_key"]


@dataclass
class Candidate:
    a: Hashable
    b: Hashable
    score: float  # 0..1
    matched: dict[str, float]  # per-field similarity of the fields that matched

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4),
                "matched": {k: round(v, 4) for k, v in self.matched.items()}}


Compare = Literal["exact", "set", "name", "person_name", "string", "date", "id"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    compare: Compare
    agree: float  # log2 weight when the values agree fully
    disagree: float  # log2 weight (≤ 0) when they clearly disagree
    floor: float = 0.0  # similarity at or below which the field counts as full disagreement
    match_at: float = 0.85  # similarity from which the field is reported in ``matched``
    block: Literal["exact", "grams", "prefix"] | None = None
    prefilter: float | None = None  # candidates from gram blocks must reach this similarity first


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[FieldSpec, ...]
    prepare: Callable[[dict[str, Any]], dict[str, Any]]
    offset: float  # weight sum that gives a score of 0.5
    threshold: float = 0.75
    rare_grams: int = 4  # gram blocks used per record (the rarest ones)
    max_block: int = 400  # blocks larger than this are not used (too common to discriminate)
    max_gram_block: int = 150  # the same for q-gram blocks (the rarest grams of a value are used)
    min_fields: int = 1  # >1: a candidate must share blocks on that many fields (person records)
    identifiers: tuple[str, ...] = ()  # with min_fields > 1: fields whose exact block alone makes a candidate


# ------------------------------------------------------------------------------------- prepare

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)

_LEADING_REGIONS = sorted(
    {
        "北京", "上海", "天津", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
        "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
        "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "深圳", "广州", "杭州", "南京", "苏州",
        "成都", "武汉", "西安", "厦门", "青岛", "大连", "宁波", "无锡", "长沙", "郑州", "济南", "沈阳", "合肥",
        "福州", "东莞", "佛山", "珠海", "昆明", "哈尔滨", "长春", "石家庄", "太原", "南昌", "南宁", "贵阳",
        "中山", "温州", "常州", "烟台", "泉州", "绍兴", "嘉兴", "金华", "台州", "徐州", "南通", "扬州", "惠州",
    },
    key=len,
    reverse=True,
)
_REGION_PREFIX = re.compile(r"^(?:" + "|".join(_LEADING_REGIONS) + r")(?:省|市|自治区)?(?:市)?")


_SUFFIX_RE = re.compile("(?:" + "|".join(re.escape(x) for x in sorted(_LEGAL_SUFFIXES, key=len, reverse=True))
                        + r")$")
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def _fast_company(name: str) -> str:
    """normalize_company with one regex per suffix pass (same result, several times faster)."""
    text = _REGION_PAREN.sub("", fold(name).lower())
    while True:
        m = _SUFFIX_RE.search(text)
        if not m or m.start() == 0:
            break
        text = text[: m.start()].strip(" ,.")
    return _NOT_ALNUM.sub("", text)


@lru_cache(maxsize=65536)
def company_key(name: str | None) -> str:
    """Company key for matching: normalize_company (legal suffixes, (北京) removed, folded) and a
    leading region name dropped too (北京华为技术有限公司 → 华为技术) when something is left."""
    if not name:
        return ""
    key = _fast_company(name)
    stripped = _REGION_PREFIX.sub("", key, count=1)
    return stripped if len(stripped) >= 2 else key


_MAINLAND_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_SEPARATORS = re.compile(r"[\s\-()（）.]+")


@lru_cache(maxsize=262144)
def _phone(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    if text.startswith("+") and text[1:].isdigit():
        return text
    # fast path for the common case (a mainland mobile in any format); phonenumbers for the rest
    m = _MAINLAND_MOBILE.match(_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)))
    if m:
        return "+86" + m.group(1)
    try:
        return normalize_phone(text)
    except InvalidPhone:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
        return digits or None


def _many(record: dict[str, Any], *keys: str) -> list[Any]:
    out: list[Any] = []
    for key in keys:
        v = record.get(key)
        if v is None or v == "":
            continue
        if isinstance(v, (list, tuple, set, frozenset)):
            out.extend(x for x in v if x)
        else:
            out.append(v)
    return out


def _phones(record: dict[str, Any]) -> frozenset[str]:
    return frozenset(p for p in (_phone(v) for v in _many(record, "phone", "mobile", "phones")) if p)


def _emails(record: dict[str, Any]) -> frozenset[str]:
    return frozenset(fold(str(v)).replace(" ", "").lower() for v in _many(record, "email", "emails"))


def _city(record: dict[str, Any]) -> str | None:
    region = record.get("region")
    if isinstance(region, (tuple, list)) and region:
        parts = [p for p in region if p]
        city = region[1] if len(region) > 1 and region[1] else (parts[0] if parts else None)
    else:
        city = record.get("city") or record.get("province")
    if not city:
        return None
    city = fold(str(city))
    return re.sub(r"(市|省)$", "", city) or None


def prepare_customer(record: dict[str, Any]) -> dict[str, Any]:
    key = record.get("name_key")
    key = company_key(record.get("name")) if record.get("name") else (
        _REGION_PREFIX.sub("", key, count=1) if key else "")
    return {"name": key or None, "phones": _phones(record) or None, "emails": _emails(record) or None,
            "city": _city(record)}


def person_key(name: Any) -> str:
    return _PUNCT.sub("", fold(str(name)).lower()) if name else ""


def prepare_contact(record: dict[str, Any]) -> dict[str, Any]:
    company = record.get("customer_id")
    company_name = company_key(record.get("customer_name")) if record.get("customer_name") else None
    if not company_name and record.get("customer_name_key"):
        key = record["customer_name_key"]
        company_name = _REGION_PREFIX.sub("", key, count=1) or key
    return {
        "name": person_key(record.get("name")) or None,
        "phones": _phones(record) or None,
        "emails": _emails(record) or None,
        "company": (company_name or (f"#{company}" if company is not None else None)),
    }


def _txt(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if v != v:  # NaN from pandas
            return None
        v = int(v) if v.is_integer() else v
    s = _PUNCT.sub(" ", fold(str(v)).lower()).strip()
    return s or None


def prepare_person(record: dict[str, Any]) -> dict[str, Any]:
    """FEBRL-style person records (given_name, surname, street_number, address_1, address_2, suburb,
    postcode, state, date_of_birth, soc_sec_id)."""
    return {k: _txt(record.get(k)) for k in (
        "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
        "date_of_birth", "soc_sec_id")}


CUSTOMER = Kind(
    "customer",
    (
        FieldSpec("name", "name", agree=8, disagree=-8, floor=0.55, match_at=0.85, block="grams", prefilter=0.55),
        FieldSpec("phones", "set", agree=9, disagree=-1, match_at=1.0, block="exact"),
        FieldSpec("emails", "set", agree=9, disagree=-1, match_at=1.0, block="exact"),
        FieldSpec("city", "exact", agree=0.5, disagree=-1.5, match_at=1.0),
    ),
    prepare_customer,
    offset=5.0,
)

CONTACT = Kind(
    "contact",
    (
        FieldSpec("name", "person_name", agree=6, disagree=-7, floor=0.5, match_at=0.85, block="grams", prefilter=0.5),
        FieldSpec("phones", "set", agree=9, disagree=-1, match_at=1.0, block="exact"),
        FieldSpec("emails", "set", agree=9, disagree=-1, match_at=1.0, block="exact"),
        FieldSpec("company", "name", agree=3, disagree=-2, floor=0.5, match_at=0.85),
    ),
    prepare_contact,
    offset=5.0,
)

PERSON = Kind(
    "person",
    (
        FieldSpec("given_name", "string", agree=5, disagree=-3, floor=0.7, block="grams"),
        FieldSpec("surname", "string", agree=6, disagree=-4, floor=0.7, block="grams"),
        FieldSpec("street_number", "id", agree=2, disagree=-1, floor=0.5, match_at=1.0),
        FieldSpec("address_1", "string", agree=4, disagree=-2, floor=0.6, block="grams"),
        FieldSpec("address_2", "string", agree=2, disagree=-0.5, floor=0.6),
        FieldSpec("suburb", "string", agree=4, disagree=-2, floor=0.7),
        FieldSpec("postcode", "id", agree=4, disagree=-2, floor=0.5, match_at=1.0, block="exact"),
        FieldSpec("state", "exact", agree=1, disagree=-2, match_at=1.0),
        FieldSpec("date_of_birth", "date", agree=7, disagree=-3, match_at=1.0, block="exact"),
        FieldSpec("soc_sec_id", "id", agree=9, disagree=-4, floor=0.5, match_at=1.0, block="exact"),
    ),
    prepare_person,
    offset=12.0,
    threshold=0.5,
    rare_grams=3,
    max_block=200,
    min_fields=2,
)

KINDS: dict[str, Kind] = {"customer": CUSTOMER, "contact": CONTACT, "person": PERSON}


# ------------------------------------------------------------------------------------ compare


def _name_sim(a: str, b: str) -> float:
    s = fuzz.ratio(a, b) / 100
    if s < 0.5 and a.isascii() != b.isascii():
        # 小米科技 / xiaomi: compare the pinyin of the Chinese name with the Latin one
        latin, cjk = (a, b) if a.isascii() else (b, a)
        py = pinyin_forms(cjk)[0]
        if py:
            s = max(s, 0.95 * fuzz.ratio(latin, py) / 100, 0.9 * fuzz.partial_ratio(latin, py) / 100
                    if len(latin) >= 4 else 0.0)
        return s
    if s < 1 and not a.isascii():
        # containment (华为 / 华为技术) counts as a near match when the shorter part is meaningful
        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
        if len(short) >= 2 and short in long_:
            s = max(s, 0.92 - 0.04 * min(len(long_) - len(short), 5))
    elif s < 1:
        s = max(s, fuzz.token_sort_ratio(a, b) / 100)
    return s


def _person_name_sim(a: str, b: str) -> float:
    s = fuzz.ratio(a, b) / 100
    if s < 1 and not (a.isascii() and b.isascii()):
        pa, pb = pinyin_forms(a)[0] or a, pinyin_forms(b)[0] or b
        if pa == pb:
            s = max(s, 0.9)  # same sound, other character (张伟 / 张玮)
        else:
            s = max(s, 0.9 * fuzz.ratio(pa, pb) / 100)
    elif s < 1:
        s = max(s, fuzz.token_sort_ratio(a, b) / 100)
    return s


def _similarity(spec: FieldSpec, a: Any, b: Any) -> float:
    c = spec.compare
    if a == b:
        return 1.0
    if c == "exact":
        return 0.0
    if c == "set":
        return 1.0 if a & b else 0.0
    if c == "name":
        return _name_sim(a, b)
    if c == "person_name":
        return _person_name_sim(a, b)
    if c == "string":
        return JaroWinkler.normalized_similarity(a, b)
    if c == "id":
        # one typo in a number counts half
        return 0.75 if Levenshtein.distance(a, b, score_cutoff=1) <= 1 else 0.0
    if c == "date":
        if len(a) == len(b) == 8 and a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
            return 0.8  # day and month swapped
        return 0.7 if Levenshtein.distance(a, b, score_cutoff=1) <= 1 else 0.0
    raise ValueError(c)


_CONTAINMENT_MAX = 0.92  # the most _name_sim gives a name contained in the other one
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def _no_ascii(value: str) -> bool:
    return _NOT_ASCII.fullmatch(value) is not None


def _ratio_can_reach(n: int, need: float) -> bool:
    """Whether some name other than a value of length n can have fuzz.ratio ≥ need with it: the ratio is
    2·LCS / (n + m), at most 1 − 1/n for another value of the same length and 2·min(n, m) / (n + m) ≤ 2n / (2n + 1)
    for another length."""
    return n and (1 - 1 / n >= need - 1e-9 or 2 * n / (2 * n + 1) >= need - 1e-9)


def _grams(value: str) -> set[str]:
    if value.isascii():
        v = value.replace(" ", "")
        grams = {v[i : i + 2] for i in range(len(v) - 1)}
        return grams or {v}
    return {value[i : i + 2] for i in range(len(value) - 1)} or {value}


# ------------------------------------------------------------------------------------- matcher


class Matcher:
    """Add records (key → record), then ``match`` a new record against them or list ``pairs``."""

    def __init__(self, kind: Literal["customer", "contact", "person"] | Kind = "customer",
                 threshold: float | None = None) -> None:
        self.kind: Kind = KINDS[kind] if isinstance(kind, str) else kind
        self.threshold = self.kind.threshold if threshold is None else threshold
        self._keys: list[Hashable] = []
        self._values: list[tuple[Any, ...]] = []
        self._index: dict[tuple[int, Any], list[int]] = {}
        self._fields = self.kind.fields
        self._max_weight = sum(f.agree for f in self._fields)

    def __len__(self) -> int:
        return len(self._keys)

    # -- building
    def _vector(self, record: dict[str, Any]) -> tuple[Any, ...]:
        prepared = self.kind.prepare(record)
        return tuple(prepared.get(f.name) for f in self._fields)

    def _block_keys(self, vec: tuple[Any, ...]) -> Iterable[tuple[int, Any]]:
        for i, spec in enumerate(self._fields):
            v = vec[i]
            if not v or spec.block is None:
                continue
            if spec.block == "exact":
                if isinstance(v, frozenset):
                    for x in v:
                        yield (i, x)
                else:
                    yield (i, v)
            elif spec.block == "grams":
                yield (i, v)  # the whole value is a block too
                for g in _grams(v):
                    yield (-1 - i, g)
            elif spec.block == "prefix":
                yield (i, v[:3])

    def add(self, key: Hashable, record: dict[str, Any]) -> None:
        self._add_vector(key, self._vector(record))

    def _add_vector(self, key: Hashable, vec: tuple[Any, ...]) -> int:
        idx = len(self._keys)
        self._keys.append(key)
        self._values.append(vec)
        index = self._index
        for bk in self._block_keys(vec):
            lst = index.get(bk)
            if lst is None:
                index[bk] = [idx]
            elif lst[-1] != idx:
                lst.append(idx)
        return idx

    # -- candidates and scores
    def _lookup(self, before: int | None) -> Callable[[Any], list[int] | None]:
        """Block lookup; with ``before``, only the records added before that position (block lists are in
        insertion order), so a record is matched against the index exactly as it stood when it was added."""
        get = self._index.get
        if before is None:
            return get

        def lookup(key: Any) -> list[int] | None:
            lst = get(key)
            if lst and lst[-1] >= before:
                lst = lst[: bisect_left(lst, before)]
            return lst

        return lookup

    def _candidates(self, vec: tuple[Any, ...], before: int | None = None) -> set[int]:
        if self.kind.min_fields > 1:
            return self._candidates_by_fields(vec, before)
        get, cap = self._lookup(before), self.kind.max_block
        found: set[int] = set()
        # exact blocks first; `shared_elsewhere`: one of the record's exact values sits in a block too large to use,
        # so a gram-block candidate might still share it (then only the floor prefilter applies, see _name_need)
        shared_elsewhere = False
        for i, spec in enumerate(self._fields):
            v = vec[i]
            if not v or spec.block is None or spec.block == "grams":
                continue
            for bk in self._block_keys_one(i, spec, v):
                lst = get(bk)
                if lst:
                    if len(lst) <= cap:
                        found.update(lst)
                    else:
                        shared_elsewhere = True
        for i, spec in enumerate(self._fields):
            v = vec[i]
            if not v or spec.block != "grams":
                continue
            whole = get((i, v))
            if whole:
                if len(whole) <= cap:
                    found.update(whole)
                else:
                    shared_elsewhere = True  # identical names may then come from the gram blocks only
            strict = spec.compare == "name" and spec.prefilter is not None and not shared_elsewhere
            need = self._name_need(i, vec) if strict else 0.0
            if strict and need > _CONTAINMENT_MAX and _no_ascii(v) and not _ratio_can_reach(len(v), need):
                # a Chinese name this short: no other name reaches `need` by ratio (containment tops out below
                # it, and no Latin name can be contained in it) — only identical names, all in the whole block
                continue
            gcap = self.kind.max_gram_block
            lists = [lst for g in _grams(v) if (lst := get((-1 - i, g))) and len(lst) <= gcap]
            lists.sort(key=len)
            lists = lists[: self.kind.rare_grams]
            fuzzy: set[int] = set()
            if len(lists) >= 3:
                # a variant of a longer name shares several of its rare grams: keep those sharing two
                counts = Counter(lists[0])
                for lst in lists[1:]:
                    counts.update(lst)
                fuzzy = {j for j, n in counts.items() if n >= 2}
            else:
                for lst in lists:
                    fuzzy.update(lst)
            fuzzy -= found
            if fuzzy and spec.prefilter is not None:
                ids = list(fuzzy)
                values = self._values
                choices = [values[j][i] or "" for j in ids]
                # cheap C-level filter before the full score: below the field's floor a plain ratio cannot make a
                # match (containment is checked just below); for company names, below _name_need none can
                need = max(need, spec.prefilter)
                ascii_ = v.isascii()
                cut = min(need * 100 - 1e-6, 100.0)
                keep = process.extract(v, choices, scorer=fuzz.ratio, limit=None,
                                       score_cutoff=spec.prefilter * 100 if ascii_ else max(cut, spec.prefilter * 100))
                if ascii_ and need > spec.prefilter:  # _name_sim takes the better of ratio and token_sort_ratio
                    keep = [k for k in keep if k[1] >= cut or fuzz.token_sort_ratio(v, k[0]) >= cut]
                fuzzy = {ids[pos] for _, _, pos in keep}
                if not ascii_ and need <= _CONTAINMENT_MAX:  # containment and same-sound names are not caught by ratio
                    fuzzy |= {ids[p] for p, c in enumerate(choices) if c and (c in v or v in c)}
                elif not ascii_ and not _no_ascii(v):  # a Latin name inside a Chinese one: compared by pinyin
                    fuzzy |= {ids[p] for p, c in enumerate(choices) if c and c.isascii() and c in v}
            found |= fuzzy
        return found

    def _name_need(self, i: int, vec: tuple[Any, ...]) -> float:
        """The lowest similarity of gram field ``i`` ("name" compare) with which a candidate that shares none of
        the record's exact-block values (phones, e-mails) can still reach the threshold: those fields then add
        at most 0, every other field present at most its ``agree`` weight. Above the floor a similarity s adds
        disagree + (agree − disagree)·(s − floor)/(1 − floor), and a score ≥ threshold needs a weight sum ≥
        offset + log2(threshold / (1 − threshold)). Company names (ratio ≥ 0.946 with a city, 0.960 without)."""
        thr = self.threshold
        if not 0 < thr < 1:
            return 0.0
        need = self.kind.offset + math.log2(thr / (1 - thr))
        spec = self._fields[i]
        for k, other in enumerate(self._fields):
            if k == i or not vec[k]:
                continue
            if other.block == "exact" and other.compare in ("set", "exact"):
                continue  # not shared (else the candidate came from that block): adds ≤ 0
            need -= max(other.agree, 0.0)
        return spec.floor + (need - spec.disagree) * (1 - spec.floor) / (spec.agree - spec.disagree)

    def _candidates_by_fields(self, vec: tuple[Any, ...], before: int | None = None) -> set[int]:
        """Records sharing blocks on at least ``min_fields`` different fields (or one identifier)."""
        get, cap, kind = self._lookup(before), self.kind.max_block, self.kind
        per_field: list[set[int]] = []
        sure: set[int] = set()
        for i, spec in enumerate(self._fields):
            v = vec[i]
            if not v or spec.block is None:
                continue
            hits: set[int] = set()
            if spec.block == "grams":
                whole = get((i, v))
                if whole and len(whole) <= cap:
                    hits.update(whole)
                lists = [lst for g in _grams(v) if (lst := get((-1 - i, g))) and len(lst) <= cap]
                lists.sort(key=len)
                for lst in lists[: kind.rare_grams]:
                    hits.update(lst)
            else:
                for bk in self._block_keys_one(i, spec, v):
                    lst = get(bk)
                    if lst and len(lst) <= cap:
                        hits.update(lst)
                if spec.name in kind.identifiers:
                    sure |= hits
            if hits:
                per_field.append(hits)
        counts: dict[int, int] = {}
        for hits in per_field:
            for j in hits:
                counts[j] = counts.get(j, 0) + 1
        need = kind.min_fields
        return sure | {j for j, n in counts.items() if n >= need}

    @staticmethod
    def _block_keys_one(i: int, spec: FieldSpec, v: Any) -> Iterable[tuple[int, Any]]:
        if spec.block == "exact":
            if isinstance(v, frozenset):
                return [(i, x) for x in v]
            return [(i, v)]
        if spec.block == "prefix":
            return [(i, v[:3])]
        return []

    def _score(self, va: tuple[Any, ...], vb: tuple[Any, ...]) -> tuple[float, dict[str, float]]:
        total = 0.0
        matched: dict[str, float] = {}
        for spec, a, b in zip(self._fields, va, vb):
            if not a or not b:
                continue
            s = _similarity(spec, a, b)
            if s <= spec.floor:
                total += spec.disagree
            else:
                total += spec.disagree + (spec.agree - spec.disagree) * (s - spec.floor) / (1 - spec.floor)
            if s >= spec.match_at:
                matched[spec.name] = s
        score = 1.0 / (1.0 + 2.0 ** (-(total - self.kind.offset)))
        return score, matched

    def score(self, a: dict[str, Any], b: dict[str, Any]) -> Candidate:
        """Score two records directly (no blocking)."""
        s, matched = self._score(self._vector(a), self._vector(b))
        return Candidate("a", "b", s, matched)

    def match(self, record: dict[str, Any], limit: int = 5) -> list[Candidate]:
        """Candidates among the added records for ``record`` (``b`` is the added key), best first."""
        vec = self._vector(record)
        out: list[Candidate] = []
        values, keys = self._values, self._keys
        for j in self._candidates(vec):
            s, matched = self._score(vec, values[j])
            if s >= self.threshold and matched:
                out.append(Candidate(None, keys[j], s, matched))
        out.sort(key=lambda c: (-c.score, str(c.b)))
        return out[:limit] if limit else out

    def pairs(self) -> list[Candidate]:
        """Duplicate pairs within the added records (``a`` added before ``b``), best first."""
        seen: set[tuple[int, int]] = set()
        out: list[Candidate] = []
        values, keys = self._values, self._keys
        for i, vec in enumerate(values):
            for j in self._candidates(vec):
                if j == i:
                    continue
                pair = (i, j) if i < j else (j, i)
                if pair in seen:
                    continue
                seen.add(pair)
                s, matched = self._score(values[pair[0]], values[pair[1]])
                if s >= self.threshold and matched:
                    out.append(Candidate(keys[pair[0]], keys[pair[1]], s, matched))
        out.sort(key=lambda c: (-c.score, str(c.a), str(c.b)))
        return out


# ------------------------------------------------------------------------------- from database


def existing_matcher(session: Any, kind: Literal["customer", "contact"], *, readable_condition: Any = None,
                     threshold: float | None = None, batch: int = 5000, exclude: Iterable[str] = ()) -> Matcher:
    """A Matcher holding the live (not deleted) customers or contacts, loaded compactly with SQL
    (id, name, phones, e-mails, city / company) in batches: a few hundred bytes per record.
    ``exclude`` names fields the caller may not see: they take no part in matching."""
    from sqlalchemy import select

    from kith.customers.models import Customer

    matcher = Matcher(kind, threshold)
    skip = set(exclude)
    if "name" in skip and kind == "customer":
        skip.add("name_key")
    if kind == "customer":
        stmt = select(Customer.id, Customer.name_key, Customer.phone, Customer.email, Customer.city,
                      Customer.province).where(Customer.deleted_at.is_(None))
        if readable_condition is not None:
            stmt = stmt.where(readable_condition)
        rows = session.execute(stmt.order_by(Customer.id).execution_options(yield_per=batch))
        for cid, name_key, phone, email, city, province in rows:
            rec = {"name_key": name_key, "phone": phone, "email": email, "city": city or province,
                   "province": province}
            for name in skip:
                rec.pop(name, None)
            if "city" in skip or "province" in skip:
                rec.pop("city", None)
            matcher.add(cid, rec)
    elif kind == "contact":
        from kith.contacts.models import Contact

        stmt = (select(Contact.id, Contact.name, Contact.mobile, Contact.phone, Contact.email, Customer.name_key)
                .join(Customer, Customer.id == Contact.customer_id)
                .where(Contact.deleted_at.is_(None)))
        if readable_condition is not None:
            stmt = stmt.where(readable_condition)
        rows = session.execute(stmt.order_by(Contact.id).execution_options(yield_per=batch))
        for pid, name, mobile, phone, email, name_key in rows:
            rec = {"name": name, "mobile": mobile, "phone": phone, "email": email, "customer_name_key": name_key}
            for name in skip:
                rec.pop(name, None)
            matcher.add(pid, rec)
    else:
        raise ValueError(kind)
    return matcher
