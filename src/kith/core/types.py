"""Annotated field types that validate and normalise as people type (errors carry Kith's codes)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import re

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from kith.core.normalize import InvalidPhone, fold, normalize_email, normalize_phone


# NUL and lone surrogates cannot be stored (PostgreSQL refuses NUL, UTF-8 refuses surrogates)
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
MAX_ID = 2**63 - 1


def clean_str(value: str) -> str:
    if _BAD_CHARS.search(value):
        raise PydanticCustomError("invalid", "invalid characters")
    return value


def _text(max_len: int, required: bool):
    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise PydanticCustomError("invalid_type", "must be a string")
        value = fold(value)
        if _BAD_CHARS.search(value):
            raise PydanticCustomError("invalid", "invalid characters")
        if required and not value:
            raise PydanticCustomError("required", "required")
        if len(value) > max_len:
            raise PydanticCustomError("too_long", "at most {max} characters", {"max": max_len})
        return value or None

    return check


def _long_text(max_len: int):
    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise PydanticCustomError("invalid_type", "must be a string")
        if _BAD_CHARS.search(value):
            raise PydanticCustomError("invalid", "invalid characters")
        value = value.strip()
        if len(value) > max_len:
            raise PydanticCustomError("too_long", "at most {max} characters", {"max": max_len})
        return value

    return check


def _phone(mobile: bool):
    def check(value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise PydanticCustomError("invalid_mobile" if mobile else "invalid_phone", "invalid phone")
        try:
            return normalize_phone(value, mobile=mobile)
        except InvalidPhone as exc:
            raise PydanticCustomError(exc.code, "invalid phone number") from None

    return check


def _email(value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 254:
        raise PydanticCustomError("invalid_email", "invalid e-mail")
    try:
        return normalize_email(value)
    except ValueError:
        raise PydanticCustomError("invalid_email", "invalid e-mail") from None


def _money(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise PydanticCustomError("invalid_number", "not a number")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise PydanticCustomError("invalid_number", "not a number") from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e16"):
        raise PydanticCustomError("invalid_number", "not a number")
    if amount < 0:
        raise PydanticCustomError("not_positive", "must not be negative")
    return amount.quantize(Decimal("0.01"))


def _aware(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        if value.year < 1900 or value.year > 9000:
            raise PydanticCustomError("invalid_datetime", "out of range")
    return value


Name = Annotated[str, BeforeValidator(_text(200, True)), Field(min_length=1, max_length=200)]
PersonName = Annotated[str, BeforeValidator(_text(100, True)), Field(min_length=1, max_length=100)]
ShortText = Annotated[str | None, BeforeValidator(_text(100, False))]
Text255 = Annotated[str | None, BeforeValidator(_text(255, False))]
Text500 = Annotated[str | None, BeforeValidator(_text(500, False))]
LongText = Annotated[str | None, BeforeValidator(_long_text(10000))]
RequiredLongText = Annotated[str, BeforeValidator(_long_text(10000)), Field(min_length=1)]
Phone = Annotated[str | None, BeforeValidator(_phone(False)), Field(description="any phone; stored in E.164")]
Mobile = Annotated[str | None, BeforeValidator(_phone(True)), Field(description="mainland mobile (11 digits) or international; stored in E.164")]
Email = Annotated[str | None, BeforeValidator(_email)]
Money = Annotated[Decimal | None, BeforeValidator(_money), PlainSerializer(lambda v: None if v is None else f"{v:.2f}", return_type=str | None)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
SafeStr = Annotated[str, AfterValidator(clean_str)]
