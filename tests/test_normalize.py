"""Normalisation of what people type: every correction is a ``Cleaned`` value the preview can show."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from kith.core.normalize import (
    Cleaned, clean_amount, clean_date, clean_email, clean_mobile, clean_phone, clean_region, clean_text,
    display_phone, normalize_company, normalize_phone,
)


@pytest.mark.parametrize("typed", ["13812345678", "138-1234-5678", "138 1234 5678", "+86 138 1234 5678",
                                   "8613812345678", "１３８１２３４５６７８", " 138\u30001234\u30005678 "])
def test_mainland_mobile_is_stored_e164_and_shown_grouped(typed):
    c = clean_mobile(typed)
    assert c == Cleaned("+8613812345678", "138-1234-5678", typed.strip() != "138-1234-5678", None)


@pytest.mark.parametrize("typed", ["1381234567", "138123456789", "12812345678", "abc", "+86 138 1234"])
def test_mobiles_without_eleven_digits_are_invalid(typed):
    c = clean_mobile(typed)
    assert c.value is None and c.error == "invalid_mobile" and not c.ok


def test_landlines_and_international_numbers():
    landline = clean_phone("010-12345678")
    assert landline.value == "+861012345678" and landline.error is None
    assert clean_phone("(021) 6123 4567").value == "+862161234567"
    uk = clean_phone("+44 20 7946 0958")
    assert uk.value == "+442079460958" and uk.display == "+44 20 7946 0958" and uk.changed is False
    us = clean_phone("+1 (650) 253-0000")
    assert us.value == "+16502530000"
    assert clean_phone("13812345678").display == "138-1234-5678"  # a mobile is a phone too
    assert clean_phone("12345").error == "invalid_phone"
    # the older helpers keep their behaviour
    assert normalize_phone("138 1234 5678") == "+8613812345678" and display_phone("+8613812345678") == "138-1234-5678"


def test_emails_are_validated_without_network_and_typos_hinted():
    ok = clean_email("  Wang.Wei@QQ.com ")
    assert ok.value == "Wang.Wei@qq.com" and ok.hint is None and ok.changed
    typo = clean_email("wang@gmial.com")
    assert typo.value == "wang@gmial.com" and typo.hint == "wang@gmail.com"  # a hint, not a silent change
    assert clean_email("li@163.con").hint == "li@163.com"
    assert clean_email("li@hotmial.com").hint == "li@hotmail.com"
    assert clean_email("zhao@qq.co").hint == "zhao@qq.com"
    assert clean_email("me@acme-industries.cn").hint is None
    assert clean_email("ｗａｎｇ＠ｑｑ．ｃｏｍ").value == "wang@qq.com"  # full-width folded
    for bad in ("wang@", "@qq.com", "wang qq.com", "wang@@qq.com"):
        assert clean_email(bad).error == "invalid_email", bad


def test_regions_parse_into_province_city_district():
    c = clean_region("北京市海淀区中关村大街1号")
    assert c.value == ("北京", "北京", "海淀区") and c.display == "北京 / 北京 / 海淀区"
    assert clean_region("北京市").value == clean_region("北京").value == ("北京", "北京", None)
    assert clean_region("广东省深圳市南山区科技园").value == ("广东", "深圳", "南山区")
    assert clean_region("上海浦东新区").value == ("上海", "上海", "浦东新区")
    assert clean_region("新疆维吾尔自治区乌鲁木齐市天山区").value == ("新疆", "乌鲁木齐", "天山区")
    assert clean_region("火星基地").error == "invalid_region"
    assert clean_region("  ").value is None and clean_region(None).error is None


@pytest.mark.parametrize("typed", ["2024/1/5", "2024-01-05", "2024年1月5日", "2024.1.5", "20240105", "2024-1-5 09:30",
                                   "２０２４／１／５", 45296, 45296.0, "45296", datetime(2024, 1, 5, 9, 30), date(2024, 1, 5)])
def test_dates_in_the_forms_people_type(typed):
    c = clean_date(typed)
    assert c.value == date(2024, 1, 5) and c.display == "2024-01-05" and c.error is None


def test_excel_serials_and_invalid_dates():
    assert clean_date(1).value == date(1900, 1, 1)
    assert clean_date(61).value == date(1900, 3, 1)  # past Excel's phantom 1900-02-29
    assert clean_date(44927).value == date(2023, 1, 1)
    assert clean_date("2024-01-05").changed is False and clean_date("2024/1/5").changed is True
    for bad in ("2024-02-30", "明天", "13/13/2024", -5, "2024"):
        assert clean_date(bad).error == "invalid_date", bad


@pytest.mark.parametrize("typed,value", [("1.2万", "12000"), ("¥12,000", "12000"), ("12k", "12000"), ("12K", "12000"),
                                          ("￥１２，０００", "12000"), ("12000元", "12000"), ("3亿", "300000000"),
                                          ("1,234.5", "1234.5"), (" 8 千 ", "8000"), ("RMB 500", "500"), (12000, "12000"),
                                          ("-300", "-300"), ("(1,200)", "-1200"), ("0.5w", "5000")])
def test_amounts(typed, value):
    c = clean_amount(typed)
    assert c.value == Decimal(value).quantize(Decimal("0.01")) and c.error is None
    assert c.display == f"{Decimal(value):.2f}"


def test_invalid_amounts():
    for bad in ("abc", "12,34", "1.2.3万", "万", "12$k"):
        assert clean_amount(bad).error == "invalid_amount", bad
    assert clean_amount("12000.00").changed is False


def test_full_width_and_stray_spaces_folded():
    c = clean_text("　ＡＢＣ　　科技  有限公司 ")
    assert c.value == "ABC 科技 有限公司" and c.changed
    assert clean_text("北京") == Cleaned("北京", "北京", False, None)
    assert clean_text("   ").value is None and clean_text(None) == Cleaned(None, None, False, None)


def test_company_key_strips_suffixes_and_regions():
    assert normalize_company("星辰科技（北京）有限公司") == normalize_company("星辰科技股份有限公司") == "星辰科技"
    from kith.dedup.engine import company_key

    assert company_key("北京市星辰科技有限公司") == company_key("星辰科技(北京)") == "星辰科技"


def test_pinyin_is_pypinyins_lazy_pinyin_with_cached_segments():
    from pypinyin import Style, lazy_pinyin

    from kith.core.normalize import lazy_pinyin_normal, pinyin_forms

    texts = ["重庆银行股份有限公司", "长沙市长", "银行行长", "乐乐音乐", "曾经的曾先生", "朝阳朝霞", "都是成都",
             "Xiaomi小米 科技（北京）", "ABC 公司 123", "〇一二", "㐀㐁 test", "ｆｕｌｌ宽度１２３", "", "abc", "单单单"]
    for text in texts + texts[::-1]:  # the second pass comes from the per-segment cache
        assert lazy_pinyin_normal(text) == lazy_pinyin(text, style=Style.NORMAL, errors="ignore"), text
    assert pinyin_forms("重庆银行") == ("chongqingyinhang", "cqyh")
