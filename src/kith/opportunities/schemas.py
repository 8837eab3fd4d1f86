from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kith.core.types import AwareDatetime, Currency, Money, Name, Text500, RefId
from kith.customers.schemas import TagRef, UserRef

ContactRole = Literal["decision_maker", "buyer", "technical", "influencer", "user", "finance", "other"]


class OpportunityBase(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    amount: Money = None
    currency: Currency = "CNY"
    expected_close_date: date | None = None
    next_action: Text500 = None
    next_action_due: AwareDatetime | None = None
    tags: list[str] | None = Field(None, max_length=50)


class OpportunityCreate(OpportunityBase):
    customer_id: RefId
    name: Name
    pipeline_id: RefId | None = Field(None, description="defaults to the default pipeline")
    stage_id: RefId | None = Field(None, description="defaults to the pipeline's first stage")
    owner_id: RefId | None = None


class OpportunityUpdate(OpportunityBase):
    name: Name | None = None
    currency: Currency | None = None  # type: ignore[assignment]
    stage_id: RefId | None = None
    lost_reason: Text500 = None
    version: int | None = None


class StageMove(BaseModel):
    stage_id: RefId
    next_action: Text500 = None
    next_action_due: AwareDatetime | None = None
    lost_reason: Text500 = None
    version: int | None = Field(None, description="optional: the version read")


class StageRef(BaseModel):
    id: int
    name: str
    name_en: str = ""
    probability: int
    kind: str


class OpportunityOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    customer_id: RefId
    customer_name: str | None = None
    name: str
    amount: str | None = None
    currency: str | None = None
    expected_close_date: date | None = None
    pipeline_id: RefId
    stage_id: RefId
    stage: StageRef | None = None
    status: str
    next_action: str | None = None
    next_action_due: datetime | None = None
    lost_reason: str | None = None
    closed_at: datetime | None = None
    stage_changed_at: datetime | None = None
    owner_id: RefId | None = None
    owner: UserRef | None = None
    tags: list[TagRef] = []
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class ContactLinkIn(BaseModel):
    role: ContactRole = "other"
    note: Text500 = None


class QuoteLineIn(BaseModel):
    product_id: RefId | None = None
    description: Text500 = None
    quantity: Money = Field(None, description="defaults to 1")
    unit_price: Money = None
    discount_percent: Money = None
    note: Text500 = None
    version: int | None = None
