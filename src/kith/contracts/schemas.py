from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kith.core.types import Currency, LongText, Money, Name, ShortText, Text500, RefId
from kith.customers.schemas import UserRef

Status = Literal["draft", "active", "completed", "terminated"]


class ContractBase(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    amount: Money = None
    currency: Currency = "CNY"
    sign_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    description: LongText = None


class ContractCreate(ContractBase):
    customer_id: RefId
    title: Name
    opportunity_id: RefId | None = None
    number: ShortText = Field(None, description="generated (HT-YYYYMMDD-NNNN) when omitted")
    status: Status = "draft"
    owner_id: RefId | None = None


class ContractUpdate(ContractBase):
    title: Name | None = None
    currency: Currency | None = None  # type: ignore[assignment]
    status: Status | None = None
    version: int | None = None


class ContractOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    customer_id: RefId
    customer_name: str | None = None
    opportunity_id: RefId | None = None
    number: str
    title: str
    amount: str | None = Field(None, description="absent for callers without the amount right")
    currency: str | None = None
    sign_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: str
    description: str | None = None
    received_total: str | None = None
    owner_id: RefId | None = None
    owner: UserRef | None = None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class PlanIn(BaseModel):
    due_date: date
    amount: Money = Field(..., description="instalment amount")
    note: Text500 = None


class PaymentIn(BaseModel):
    received_on: date
    amount: Money = Field(..., description="amount received")
    plan_id: RefId | None = None
    method: ShortText = None
    note: Text500 = None
