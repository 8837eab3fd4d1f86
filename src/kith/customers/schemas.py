from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kith.core.types import AwareDatetime, Email, LongText, Name, Phone, ShortText, Text255, Text500, RefId

Level = Literal["A", "B", "C", "D"]
Status = Literal["potential", "active", "inactive", "lost"]


class UserRef(BaseModel):
    id: int
    display_name: str | None = None


class TagRef(BaseModel):
    id: int
    name: str
    color: str


class CustomerBase(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    industry: ShortText = None
    source: ShortText = None
    level: Level | None = None
    province: ShortText = None
    city: ShortText = None
    district: ShortText = None
    address: Text500 = None
    phone: Phone = None
    email: Email = None
    website: Text255 = None
    description: LongText = None
    next_followup_at: AwareDatetime | None = None
    tags: list[str] | None = Field(None, max_length=50, description="tag names; new names are created when allowed")


class CustomerCreate(CustomerBase):
    """Custom fields go in as cf_<name> keys."""

    name: Name
    status: Status = "potential"
    owner_id: RefId | None = Field(None, description="defaults to the caller; another owner needs the transfer right")


class CustomerUpdate(CustomerBase):
    name: Name | None = None
    status: Status | None = None
    version: int | None = Field(None, description="the version read; alternative to If-Match")


class CustomerOut(BaseModel):
    """Fields hidden from the caller are absent. Custom fields appear as cf_<name>."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str
    industry: str | None = None
    source: str | None = None
    level: str | None = None
    status: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    phone: str | None = None
    phone_display: str | None = None
    email: str | None = None
    website: str | None = None
    description: str | None = None
    last_followup_at: datetime | None = None
    next_followup_at: datetime | None = None
    owner_id: RefId | None = None
    owner: UserRef | None = None
    department_id: RefId | None = None
    in_pool: bool = False
    """True while the customer sits in the public pool (公海); owner_id then names the last owner."""
    pool_entered_at: datetime | None = None
    tags: list[TagRef] = []
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
